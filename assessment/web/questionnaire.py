"""The questionnaire pages: start, one section per page, review, and clearing the answers."""

from __future__ import annotations

import json
from collections.abc import Mapping

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from markupsafe import Markup
from werkzeug.wrappers import Response

from assessment.domain import Answers
from assessment.domain import AnswerValue
from assessment.domain import Question
from assessment.domain import QuestionType
from assessment.domain import Section
from assessment.domain import VisiblePath
from assessment.domain import display_value
from assessment.domain import parse_answers
from assessment.domain import prune
from assessment.domain import visible_path
from assessment.domain.answers import required_message
from assessment.domain.lengths import LengthRange
from assessment.domain.lengths import path_length_range
from assessment.prerender import ClientCondition
from assessment.prerender import FormValue
from assessment.prerender import QuestionMarkup
from assessment.prerender import csrf_input
from assessment.prerender import field_value
from assessment.web import answers_store
from assessment.web import flow
from assessment.web import forms
from assessment.web import stops
from assessment.web.state import state

bp = Blueprint("questionnaire", __name__)

TOO_LONG_MESSAGE = (
    "Your written answers are too long to keep together. Shorten this answer "
    "(or another long answer on an earlier page)."
)
TOO_LONG_PAGE_MESSAGE = "Your written answers are too long to keep together. Shorten one of them."
CLEARED_MESSAGE = "Your answers have been cleared."
_INDENT, _DEDENT = "\n      ", "\n    "  # each question on its own line, as a template loop writes them


UPLOAD_ACCEPT = ".json,.pdf,application/json,application/pdf"


@bp.get("/")
def start() -> str:
    """Show what the tool is and is not, and the way in."""
    return start_page()


def length_range() -> LengthRange:
    """Return the shortest and longest walk through the questionnaire (worked out once per app)."""
    app_state = state()
    return app_state.lengths.get(lambda: path_length_range(app_state.questionnaire))


def start_page(upload_error: str = "") -> str:
    """Render the start page, with a message about a saved file that could not be used, if any."""
    questionnaire = state().questionnaire
    answers = answers_store.load_answers()
    path = visible_path(questionnaire, answers)
    first = path.sections[0] if path.sections else None
    resume_url = None
    if answers:
        missing = path.first_missing(answers)
        resume_url = flow.section_url(missing) if missing else url_for("questionnaire.review")
    return render_template(
        "questionnaire/start.html",
        first_url=flow.section_url(first) if first else None,
        resume_url=resume_url,
        has_answers=bool(answers),
        length=length_range(),
        upload_error=upload_error,
        upload_accept=UPLOAD_ACCEPT,
    )


@bp.route("/q/<section_id>", methods=["GET", "POST"])
def section(section_id: str) -> Response | str | bytes:
    """Show one section's questions, or save them and go on (post/redirect/get)."""
    questionnaire = state().questionnaire
    current = questionnaire.section(section_id)
    if current is None:
        abort(404)
    answers = answers_store.load_answers()
    # The plain dict behind Answers: the domain and flow look answers up ~100 times per page, and
    # Answers (a Mapping) answers `in` through __getitem__ and a KeyError for each missing one.
    stored = answers.data
    path = visible_path(questionnaire, stored)
    review = bool(request.query_string) and request.args.get("return") == "review"
    # The review row to return to after saving: only one of this page's own question ids.
    row = request.args.get("row", "") if review else ""
    if row and not any(q.id == row for q in current.questions):
        row = ""
    if path.position(current.id) is None:
        # Hidden by an earlier answer: skip ahead to the next section the person does see.
        after = path.next_after(questionnaire.sections, current.id)
        return redirect(flow.section_url(after, review=review) if after else url_for("questionnaire.review"))
    blocker = path.first_missing(stored, before=current.id)
    if blocker is not None:
        flash(flow.MISSING_MESSAGE, "info")
        return redirect(flow.section_url(blocker, review=review))
    if request.method == "POST":
        return _save(current, answers, review, row)
    # A GET validates nothing, so it needs no WTForms form: the stored answers fill the page.
    return _render(current, stored, path, forms.stored_values(current.questions, stored), {}, review, row=row)


def _save(current: Section, answers: Answers, review: bool, row: str = "") -> Response | str | bytes:
    """Validate the post with the domain parser; store and redirect, or show the page with errors."""
    questionnaire = state().questionnaire
    ids = [q.id for q in current.questions]
    raw = {qid: request.form.getlist(qid) for qid in ids}
    # Visibility is worked out again with what was just posted: a question on this page that
    # depends on another one here counts only if its condition holds with the new answer.
    draft = parse_answers(questionnaire, raw, only=ids)
    candidate = answers.merged(draft.answers, replace=ids)
    path = visible_path(questionnaire, candidate)
    visible_ids = [q.id for q in path.questions_in(current.id)]
    result = parse_answers(questionnaire, raw, only=visible_ids)
    errors: dict[str, tuple[str, ...]] = dict(result.errors)
    for question in path.missing_required(candidate):
        if question.section_id == current.id and question.id not in errors:
            errors[question.id] = (required_message(question),)
    page_errors: list[str] = []
    if not errors:
        updated = prune(questionnaire, answers.merged(result.answers, replace=ids))
        try:
            answers_store.save_answers(updated)
        except answers_store.AnswersTooLarge:
            texts = [
                q.id
                for q in path.questions_in(current.id)
                if q.type is QuestionType.TEXT and q.id in result.answers
            ]
            errors = {qid: (TOO_LONG_MESSAGE,) for qid in texts}
            if not errors:
                page_errors.append(TOO_LONG_PAGE_MESSAGE)
        else:
            following = _after_save(updated, current, review, row)
            return redirect(stops.after_save(questionnaire, answers, updated, following))
    urgent = stops.emergency_first(questionnaire, answers, candidate, request.full_path.rstrip("?"))
    if urgent is not None:
        return redirect(urgent)
    # The post is shown again as WTForms reads it (one value of a radio, every ticked box).
    form = forms.form_for(current)(formdata=request.form)
    values = {q.id: field_value(q, form.field(q.id)) for q in current.questions}
    return _render(current, answers, path, values, errors, review, page_errors=page_errors, row=row)


