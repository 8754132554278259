"""Where a person is in the questionnaire: visible sections, what is missing, where to go next."""

from __future__ import annotations

from flask import flash
from flask import g
from flask import redirect
from flask import session
from flask import url_for
from werkzeug.wrappers import Response

from assessment.domain import Answers
from assessment.domain import Question
from assessment.domain import Questionnaire
from assessment.domain import Section
from assessment.domain import VisiblePath
from assessment.domain import visible_path
from assessment.domain.client_conditions import reads_same_page
from assessment.web.state import state

NO_ANSWERS_MESSAGE = "You have not answered any questions yet. Start here."
MISSING_MESSAGE = "Answer the questions on this page first."


def section_url(section: Section, *, review: bool = False, row: str = "") -> str:
    """Return the URL of a section page (returning to the review page, at a row, after saving, if asked)."""
    return state().prerender.section_url(section.id, review=review, row=row)


def review_url(row: str = "") -> str:
    """Return the review page's URL, at one question's row when given."""
    return url_for("questionnaire.review") + (f"#{row_anchor(row)}" if row else "")


def row_anchor(question_id: str) -> str:
    """Return the id of a question's row on the review page."""
    return f"answer-{question_id}"


def shown_questions(section: Section, path: VisiblePath) -> tuple[Question, ...]:
    """Return the questions the page shows: visible ones, plus those that depend on this page."""
    visible = {q.id for q in path.questions_in(section.id)}
    return tuple(q for q in section.questions if q.id in visible or reads_same_page(q, section))


def require_complete(
    questionnaire: Questionnaire, answers: Answers, path: VisiblePath | None = None
) -> Response | None:
    """Redirect to where the person must go first, or return None when every required answer is in."""
    if not answers:
        # The expiry message (flashed while loading) already explains an empty start.
        if not (getattr(session, "expired", False) or g.get("_gutcheck_expired_noted")):
            flash(NO_ANSWERS_MESSAGE, "info")
        return redirect(url_for("questionnaire.start"))
    # An assessment's path is the same one: the results page passes it rather than work it out twice.
    missing = (path if path is not None else visible_path(questionnaire, answers)).first_missing(answers)
    if missing is not None:
        flash(MISSING_MESSAGE, "info")
        return redirect(section_url(missing))
    return None
