"""The compiled closures give exactly what rule-engine's own evaluator gives, for every expression."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import settings

from assessment.config import ROOT
from assessment.domain import Questionnaire
from assessment.domain import Urgency
from assessment.domain import assess
from assessment.domain import load_questionnaire
from assessment.domain import parse_answers
from assessment.domain.expressions import Expression
from assessment.domain.expressions import Record
from assessment.domain.scoring import _answer_record
from assessment.domain.scoring import _points
from tests.domain.test_scoring import answer_strategy

REAL = load_questionnaire(ROOT / "questions.yaml", ROOT / "templates" / "guidance")
CASES = sorted((ROOT / "tests" / "cases").glob("*.yaml"))


def expressions(q: Questionnaire) -> list[Expression]:
    """Every expression of a questionnaire: formulas, conditions, variants, visible_if."""
    found = [s.formula for s in q.scores] + [r.when for r in q.rules]
    found += [v.when for r in q.rules for v in r.variants]
    found += [x.visible_if for s in q.sections for x in (s, *s.questions) if x.visible_if is not None]
    return found


def environment(q: Questionnaire, answers: dict[str, Any]) -> dict[str, Record]:
    """The records assess() builds, with every score and rule value filled in."""
    result = assess(q, answers)
    return {
        "answers": Record(_answer_record(q, result.answers)),
        "points": Record(_points(q, result.answers)),
        "scores": Record({s.id: s.raw for s in result.scores}),
        "rules": Record({r.id: result.fired(r.id) is not None for r in q.rules}),
        "levels": Record({u.value: any(r.urgency.at_least(u) for r in result.rules) for u in Urgency}),
    }


def test_every_expression_of_the_real_questionnaire_is_compiled() -> None:
    """None falls back to the slow evaluator (which would miss the assess() speed goal)."""
    assert [e.source for e in expressions(REAL) if e.parts is None] == []


def check_same(q: Questionnaire, answers: dict[str, Any]) -> None:
    """Compare the compiled result with rule-engine's for each expression."""
    env = environment(q, answers)
    for expr in expressions(q):
        assert expr.evaluate(env) == expr.rule.evaluate(env), expr.source


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_compiled_equals_rule_engine_on_every_case(path: Path) -> None:
    """Each worked case gives the same value through both evaluators, expression by expression."""
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw = {k: v if isinstance(v, list) else [v] for k, v in case["answers"].items()}
    check_same(REAL, dict(parse_answers(REAL, raw).answers))


@settings(max_examples=60, deadline=None)
@given(answer_strategy(REAL))
def test_compiled_equals_rule_engine_on_any_answers(answers: dict[str, Any]) -> None:
    """Random valid answer sets give the same values through both evaluators."""
    check_same(REAL, answers)
