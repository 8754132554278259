"""The compiled closures and the generated plan give exactly what rule-engine's own evaluator gives."""

from __future__ import annotations

import io
import tokenize
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings

from assessment.config import ROOT
from assessment.domain import Answers
from assessment.domain import Questionnaire
from assessment.domain import QuestionType
from assessment.domain import Urgency
from assessment.domain import assess
from assessment.domain import load_questionnaire
from assessment.domain import parse_answers
from assessment.domain import visible_path
from assessment.domain.closures import Emitter
from assessment.domain.closures import _Unsupported
from assessment.domain.closures import as_decimal
from assessment.domain.closures import build_plan
from assessment.domain.expressions import Expression
from assessment.domain.expressions import Record
from assessment.domain.scoring import _answer_record
from assessment.domain.scoring import _points
from assessment.domain.scoring import _prepared
from assessment.domain.scoring import explain
from tests.casefiles import load_case
from tests.casefiles import raw_of
from tests.domain.test_scoring import MINI_Q
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
    raw = raw_of(load_case(path)["answers"])
    check_same(REAL, dict(parse_answers(REAL, raw).answers))


@settings(max_examples=60, deadline=None)
@given(answer_strategy(REAL))
def test_compiled_equals_rule_engine_on_any_answers(answers: dict[str, Any]) -> None:
    """Random valid answer sets give the same values through both evaluators."""
    check_same(REAL, answers)


# -- the generated plan that assess() runs --------------------------------------------------------


def reference_assess(q: Questionnaire, answers: Mapping[str, Any]) -> dict[str, Any]:
    """assess() as it was written before the plan: rule-engine's own evaluator, step by step."""
    record: dict[str, Any] = {
        qid: () if question.type is QuestionType.MULTI else None for qid, question in q.questions.items()
    }
    env: dict[str, Record] = {"answers": Record(record)}
    shown: list[str] = []
    for section in q.sections:
        if section.visible_if is not None and not section.visible_if.rule.evaluate(env):
            continue
        for question in section.questions:
            if question.visible_if is not None and not question.visible_if.rule.evaluate(env):
                continue
            shown.append(question.id)
            if question.id in answers:
                record[question.id] = _answer_record(q, {question.id: answers[question.id]})[question.id]
    visible = {qid: answers[qid] for qid in shown if qid in answers}
    env = {
        "answers": Record(_answer_record(q, visible)),
        "points": Record(_points(q, visible)),
        "scores": Record(scores := {}),
    }
    for score in q.scores:
        scores[score.id] = as_decimal(score.formula.rule.evaluate(env))
    env["rules"] = Record(rules := {})
    env["levels"] = Record(levels := {u.value: False for u in Urgency})
    fired = []
    for rule in q.rules:
        rules[rule.id] = bool(rule.when.rule.evaluate(env))
        if rules[rule.id]:
            urgency, message = rule.urgency, rule.message
            reads = list(rule.when.reads_that_held(env))
            for variant in rule.variants:
                if variant.when.rule.evaluate(env):
                    urgency, message = variant.urgency or urgency, variant.message or message
                    reads += variant.when.reads_that_held(env)
                    break
            why = explain(reads, q, Answers(visible), scores)
            fired.append((rule.id, urgency, message, why))
            for level in Urgency:
                levels[level.value] = levels[level.value] or urgency.at_least(level)
    return {"path": shown, "answers": visible, "scores": scores, "fired": fired}


def check_plan(q: Questionnaire, answers: Mapping[str, Any]) -> None:
    """assess() (the generated plan) gives what rule-engine gives: path, scores, rules, why."""
    expected = reference_assess(q, answers)
    result = assess(q, answers)
    assert list(visible_path(q, answers).question_ids) == expected["path"]
    assert list(result.path.question_ids) == expected["path"]
    assert dict(result.answers) == expected["answers"]
    assert list(result.answers) == list(expected["answers"])  # questionnaire order
    assert {s.id: s.raw for s in result.scores} == expected["scores"]
    fired = sorted(expected["fired"], key=lambda f: f[1].rank)
    assert [(r.id, r.urgency, r.message, r.why) for r in result.rules] == fired
    check_why(q, answers)


def check_why(q: Questionnaire, answers: Mapping[str, Any]) -> None:
    """Each generated "why" gives what walking its condition's parts gives, for every condition
    and variant that holds (not only the variant that was used)."""
    result = assess(q, answers)
    if not result.rules or result.rules[0].context is None:
        return
    context = result.rules[0].context
    env = context.env()
    levels = tuple(env["levels"].values[u.value] for u in Urgency)
    values = (context.values, context.points, context.raws, context.held, levels)
    for number, rule in enumerate(q.rules):
        for slot, expr in enumerate((rule.when, *(v.when for v in rule.variants))):
            generated = _prepared(q).plan.why[number][slot]
            if generated is not None and expr.matches(env):
                assert generated(*values) == expr.reads_that_held(env), (rule.id, slot)


def test_every_why_of_the_real_questionnaire_is_generated() -> None:
    """No rule of ours falls back to walking its tree for "why you see this"."""
    plan = _prepared(REAL).plan
    assert len(plan.why) == len(REAL.rules)
    assert all(generated is not None for slots in plan.why for generated in slots)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_plan_equals_rule_engine_on_every_case(path: Path) -> None:
    """Each worked case assesses the same through the plan and through rule-engine."""
    raw = raw_of(load_case(path)["answers"])
    check_plan(REAL, parse_answers(REAL, raw).answers)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answer_strategy(REAL))
def test_plan_equals_rule_engine_on_any_answers(answers: dict[str, Any]) -> None:
    """Random valid answer sets (answered or not, each question) assess the same both ways."""
    check_plan(REAL, answers)


@settings(max_examples=100, deadline=None)
@given(answer_strategy(MINI_Q))
def test_plan_equals_rule_engine_on_the_mini_questionnaire(answers: dict[str, Any]) -> None:
    """The same on the small fixture, whose conditions are denser."""
    check_plan(MINI_Q, answers)


def test_plan_falls_back_to_rule_engine_where_it_cannot_translate(monkeypatch: pytest.MonkeyPatch) -> None:
    """An expression the generator does not know is evaluated by rule-engine, with the same results."""

    def unsupported(self: Emitter, node: Any, ref: Any, truth: bool = False) -> str:
        raise _Unsupported

    monkeypatch.setattr(Emitter, "source", unsupported)
    q = load_questionnaire(ROOT / "questions.yaml", ROOT / "templates" / "guidance")
    plan = build_plan(q)
    assert "_Record(" in plan.source  # every expression became a rule-engine call
    for path in CASES:
        raw = raw_of(load_case(path)["answers"])
        check_plan(q, parse_answers(q, raw).answers)


def test_generated_source_holds_no_text_from_the_questionnaire() -> None:
    """What compile() sees is our own text: no string literals, and numbers only as variant indices
    or level ranks."""
    source = build_plan(REAL).source
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    assert [t.string for t in tokens if t.type == tokenize.STRING] == []
    most_variants = max((len(r.variants) for r in REAL.rules), default=0)
    numbers = {t.string for t in tokens if t.type == tokenize.NUMBER}
    assert numbers <= {str(n) for n in range(max(most_variants + 1, len(Urgency)))}
    names = {t.string for t in tokens if t.type == tokenize.NAME}
    assert not names & set(REAL.questions), "question ids must not be pasted into the code"
