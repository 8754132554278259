"""The `flask check` command: validate questions.yaml and the guidance pages."""

from __future__ import annotations

import time
from pathlib import Path

import click
from flask import Config
from flask import Flask

from assessment.config import DEFAULTS
from assessment.config import ROOT
from assessment.domain import QuestionnaireError
from assessment.domain import load_questionnaire


def init_app(app: Flask) -> None:
    """Register the commands on the app too (`flask check` itself is found through the entry point)."""
    app.cli.add_command(check)


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
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo(f"{len(exc.problems)} problem(s) found.", err=True)
        raise SystemExit(1) from None
    elapsed = (time.perf_counter() - started) * 1000
    n_questions = sum(len(s.questions) for s in questionnaire.sections)
    click.echo(
        f"OK: {len(questionnaire.sections)} sections, {n_questions} questions, "
        f"{len(questionnaire.scores)} scores, {len(questionnaire.rules)} rules ({elapsed:.0f} ms)"
    )
