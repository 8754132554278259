"""The questionnaire pages: start, one section per page, review, and clearing the answers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint
from flask import Flask
from flask import abort
from flask import current_app
from flask import flash
from flask import get_flashed_messages
from flask import has_request_context
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from markupsafe import escape
from werkzeug.wrappers import Response

from assessment.domain import Answers
from assessment.domain import AnswerValue
from assessment.domain import QuestionType
from assessment.domain import Section
from assessment.domain import VisiblePath
from assessment.domain import display_value
from assessment.domain import parse_answers
from assessment.domain import prune
from assessment.domain import visible_path
from assessment.domain.answers import required_message
from assessment.domain.client_conditions import answer_refs
from assessment.domain.client_conditions import client_condition
from assessment.domain.lengths import LengthRange
from assessment.domain.lengths import path_length_range
from assessment.web import answers_store
from assessment.web import flow
from assessment.web import forms
from assessment.web import stops
from assessment.web.field_views import FormValue
from assessment.web.field_views import Layout
from assessment.web.field_views import Pieces
from assessment.web.field_views import QuestionMarkup
from assessment.web.field_views import compile_page
from assessment.web.field_views import compile_question
from assessment.web.field_views import condition_cue
from assessment.web.field_views import field_value
from assessment.web.field_views import grid_rows

bp = Blueprint("questionnaire", __name__)

TOO_LONG_MESSAGE = (
    "Your written answers are too long to keep together. Shorten this answer "
    "(or another long answer on an earlier page)."
)
TOO_LONG_PAGE_MESSAGE = "Your written answers are too long to keep together. Shorten one of them."
CLEARED_MESSAGE = "Your answers have been cleared."


@dataclass(frozen=True, slots=True)
class ClientCondition:
    """A same-page visible_if as JSON for the browser script, and the answers it reads."""

    json: str
    reads: frozenset[str]


def init_app(app: Flask) -> None:
    """Translate every same-page condition for the browser once, build every form once, and
    render every question's HTML once (field_views), so a request only fills in the person's values.

    Building the forms at start-up also surfaces a reserved question id before any request.
    """
    questionnaire = app.extensions["questionnaire"]
    conditions: dict[str, ClientCondition] = {}
    cues: dict[str, str] = {}
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
                cues[question.id] = condition_cue(condition, questionnaire.questions)
    app.extensions["gutcheck_conditions"] = conditions
    macro = app.jinja_env.get_template("macros/fields.html").module.render_question  # type: ignore[attr-defined]
    markup: dict[str, QuestionMarkup] = {}
    with app.app_context():
        for section in questionnaire.sections:
            # Bound only to read each field's choices, id and attributes: no request, no CSRF.
            form = forms.form_for(section)(formdata=None, meta={"csrf": False})
            rows = grid_rows(section.questions)
            for question in section.questions:
                shown_if = conditions[question.id].json if question.id in conditions else ""
                layout = Layout(cue=cues.get(question.id, ""), row=question.id in rows)
                field = form.field(question.id)
                markup[question.id] = compile_question(question, field, shown_if, macro, layout)
    app.extensions["gutcheck_question_markup"] = markup
    app.extensions[_SHARED_URLS] = {}
    app.jinja_env.globals["page_links"] = page_links


# url_for costs ~5 us and a section page has seven links that are the same for everyone: they are
# built once per process. Only links made from the app's own values (never from a request or a
# person) are kept, and only when a URL cannot depend on the request: no SCRIPT_NAME (the app at
# the site's root), no SERVER_NAME and no url_defaults. Otherwise url_for runs every time.
_SHARED_URLS = "gutcheck_shared_urls"


def _reusable(app: Flask) -> bool:
    """Say whether a URL built for this request is the same for every request."""
    return not (request.script_root or app.config["SERVER_NAME"] or any(app.url_default_functions.values()))


def _shared_url(app: Flask, reusable: bool, endpoint: str, **values: Any) -> str:
    """Return url_for(endpoint, **values), built once per process when `reusable` (see above)."""
    if not reusable:
        return url_for(endpoint, **values)
    urls: dict[tuple[Any, ...], Any] = app.extensions[_SHARED_URLS]
    key = (endpoint, *values.items())
    found: str | None = urls.get(key)
    if found is None:
        found = urls[key] = url_for(endpoint, **values)
    return found


def _section_url(app: Flask, reusable: bool, section: Section, *, review: bool = False, row: str = "") -> str:
    """Return flow.section_url(section, review=review, row=row), through _shared_url."""
    if review:
        extra = {"return": "review", "row": row} if row else {"return": "review"}
        return _shared_url(app, reusable, "questionnaire.section", section_id=section.id, **extra)
    return _shared_url(app, reusable, "questionnaire.section", section_id=section.id)


@dataclass(frozen=True, slots=True)
class PageLinks:
    """The links on every page (base.html)."""

    css: str
    js: str
    icon: str
    start: str
    guidance: str
    about: str  # '' without an about page


def page_links(about_slug: str | None) -> PageLinks:
    """Return the links on every page (one call per page), built once per process when they can be."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    reusable = has_request_context() and _reusable(app)
    if reusable:
        found: PageLinks | None = app.extensions[_SHARED_URLS].get(("page_links", about_slug))
        if found is not None:
            return found
    links = PageLinks(
        css=url_for("static", filename="css/app.css"),
        js=url_for("static", filename="js/app.js"),
        icon=url_for("static", filename="favicon.svg"),
        start=url_for("questionnaire.start"),
        guidance=url_for("guidance.index"),
        about=url_for("guidance.page", slug=about_slug) if about_slug else "",
    )
    if reusable:
        app.extensions[_SHARED_URLS][("page_links", about_slug)] = links
    return links


