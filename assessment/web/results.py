"""The results page: urgency first, then scores (chart and table), then guidance cards."""

from __future__ import annotations

from flask import Blueprint
from flask import render_template
from werkzeug.wrappers import Response

from assessment.domain import ACT_SOON
from assessment.domain import FiredRule
from assessment.domain import alarm_report
from assessment.domain import assess
from assessment.domain.scoring import ScoreView
from assessment.web import answers_store
from assessment.web import flow
from assessment.web.state import state

bp = Blueprint("results", __name__)


@bp.get("/results")
def results() -> Response | str | bytes:
    """Show the assessment of the stored answers; redirect when required answers are missing."""
    app_state = state()
    questionnaire = app_state.questionnaire
    answers = answers_store.load_answers()
    assessment = assess(questionnaire, answers)
    blocked = flow.require_complete(questionnaire, answers, assessment.path)
    if blocked is not None:
        return blocked
    # The banner names the highest level among the cards shown, so no card asks for a shorter wait.
    level = assessment.urgency
    acts_soon = level in ACT_SOON
    shown = assessment.shown_rules
    page = {
        "level": level,
        "acts_soon": acts_soon,
        # The alarm list shows only when nothing asks to act soon.
        "alarms": None if acts_soon else alarm_report(assessment),
        "banner": [r for r in shown if r.urgency is level] if acts_soon else [],
        "cards": [r for r in shown if r.urgency is not level] if acts_soon else list(shown),
        "held_back": len(assessment.rules) - len(shown),
        "scores": assessment.scores,
        "pages": questionnaire.guidance,
        "title_of": title_of,
        # When the answers were given (and restored): templates/results/_answers_date.html.
        "dates": answers_store.answer_dates(),
        "meta": questionnaire.meta,
    }
    joined = app_state.prerender.results_page(page)
    if joined is not None:
        return joined
    views = [ScoreView(r.score, r.band_index, r.display, r.bar_marker) for r in assessment.scores]
    return render_template("results/results.html", **page | {"scores": views})


def title_of(fired: FiredRule) -> str:
    """Return a card's heading: the rule's own title, else its guidance page's title."""
    return state().questionnaire.rule_title(fired.rule)
