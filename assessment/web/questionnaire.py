"""The questionnaire pages: start, one section per page, review, and clearing the answers."""

from __future__ import annotations

import json
from dataclasses import dataclass

from flask import Blueprint
from flask import Flask
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from werkzeug.wrappers import Response

from assessment.domain import Answers
from assessment.domain import AnswerValue
from assessment.domain import QuestionType
from assessment.domain import Section
from assessment.domain import VisiblePath
from assessment.domain import display_value
from assessment.domain import parse_answers
from assessment.domain import visible_path
from assessment.domain.client_conditions import answer_refs
from assessment.domain.client_conditions import client_condition
from assessment.web import answers_store
from assessment.web import flow
from assessment.web import forms
from assessment.web.field_views import question_view

bp = Blueprint("questionnaire", __name__)

TOO_LONG_MESSAGE = (
    "Your written answers are too long to keep together. Please shorten this answer "
    "(or another long answer on an earlier page)."
)
TOO_LONG_PAGE_MESSAGE = "Your written answers are too long to keep together. Please shorten one of them."
CLEARED_MESSAGE = "Your answers have been cleared."


@dataclass(frozen=True, slots=True)
class ClientCondition:
    """A same-page visible_if as JSON for the browser script, and the answers it reads."""

    json: str
    reads: frozenset[str]


def init_app(app: Flask) -> None:
    """Translate every same-page condition for the browser once, and build every form once.

    Building the forms at start-up also surfaces a reserved question id before any request.
    """
    questionnaire = app.extensions["questionnaire"]
    conditions: dict[str, ClientCondition] = {}
    for section in questionnaire.sections:
        forms.form_for(section)
        for question in section.questions:
            if question.visible_if is None or not flow.reads_same_page(question, section):
                continue
            condition = client_condition(question.visible_if, questionnaire.questions)
            if condition is not None:
                conditions[question.id] = ClientCondition(
                    json.dumps(condition, separators=(",", ":")), frozenset(answer_refs(condition))
                )
    app.extensions["gutcheck_conditions"] = conditions


UPLOAD_ACCEPT = ".json,.pdf,application/json,application/pdf"


@bp.get("/")
def start() -> str:
    """Show what the tool is and is not, and the way in."""
    return start_page()


def start_page(upload_error: str = "") -> str:
    """Render the start page, with a message about a saved file that could not be used, if any."""
    questionnaire = answers_store.questionnaire()
    answers = answers_store.load_answers()
    path = visible_path(questionnaire, answers)
    first = path.sections[0] if path.sections else None
    resume_url = None
    if answers:
        missing = flow.first_missing(path, answers)
        resume_url = flow.section_url(missing) if missing else url_for("questionnaire.review")
    return render_template(
        "questionnaire/start.html",
        first_url=flow.section_url(first) if first else None,
        resume_url=resume_url,
        has_answers=bool(answers),
        sections=len(path.sections),
        upload_error=upload_error,
        upload_accept=UPLOAD_ACCEPT,
    )


@bp.route("/q/<section_id>", methods=["GET", "POST"])
def section(section_id: str) -> Response | str:
    """Show one section's questions, or save them and go on (post/redirect/get)."""
    questionnaire = answers_store.questionnaire()
    current = questionnaire.section(section_id)
    if current is None:
        abort(404)
    answers = answers_store.load_answers()
    path = visible_path(questionnaire, answers)
    review = request.args.get("return") == "review"
    if flow.position(path, current.id) is None:
        # Hidden by an earlier answer: skip ahead to the next section the person does see.
        after = flow.next_visible_after(questionnaire, path, current)
        return redirect(flow.section_url(after, review=review) if after else url_for("questionnaire.review"))
    blocker = flow.first_missing(path, answers)
    if blocker is not None and _before(path, blocker, current):
        flash(flow.MISSING_MESSAGE, "info")
        return redirect(flow.section_url(blocker, review=review))
    form_class = forms.form_for(current)
    if request.method == "POST":
        return _save(current, answers, form_class, review)
    form = form_class(formdata=None, data=forms.initial_data(current.questions, answers))
    return _render(current, answers, path, form, review)


def _before(path: VisiblePath, first: Section, second: Section) -> bool:
    """Say whether a visible section comes before another on the person's path."""
    a, b = flow.position(path, first.id), flow.position(path, second.id)
    return a is not None and b is not None and a < b