UPLOAD_ACCEPT = ".json,.pdf,application/json,application/pdf"


@bp.get("/")
def start() -> str:
    """Show what the tool is and is not, and the way in."""
    return start_page()


_LENGTHS = "gutcheck_length_range"


def length_range() -> LengthRange:
    """Return the shortest and longest walk through the questionnaire (worked out once per app)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    found: LengthRange | None = app.extensions.get(_LENGTHS)
    if found is None:
        found = app.extensions[_LENGTHS] = path_length_range(app.extensions["questionnaire"])
    return found


def start_page(upload_error: str = "") -> str:
    """Render the start page, with a message about a saved file that could not be used, if any."""
    questionnaire = answers_store.questionnaire()
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
def section(section_id: str) -> Response | str:
    """Show one section's questions, or save them and go on (post/redirect/get)."""
    questionnaire = answers_store.questionnaire()
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


def _save(current: Section, answers: Answers, review: bool, row: str = "") -> Response | str:
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
    # The post is shown again as WTForms reads it (one value of a radio, every ticked box).
    form = forms.form_for(current)(formdata=request.form)
    values = {q.id: field_value(q, form.field(q.id)) for q in current.questions}
    return _render(current, answers, path, values, errors, review, page_errors=page_errors, row=row)


def _after_save(answers: Answers, current: Section, review: bool, row: str = "") -> str:
    """Return where to go after saving: the next visible section, or back to the review (at the
    row that was changed, when it is still shown)."""
    questionnaire = answers_store.questionnaire()
    path = visible_path(questionnaire, answers)
    if review:
        missing = path.first_missing(answers)
        if missing:
            return flow.section_url(missing, review=True)
        return flow.review_url(row if row in answers else "")
    following = path.next_section(current.id)
    return flow.section_url(following) if following else url_for("questionnaire.review")


# The section page around its questions is the same for everyone but for a few values, so it too is
# rendered once per process (at the first section page: the app's context processors must be in
# place), through the same templates, with a marker for each value that changes (SHELL_HOLES). A
# GET without messages or errors then joins the pieces; anything else (a flashed message, an error
# summary, an app not at the site's root) goes through render_template. Each page is rendered
# twice, for different requests, and kept only when both agree: a template that used the request,
# or anything random, keeps the slow way. SECTION_PAGE_SHELLS = False turns this off.
_SHELLS = "gutcheck_section_shells"
_INDENT, _DEDENT = "\n      ", "\n    "
SHELL_HOLES = ("step", "steps", "back_url", "back_text", "action", "csrf_input", "questions")
_SHELL_REQUESTS = (("http://localhost/", "/q/"), ("http://shell-check.invalid/", "/"))

ShellKey = tuple[str, bool, bool]
"""A section page's variant: section id, returning to the review page, with data-known."""


