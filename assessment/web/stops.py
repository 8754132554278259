"""Pages that stop the questionnaire: emergency help now, and a rule that ends it (under 18)."""

from __future__ import annotations

import contextlib
import re

from flask import Blueprint
from flask import abort
from flask import render_template
from flask import request
from flask import url_for

from assessment.domain import Answers
from assessment.domain import Assessment
from assessment.domain import Questionnaire
from assessment.domain import Urgency
from assessment.domain import assess
from assessment.domain import prune
from assessment.web import answers_store
from assessment.web.state import state

bp = Blueprint("stops", __name__)
# A path inside this app: no scheme, host, backslash, space or control character (browsers drop
# tabs and newlines from links, which could turn "/\t/host" into "//host").
SAFE_PATH = re.compile(r"/[A-Za-z0-9_\-./?=&]*")


def after_save(questionnaire: Questionnaire, before: Answers, after: Answers, following: str) -> str:
    """Return where a saved page leads: the help-now page when it brought an emergency, a stop page
    when a stopping rule fired, or `following` (the next section or the review page).

    The decision is the server's, on the posted answers, so it works without JavaScript. Only a new
    emergency stops the flow: a person who said they are safe to continue is not stopped again for
    the same answers on every page.
    """
    result = assess(questionnaire, after)
    stop = next((fired for fired in result.rules if fired.rule.stop), None)
    if stop is not None:
        following = url_for("stops.stopped", rule_id=stop.id)
    if _brings_emergency(questionnaire, before, result):
        return url_for("stops.help_now", next=following)
    return following


def emergency_first(
    questionnaire: Questionnaire, before: Answers, candidate: Answers, here: str
) -> str | None:
    """Return the help-now URL when a page posted with mistakes still brings an emergency, else None.

    Emergency advice comes before "Enter your age": the valid answers are kept (so nothing is lost and
    the sign is not asked twice), and "continue" comes back to this page to finish it.
    """
    if not _brings_emergency(questionnaire, before, assess(questionnaire, candidate)):
        return None
    with contextlib.suppress(answers_store.AnswersTooLarge):
        answers_store.save_answers(prune(questionnaire, candidate))
    return url_for("stops.help_now", next=here)


def _brings_emergency(questionnaire: Questionnaire, before: Answers, after: Assessment) -> bool:
    """Say whether `after` has an emergency rule that the answers `before` did not fire."""
    now = _emergency_ids(after)
    # Most posts bring no emergency at all: the earlier answers are assessed only when one shows.
    return bool(now) and bool(now - _emergency_ids(assess(questionnaire, before)))


def _emergency_ids(result: Assessment) -> set[str]:
    return {fired.id for fired in result.rules if fired.urgency is Urgency.EMERGENCY}


@bp.get("/help-now")
def help_now() -> str:
    """Emergency advice first: numbers to call, then the way on (continue) or out (leave)."""
    questionnaire = state().questionnaire
    answers = answers_store.load_answers()
    fired = [r for r in assess(questionnaire, answers).rules if r.urgency is Urgency.EMERGENCY]
    return render_template("stops/help_now.html", fired=fired, next_url=_safe_next())


def _safe_next() -> str:
    """Return the continue link: only a path of this app (no scheme, host or //), else the start."""
    target = request.args.get("next", "")
    if SAFE_PATH.fullmatch(target) and not target.startswith("//"):
        return target
    return url_for("questionnaire.start")


@bp.get("/stop/<rule_id>")
def stopped(rule_id: str) -> str:
    """Show why the questionnaire ends here (a rule with `stop: true`), with the level's advice."""
    questionnaire = state().questionnaire
    rule = next((r for r in questionnaire.rules if r.id == rule_id and r.stop), None)
    if rule is None:
        abort(404)
    fired = assess(questionnaire, answers_store.load_answers()).fired(rule.id)
    page = questionnaire.guidance.get(rule.guidance)
    return render_template("stops/stopped.html", rule=rule, fired=fired, page=page)