def _after_save(answers: Answers, current: Section, review: bool, row: str = "") -> str:
    """Return where to go after saving: the next visible section, or back to the review (at the
    row that was changed, when it is still shown)."""
    questionnaire = state().questionnaire
    path = visible_path(questionnaire, answers)
    if review:
        missing = path.first_missing(answers)
        if missing:
            return flow.section_url(missing, review=True)
        return flow.review_url(row if row in answers else "")
    following = path.next_section(current.id)
    return flow.section_url(following) if following else url_for("questionnaire.review")


def _render(
    current: Section,
    answers: Mapping[str, AnswerValue],
    path: VisiblePath,
    values: Mapping[str, FormValue],
    errors: Mapping[str, tuple[str, ...]],
    review: bool,
    *,
    page_errors: list[str] | None = None,
    row: str = "",
) -> str | bytes:
    """Render a section page with its progress, its questions (values as the form shows them)
    and any errors, from the HTML pre-rendered at start-up."""
    prerender = state().prerender
    markup = prerender.questions
    shown = flow.shown_questions(current, path)
    parts: list[str] = []
    for q in shown:
        parts += (_INDENT, markup[q.id].render(values.get(q.id), errors.get(q.id, ())), _DEDENT)
    questions = "".join(parts)  # HTML: pre-rendered Markup, filled with escaped values
    summary = _error_summary(markup, shown, errors, page_errors or [])
    known = _known_elsewhere(prerender.conditions, current, shown, answers)
    # Made once per process for every variant: only the questionnaire decides them.
    previous = None if review else path.previous_section(current.id)
    nav = prerender.section_nav((current.id, previous.id if previous else "", review, row))
    page = {
        "csrf_input": csrf_input(),
        "known": json.dumps(known, separators=(",", ":"), ensure_ascii=False) if known else "",
        "questions": Markup(questions),
    }
    joined = None if summary else prerender.section_page((current.id, review, bool(known)), nav, page)
    if joined is not None:
        return joined
    return render_template(
        "questionnaire/section.html", section=current, summary=summary, review=review, **nav.values, **page
    )


def _known_elsewhere(
    conditions: Mapping[str, ClientCondition],
    current: Section,
    shown: tuple[Question, ...],
    answers: Mapping[str, AnswerValue],
) -> dict[str, FormValue]:
    """Answers from other sections that this page's conditions read, as the form shows them."""
    here = {q.id for q in current.questions}
    outside = {ref for q in shown if q.id in conditions for ref in conditions[q.id].reads} - here
    return {qid: forms.form_value(answers[qid]) for qid in sorted(outside) if qid in answers}


def _error_summary(
    markup: Mapping[str, QuestionMarkup],
    shown: tuple[Question, ...],
    errors: Mapping[str, tuple[str, ...]],
    page_errors: list[str],
) -> list[dict[str, str]]:
    """Return the error summary's entries, each linked to its question's first input."""
    # A missing answer's message names its question; any other message is told which question.
    summary = [
        {
            "target": markup[q.id].first_input_id,
            "message": message if message == required_message(q) else f"{q.label} \u2013 {message}",
        }
        for q in shown
        for message in errors.get(q.id, ())
    ]
    return summary + [{"target": "main-content", "message": message} for message in page_errors]


@bp.get("/review")
def review() -> Response | str:
    """List the answers given, one collapsible summary list per section, each row with a Change
    link that returns to that row; questions left blank are counted, not listed."""
    questionnaire = state().questionnaire
    answers = answers_store.load_answers()
    blocked = flow.require_complete(questionnaire, answers)
    if blocked is not None:
        return blocked
    path = visible_path(questionnaire, answers)
    groups = []
    for current in path.sections:
        rows = []
        skipped = 0
        for question in path.questions_in(current.id):
            value: AnswerValue | None = answers.get(question.id)
            if value is None:
                skipped += 1
                continue
            change_url = flow.section_url(current, review=True, row=question.id)
            rows.append(
                {
                    "question": question,
                    "anchor": flow.row_anchor(question.id),
                    "value": display_value(question, value),
                    "change_url": f"{change_url}#{forms.first_input_id(question)}",
                }
            )
        groups.append(
            {
                "section": current,
                "rows": rows,
                "skipped": skipped,
                "change_url": flow.section_url(current, review=True),
            }
        )
    return render_template("questionnaire/review.html", groups=groups)


@bp.get("/clear")
def clear_confirm() -> str:
    """Ask before forgetting the answers: a confirmation page whose button posts to /clear."""
    questionnaire = state().questionnaire
    answers = answers_store.load_answers()
    complete = bool(answers) and visible_path(questionnaire, answers).first_missing(answers) is None
    back_url = url_for("results.results") if complete else url_for("questionnaire.start")
    return render_template("questionnaire/clear.html", back_url=back_url, has_answers=bool(answers))


@bp.post("/clear")
def clear() -> Response:
    """Forget every answer and go back to the start page (the confirmation page and the stop
    pages' "Leave and clear my answers" both post here: it clears at once)."""
    answers_store.clear()
    flash(CLEARED_MESSAGE, "info")
    return redirect(url_for("questionnaire.start"))


@bp.get("/favicon.ico")
def favicon() -> Response:
    """Serve the icon browsers ask for at the site's root."""
    return current_app.send_static_file("favicon.ico")
