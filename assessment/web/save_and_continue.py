"""Answers the person can carry: download them as answers.json, and continue from a saved file.

A saved file (answers.json, or the summary PDF with answers.json inside) is read in memory only
(see in_memory_request.py), parsed by the same strict parser as the forms, and replaces the session's answers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from collections.abc import Sequence

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import flash
from flask import redirect
from flask import request
from flask import session
from flask import url_for
from werkzeug.wrappers import Response as BaseResponse

from assessment.domain import Answers
from assessment.domain import Assessment
from assessment.domain import Questionnaire
from assessment.domain import assess
from assessment.domain.answers import clean_text
from assessment.domain.answers_file import AnswerDates
from assessment.domain.answers_file import SavedAnswers
from assessment.domain.answers_file import SavedFileError
from assessment.domain.answers_file import answers_document
from assessment.domain.answers_file import restore
from assessment.report.embedded_answers import read_saved_file
from assessment.web import answers_store
from assessment.web import flow
from assessment.web.questionnaire import start_page
from assessment.web.state import state

bp = Blueprint("portable", __name__)

FIELD = "saved_file"
NOTHING_TO_SAVE = "There are no answers to save yet. Start the questionnaire first."
NO_FILE = "Choose a file to continue from: the answers file (.json) or the summary PDF from this tool."
OTHER_QUESTIONNAIRE = (
    "This file was made with a different questionnaire (\u201c{id}\u201d), "
    "so its answers cannot be used here."
)
NOTHING_USABLE = "None of the answers in this file could be used, so nothing was changed."
TOO_LONG = (
    "The written answers in this file are too long to keep in this browser, so nothing was changed. "
    "Start again, or choose another file."
)
LOADED = "We loaded the answers from your file."
OLDER_VERSION = "This file was made with version {version}; we kept the answers that still fit."
DROPPED = "Some answers in the file could not be used and were left out: {items}."
DROPPED_SHORT = "Some answers in the file could not be used and were left out."
# The notes travel in the session cookie to the next page: keep them short.
MAX_LISTED = 6
MAX_NAME = 80


@bp.get("/answers.json")
def download() -> BaseResponse:
    """Download the session's visible answers as answers.json, to continue later."""
    return answers_download(answers_document, "application/json", "json")


def answers_download(
    document: Callable[[Assessment, AnswerDates, dt.date], str | bytes], mimetype: str, extension: str
) -> BaseResponse:
    """Send the session's answers as a file document writes (today's date in its name), not
    cached; back to the start page with a notice when there is nothing to save."""
    answers = answers_store.load_answers()
    if not answers:
        flash(NOTHING_TO_SAVE, "info")
        return redirect(url_for("questionnaire.start"))
    today = dt.date.today()
    dates = answers_store.answer_dates()
    body = document(assess(state().questionnaire, answers), dates, today)
    response = Response(body, mimetype=mimetype)
    name = f"gut-check-answers-{today.isoformat()}.{extension}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/continue")
def continue_from_file() -> BaseResponse | tuple[str, int]:
    """Restore answers from an uploaded answers.json or summary PDF, then go where the person left off."""
    upload = request.files.get(FIELD)
    if upload is None:
        return start_page(NO_FILE), 400
    limit = int(current_app.config["MAX_UPLOAD_BYTES"])
    data = upload.stream.read(limit + 1)
    if not data and not upload.filename:
        return start_page(NO_FILE), 400
    if len(data) > limit:
        return start_page(_too_large(limit)), 413
    questionnaire = state().questionnaire
    try:
        saved = read_saved_file(data, questionnaire=questionnaire)
    except SavedFileError as exc:
        return start_page(str(exc)), 400
    if saved.questionnaire_id != questionnaire.meta.id:
        return start_page(OTHER_QUESTIONNAIRE.format(id=_short(saved.questionnaire_id))), 400
    restored = restore(questionnaire, saved)
    if not restored.answers:
        return start_page(NOTHING_USABLE), 400
    dates = saved.dates(dt.date.today())
    for full in (True, False):
        notes = _notes(questionnaire, saved, restored.dropped, full=full) + list(restored.asked_again)
        if _save_with_notes(restored.answers, notes, dates):
            break
    else:
        return start_page(TOO_LONG), 400
    target = restored.first_to_ask()
    return redirect(flow.section_url(target) if target else url_for("questionnaire.review"))


def _notes(
    questionnaire: Questionnaire, saved: SavedAnswers, dropped: Sequence[tuple[str, str]], *, full: bool
) -> list[str]:
    """Return the messages for the next page: loaded, older version, and what was left out."""
    notes = [LOADED]
    if saved.version != questionnaire.meta.version:
        notes.append(OLDER_VERSION.format(version=_short(saved.version, 20)))
    if dropped and full:
        items = [f"\u201c{_short(name)}\u201d ({why})" for name, why in dropped[:MAX_LISTED]]
        if len(dropped) > MAX_LISTED:
            items.append(f"and {len(dropped) - MAX_LISTED} more")
        notes.append(DROPPED.format(items="; ".join(items)))
    elif dropped:
        notes.append(DROPPED_SHORT)
    return notes


def _save_with_notes(answers: Answers, notes: list[str], dates: AnswerDates) -> bool:
    """Store the answers with the notes flashed; undo the notes and say False when they do not fit."""
    before = list(session.get("_flashes", []))
    for note in notes:
        flash(note, "info")
    try:
        answers_store.save_answers(answers, dates)  # measures the cookie with the notes in it
    except answers_store.AnswersTooLarge:
        if before:
            session["_flashes"] = before
        else:
            session.pop("_flashes", None)
        return False
    return True


def _short(text: str, limit: int = MAX_NAME) -> str:
    """Return text from a file made safe to show: no control characters, at most `limit` characters."""
    cleaned = clean_text(text, multiline=False)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "\u2026"


def _too_large(limit: int) -> str:
    """Say the file is too large, with the limit in plain words."""
    size = f"{limit / (1024 * 1024):g} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"
    return (
        f"This file is larger than {size}. The answers file and the summary PDF that this tool makes "
        "are much smaller: please choose one of those."
    )