def _save(
    current: Section, answers: Answers, form_class: type[forms.SectionForm], review: bool
) -> Response | str:
    """Validate the post with the domain parser; store and redirect, or show the page with errors."""
    questionnaire = answers_store.questionnaire()
    ids = [q.id for q in current.questions]
    raw = {qid: request.form.getlist(qid) for qid in ids}
    # Visibility is worked out again with what was just posted: a question on this page that
    # depends on another one here counts only if its condition holds with the new answer.
    draft = parse_answers(questionnaire, raw, only=ids)
    candidate = answers.merged(draft.answers, replace=ids)
    path = visible_path(questionnaire, candidate)
    visible_ids = [q.id for q in path.questions_in(current.id)]
    result = parse_answers(questionnaire, raw, only=visible_ids, check_required=True)
    errors: dict[str, tuple[str, ...]] = dict(result.errors)
    page_errors: list[str] = []
    if not errors:
        updated = flow.prune(questionnaire, answers.merged(result.answers, replace=ids))
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
            return redirect(_after_save(updated, current, review))
    form = form_class(formdata=request.form)
    forms.set_errors(form, errors)
    return _render(current, answers, path, form, review, page_errors=page_errors)


def _after_save(answers: Answers, current: Section, review: bool) -> str:
    """Return where to go after saving: the next visible section, or back to the review."""
    questionnaire = answers_store.questionnaire()
    path = visible_path(questionnaire, answers)
    if review:
        missing = flow.first_missing(path, answers)
        return flow.section_url(missing, review=True) if missing else url_for("questionnaire.review")
    following = flow.next_section(path, current.id)
    return flow.section_url(following) if following else url_for("questionnaire.review")


def _render(
    current: Section,
    answers: Answers,
    path: VisiblePath,
    form: forms.SectionForm,
    review: bool,
    *,
    page_errors: list[str] | None = None,
) -> str:
    """Render a section page with its progress, its questions and any errors (held by the fields)."""
    conditions: dict[str, ClientCondition] = current_app.extensions["gutcheck_conditions"]
    shown = flow.shown_questions(current, path)
    views = []
    for q in shown:
        field = form.field(q.id)
        condition = conditions[q.id].json if q.id in conditions else ""
        views.append(question_view(q, field, tuple(field.errors), condition))
    summary = [
        {"target": view.first_input_id, "message": f"{view.question.label} \u2013 {message}"}
        for view in views
        for message in view.errors
    ]
    summary += [{"target": "main-content", "message": message} for message in page_errors or []]
    here = {q.id for q in current.questions}
    outside = {ref for q in shown if q.id in conditions for ref in conditions[q.id].reads} - here
    known = {qid: forms.form_value(answers[qid]) for qid in sorted(outside) if qid in answers}
    step = (flow.position(path, current.id) or 0) + 1
    previous = flow.previous_section(path, current.id)
    if review:
        back_url, back_text = url_for("questionnaire.review"), "Back to your answers"
    elif previous is not None:
        back_url, back_text = flow.section_url(previous), "Back"
    else:
        back_url, back_text = url_for("questionnaire.start"), "Back"
    return render_template(
        "questionnaire/section.html",
        section=current,
        form=form,
        questions=views,
        summary=summary,
        step=step,
        steps=len(path.sections),
        back_url=back_url,
        back_text=back_text,
        review=review,
        action=flow.section_url(current, review=review),
        known=json.dumps(known, separators=(",", ":"), ensure_ascii=False) if known else "",
    )


@bp.get("/review")
def review() -> Response | str:
    """List every visible answer, each with a Change link that returns here."""
    questionnaire = answers_store.questionnaire()
    answers = answers_store.load_answers()
    blocked = flow.require_complete(questionnaire, answers)
    if blocked is not None:
        return blocked
    path = visible_path(questionnaire, answers)
    groups = []
    for current in path.sections:
        change_url = flow.section_url(current, review=True)
        rows = []
        for question in path.questions_in(current.id):
            value: AnswerValue | None = answers.get(question.id)
            rows.append(
                {
                    "question": question,
                    "value": display_value(question, value) if value is not None else "",
                    "change_url": f"{change_url}#{forms.first_input_id(question)}",
                }
            )
        groups.append({"section": current, "rows": rows, "change_url": change_url})
    return render_template("questionnaire/review.html", groups=groups)


@bp.post("/clear")
def clear() -> Response:
    """Forget every answer and go back to the start page."""
    answers_store.clear()
    flash(CLEARED_MESSAGE, "info")
    return redirect(url_for("questionnaire.start"))
