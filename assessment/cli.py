"""The `flask check` command: validate questions.yaml and the guidance pages."""

from __future__ import annotations

import time
from pathlib import Path

import click
from flask import Flask
from flask import current_app

from assessment.domain import QuestionnaireError
from assessment.domain import load_questionnaire


def init_app(app: Flask) -> None:
    """Register the CLI commands."""
    app.cli.add_command(check)


@click.command("check")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
def check(path: Path | None) -> None:
    """Check a questionnaire file (the app's own by default) and print every mistake."""
    target = path or Path(current_app.config["QUESTIONS_PATH"])
    started = time.perf_counter()
    try:
        questionnaire = load_questionnaire(target, current_app.config["GUIDANCE_DIR"])
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