def _build_shells(app: Flask) -> dict[ShellKey, Pieces]:
    """Render every section page variant with markers (see above); return those that can be used."""
    shells: dict[ShellKey, Pieces] = {}
    if not app.config.get("SECTION_PAGE_SHELLS", True):
        return shells
    questionnaire = app.extensions["questionnaire"]
    conditions: dict[str, ClientCondition] = app.extensions["gutcheck_conditions"]

    def render(context: dict[str, Any]) -> str:
        return render_template("questionnaire/section.html", **context)

    for current in questionnaire.sections:
        here = {q.id for q in current.questions}
        knows = any(conditions[q.id].reads - here for q in current.questions if q.id in conditions)
        for review in (False, True):
            for known in (False, True) if knows else (False,):
                context = {"section": current, "summary": [], "review": review}
                holes = (*SHELL_HOLES, "known") if known else SHELL_HOLES
                if not known:
                    context["known"] = ""
                built = []
                for base_url, path in _SHELL_REQUESTS:
                    # A fresh app context too: nothing reaches the g of the request being served.
                    with app.app_context(), app.test_request_context(path, base_url=base_url):
                        built.append(compile_page(render, context, holes))
                if built[0] == built[1]:
                    shells[(current.id, review, known)] = built[0]
    return shells


def _shell(app: Flask, key: ShellKey, reusable: bool) -> Pieces | None:
    """Return the pre-rendered page for this request, if it can be used."""
    shells: dict[ShellKey, Pieces] | None = app.extensions.get(_SHELLS)
    if shells is None:
        shells = app.extensions[_SHELLS] = _build_shells(app)
    shell = shells.get(key)
    # get_flashed_messages() keeps what it finds for this request, so the template still shows it.
    if shell is None or not reusable or get_flashed_messages():
        return None
    return shell


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
) -> str:
    """Render a section page with its progress, its questions (values as the form shows them)
    and any errors, from the HTML pre-rendered at start-up."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    conditions: dict[str, ClientCondition] = app.extensions["gutcheck_conditions"]
    markup: dict[str, QuestionMarkup] = app.extensions["gutcheck_question_markup"]
    shown = flow.shown_questions(current, path)
    # Each question on its own indented line, as a loop in the template would write them.
    parts: list[str] = []
    for q in shown:
        parts += (_INDENT, markup[q.id].render(values.get(q.id), errors.get(q.id, ())), _DEDENT)
    questions = "".join(parts)  # HTML: pre-rendered Markup, filled with escaped values
    # A missing answer's message names its question; any other message is told which question.
    summary = [
        {
            "target": markup[q.id].first_input_id,
            "message": message if message == required_message(q) else f"{q.label} \u2013 {message}",
        }
        for q in shown
        for message in errors.get(q.id, ())
    ]
    summary += [{"target": "main-content", "message": message} for message in page_errors or []]
    here = {q.id for q in current.questions}
    outside = {ref for q in shown if q.id in conditions for ref in conditions[q.id].reads} - here
    known = {qid: forms.form_value(answers[qid]) for qid in sorted(outside) if qid in answers}
    step, steps = flow.step_of(answers_store.questionnaire(), current)
    previous = path.previous_section(current.id)
    reusable = _reusable(app)
    if review:
        back_url, back_text = _shared_url(app, reusable, "questionnaire.review"), "Back to your answers"
    elif previous is not None:
        back_url, back_text = _section_url(app, reusable, previous), "Back"
    else:
        back_url, back_text = _shared_url(app, reusable, "questionnaire.start"), "Back"
    page: dict[str, Any] = {
        "step": step,
        "steps": steps,
        "back_url": back_url,
        "back_text": back_text,
        "action": _section_url(app, reusable, current, review=review, row=row),
        "csrf_input": _csrf_input(app),
        "known": json.dumps(known, separators=(",", ":"), ensure_ascii=False) if known else "",
    }
    shell = None if summary else _shell(app, (current.id, review, bool(known)), reusable)
    if shell is not None:
        filled: dict[str, str] = {k: v if isinstance(v, Markup) else escape(v) for k, v in page.items()}
        filled["questions"] = questions
        return shell.fill(filled)
    return render_template(
        "questionnaire/section.html",
        section=current,
        summary=summary,
        review=review,
        questions=Markup(questions),
        **page,
    )


def _csrf_input(app: Flask) -> Markup:
    """Return the hidden CSRF input, as FlaskForm would write it ('' when CSRF is off)."""
    config = app.config
    if not config.get("WTF_CSRF_ENABLED", True):
        return Markup("")
    field = config.get("WTF_CSRF_FIELD_NAME") or "csrf_token"
    name = escape(field)
    # Flask-WTF's own token: a hand-made signer would save ~30 us but duplicate security code.
    token = escape(generate_csrf())
    return Markup(f'<input id="{name}" name="{name}" type="hidden" value="{token}">')


@bp.get("/review")
def review() -> Response | str:
    """List the answers given, one collapsible summary list per section, each row with a Change
    link that returns to that row; questions left blank are counted, not listed."""
    questionnaire = answers_store.questionnaire()
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
    questionnaire = answers_store.questionnaire()
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
