"""The `flask check` and `flask fhir-export` commands: validate questions.yaml; write it as FHIR."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import NoReturn

import click
from flask import Config
from flask import Flask

from assessment.config import DEFAULTS
from assessment.config import ROOT
from assessment.domain import QuestionnaireError
from assessment.domain import load_questionnaire
from assessment.fhir import fhir_questionnaire
from assessment.fhir import unexpressed


def init_app(app: Flask) -> None:
    """Register the commands on the app too (`flask check` itself is found through the entry point)."""
    app.cli.add_command(check)
    app.cli.add_command(fhir_export)


def _fail(exc: QuestionnaireError, outcome: str) -> NoReturn:
    """Print every problem to standard error, then their count and outcome, and exit with 1."""
    for problem in exc.problems:
        click.echo(str(problem), err=True)
    click.echo(f"{len(exc.problems)} {outcome}", err=True)
    raise SystemExit(1) from None


def _settings() -> Config:
    """Return the configuration as create_app reads it (defaults, then GUTCHECK_* environment)."""
    config = Config(str(ROOT))
    config.from_mapping(DEFAULTS)
    config.from_prefixed_env("GUTCHECK")
    return config


# Registered as a "flask.commands" entry point (pyproject.toml), so Flask finds it without loading
# the app: the app refuses to start on a broken questionnaire, and that must not stop a check of
# another file. It therefore reads the settings itself rather than through current_app.
@click.command("check")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
def check(path: Path | None) -> None:
    """Check a questionnaire file (the configured one by default) and print every mistake."""
    config = _settings()
    target = path or Path(config["QUESTIONS_PATH"])
    started = time.perf_counter()
    try:
        questionnaire = load_questionnaire(target, config["GUIDANCE_DIR"])
    except QuestionnaireError as exc:
        _fail(exc, "problem(s) found.")
    elapsed = (time.perf_counter() - started) * 1000
    n_questions = sum(len(s.questions) for s in questionnaire.sections)
    click.echo(
        f"OK: {len(questionnaire.sections)} sections, {n_questions} questions, "
        f"{len(questionnaire.scores)} scores, {len(questionnaire.rules)} rules ({elapsed:.0f} ms)"
    )
    # Not mistakes (the app runs them all): conditions and formulas FHIRPath cannot carry, so a
    # FHIR form renderer would always show that question, or have no calculated item for that score.
    for note in unexpressed(questionnaire):
        click.echo(f"note: {note}")


# Also an entry point, for the same reason as `check`: it reads the settings itself.
@click.command("fhir-export")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, allow_dash=True, path_type=Path))
@click.option(
    "--questions",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The questionnaire file (the configured one by default).",
)
def fhir_export(path: Path, questions: Path | None) -> None:
    """Write the questionnaire as a FHIR R4 Questionnaire (JSON) to PATH ('-' for standard output)."""
    config = _settings()
    try:
        source = questions or Path(config["QUESTIONS_PATH"])
        questionnaire = load_questionnaire(source, config["GUIDANCE_DIR"])
    except QuestionnaireError as exc:
        _fail(exc, "problem(s) found; nothing written.")
    text = json.dumps(fhir_questionnaire(questionnaire), ensure_ascii=False, indent=2) + "\n"
    if str(path) == "-":
        click.echo(text, nl=False)
        return
    path.write_text(text, encoding="utf-8")
    meta = questionnaire.meta
    click.echo(f"Wrote the FHIR Questionnaire ({meta.id} {meta.version}) to {path}")
