"""The FHIRPath translator agrees with rule-engine on a truth table (conditions and score formulas).

FHIRPath is evaluated by fhirpathpy on a QuestionnaireResponse holding the answers, as a form
renderer would; rule-engine through the same Expression.evaluate the app uses.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from fhirpathpy import compile as compile_fhirpath
from fhirpathpy.models import models

from assessment.config import ROOT
from assessment.domain import Answers
from assessment.domain import AnswerValue
from assessment.domain import Questionnaire
from assessment.domain import QuestionType
from assessment.domain import load_questionnaire
from assessment.domain import parse_answers
from assessment.domain.expressions import Expression
from assessment.domain.expressions import Record
from assessment.domain.expressions import build_schema
from assessment.domain.expressions import compile_expression
from assessment.domain.fhirpath import Untranslatable
from assessment.domain.fhirpath import enable_when
from assessment.domain.fhirpath import fhirpath_condition
from assessment.domain.fhirpath import fhirpath_formula
from assessment.fhir import code_system
from tests.casefiles import CASES
from tests.casefiles import load_case
from tests.casefiles import raw_of
from tests.conftest import MINI

R4 = models["r4"]


@pytest.fixture(scope="module")
def mini_q() -> Questionnaire:
    """The small questionnaire, loaded once for this module."""
    return load_questionnaire(MINI)


@pytest.fixture(scope="module")
def shipped() -> Questionnaire:
    """The bundled questionnaire, loaded once for this module."""
    return load_questionnaire(ROOT / "questions.yaml")


def compile_on(questionnaire: Questionnaire, source: str) -> Expression:
    """Compile an expression against a questionnaire's answers, as visible_if would be."""
    schema = build_schema(questionnaire.questions, [s.id for s in questionnaire.scores], [])
    return compile_expression(source, schema)


def response_of(questionnaire: Questionnaire, answers: dict[str, AnswerValue]) -> dict[str, Any]:
    """A QuestionnaireResponse holding every given answer, as a renderer fills %resource."""
    items = []
    for qid, value in answers.items():
        question = questionnaire.questions[qid]
        values = value if isinstance(value, tuple) else (value,)
        answer: list[dict[str, Any]] = []
        for v in values:
            if question.type is QuestionType.YES_NO:
                answer.append({"valueBoolean": v == "yes"})
            elif question.type in (QuestionType.SINGLE, QuestionType.MULTI):
                answer.append({"valueCoding": {"system": code_system(questionnaire, question), "code": v}})
            elif question.type is QuestionType.NUMBER:
                answer.append({"valueDecimal": float(v)})  # type: ignore[arg-type]
            elif question.type.is_numeric:
                answer.append({"valueInteger": v})
            else:
                answer.append({"valueString": v})
        items.append({"linkId": qid, "answer": answer})
    return {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "item": [{"linkId": "g", "item": items}],
    }


def env_of(questionnaire: Questionnaire, answers: dict[str, AnswerValue]) -> dict[str, Record]:
    """Records as the server reads them: every question present, missing is None or ()."""
    record: dict[str, Any] = {}
    points: dict[str, Any] = {}
    for qid, question in questionnaire.questions.items():
        value = answers.get(qid)
        if question.type is QuestionType.MULTI:
            record[qid] = value if value is not None else ()
        elif question.type.is_numeric and value is not None:
            record[qid] = Decimal(str(value))
        else:
            record[qid] = value
        opt = question.option(value) if isinstance(value, str) else None
        points[qid] = opt.score if opt is not None else None
    return {"answers": Record(record), "points": Record(points)}


_COMPILED: dict[str, Any] = {}


def fhirpath_says(path: str, response: dict[str, Any]) -> Any:
    """Evaluate FHIRPath on a response; return the single value (or None for an empty result)."""
    if path not in _COMPILED:
        _COMPILED[path] = compile_fhirpath(path, R4)
    result = _COMPILED[path](response, {"resource": response})
    assert len(result) <= 1, (path, result)
    return result[0] if result else None


MINI_CONDITIONS = [
    "answers.sex == 'female'",
    "answers.sex != 'male'",
    "'female' == answers.sex",
    "answers.sex in ['female', 'male']",
    "answers.pregnant == 'yes'",
    "answers.pregnant != 'no'",
    "'black_stool' in answers.alarms",
    "not 'none' in answers.alarms",
    "answers.alarms.is_empty",
    "not answers.alarms.is_empty and not 'none' in answers.alarms",
    "answers.alarms.length >= 2",
    "(answers.age ?? 18) >= 18",
    "(answers.age ?? 0) < 18 or answers.pregnant == 'yes'",
    "(answers.dose_g ?? 0) > 14.5",
    "(answers.dose_g ?? 0) <= 14.5",
    "(answers.pain_days ?? 7) == 3",
    "answers.age == null",
    "answers.age != null",
    "answers.age == 40",
    "(points.loose_share ?? 0) >= 3",
    "points.loose_share == 10",
    "answers.loose_share in ['lt25', 'gt50'] and (answers.pain ?? 0) >= 5",
    "((answers.pain ?? 0) > 5 ? true : answers.sex == 'male')",
    "$max([answers.pain ?? 0, answers.pain_days ?? 0]) > 4",
    "$min([answers.pain ?? 10, (answers.pain_days ?? 0) * 2]) < 4",
    "-(answers.age ?? 0) < -30",
    "(answers.age ?? 0) - (answers.pain ?? 0) * 2 / 4 > 20",
    "answers.notes == 'hello'",
]

MINI_FORMULAS = [
    "((answers.pain ?? 0) + (answers.pain_days ?? 0) * 10 / 7) / 2",
    "5 * (scores.pain + (points.loose_share ?? 0))",
    "$max([points.loose_share ?? 0, answers.pain ?? 0])",
    "((points.loose_share ?? 0) >= 3 and (answers.pain ?? 0) >= 6) ? 3 : ((answers.pain ?? 0) >= 6 ? 1 : 0)",
    "answers.alarms.length * 2.5",
]

MINI_ANSWERS: list[dict[str, AnswerValue]] = [
    {},
    {"age": 17},
    {"age": 18, "sex": "male"},
    {"age": 40, "sex": "female", "pregnant": "yes", "notes": "hello"},
    {"age": 30, "sex": "female", "pregnant": "no", "notes": "hello there"},
    {"sex": "male", "alarms": ("none",)},
    {"alarms": ("black_stool", "vomit_blood"), "pain": 9, "pain_days": 1},
    {"dose_g": Decimal("14.5"), "loose_share": "lt25", "pain": 5},
    {"dose_g": Decimal("14.6"), "pain_days": 3, "loose_share": "gt50", "pain": 7},
    {"loose_share": "none", "pain": 9, "pain_days": 7},
    {"age": 99, "pain": 0, "pain_days": 0, "alarms": ("black_stool",)},
]


def test_mini_answer_sets_are_valid(mini_q: Questionnaire) -> None:
    for answers in MINI_ANSWERS:
        raw = {k: list(v) if isinstance(v, tuple) else [str(v)] for k, v in answers.items()}
        assert not parse_answers(mini_q, raw).errors, answers


@pytest.mark.parametrize("source", MINI_CONDITIONS)
def test_conditions_agree_with_rule_engine(mini_q: Questionnaire, source: str) -> None:
    expr = compile_on(mini_q, source)
    path = fhirpath_condition(expr, mini_q.questions)
    for answers in MINI_ANSWERS:
        want = expr.matches(env_of(mini_q, answers))
        have = fhirpath_says(path, response_of(mini_q, answers))
        assert have is want, (source, answers, path)


@pytest.mark.parametrize("source", MINI_FORMULAS)
def test_formulas_agree_with_rule_engine(mini_q: Questionnaire, source: str) -> None:
    expr = compile_on(mini_q, source)
    scores = {s.id: s for s in mini_q.scores}
    path = fhirpath_formula(expr, mini_q.questions, scores)
    for answers in MINI_ANSWERS:
        env = env_of(mini_q, answers)
        pain = mini_q.scores[0].formula.evaluate(env)
        env["scores"] = Record({"pain": pain})
        want = Decimal(str(expr.evaluate(env)))
        have = Decimal(str(fhirpath_says(path, response_of(mini_q, answers))))
        assert abs(have - want) < Decimal("1e-9"), (source, answers, path)


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("(answers.age ?? 0) // 2 > 3", "'fdiv'"),
        ("(answers.age ?? 0) % 2 == 1", "'mod'"),
        ("answers.alarms == ['none']", "compared with =="),
        ("answers.notes == answers.sex", "comparison is not translated"),
        ("$abs(0 - (answers.age ?? 0)) > 3", "$abs"),
    ],
)
def test_what_cannot_be_translated_says_why(mini_q: Questionnaire, source: str, reason: str) -> None:
    expr = compile_on(mini_q, source)
    with pytest.raises(Untranslatable) as info:
        fhirpath_condition(expr, mini_q.questions)
    assert reason in str(info.value)


def _enabled_by(tests: Any, answers: dict[str, AnswerValue]) -> bool:
    """FHIR R4 enableWhen with enableBehavior any: '=' holds when any answer equals, '!=' when none does."""
    found = []
    for test in tests:
        value = answers.get(test.question.id)
        values = list(value) if isinstance(value, tuple) else ([] if value is None else [value])
        if test.question.type is QuestionType.YES_NO:
            values = [v == "yes" for v in values]
        equal = test.answer in values
        found.append(equal if test.operator == "=" else not equal)
    return any(found)


def test_every_condition_of_the_shipped_questionnaire_agrees_on_every_case(shipped: Questionnaire) -> None:
    """All visible_if of questions.yaml, on the answers of every worked case (P1-P3 and one per rule)."""
    answer_sets = [parse_answers(shipped, raw_of(load_case(path)["answers"])).answers for path in CASES]
    answer_sets.append(Answers({}))
    every = [s.visible_if for s in shipped.sections if s.visible_if] + [
        q.visible_if for q in shipped.questions.values() if q.visible_if
    ]
    conditions = list({expr.source: expr for expr in every}.values())
    checked = 0
    for expr in conditions:
        path = fhirpath_condition(expr, shipped.questions)
        tests = enable_when(expr, shipped.questions)
        for answers in answer_sets:
            response = response_of(shipped, dict(answers))
            want = expr.matches(env_of(shipped, dict(answers)))
            assert fhirpath_says(path, response) is want, (expr.source, path)
            if tests is not None:
                assert _enabled_by(tests, dict(answers)) is want, expr.source
            checked += 1
    assert checked > 900


def test_every_score_of_the_shipped_questionnaire_agrees_on_every_case(shipped: Questionnaire) -> None:
    """The unrounded formulas; rounding is checked in the browser by the renderer that shows it."""
    scores = {s.id: s for s in shipped.scores}
    for path_ in CASES[:12]:
        answers = dict(parse_answers(shipped, raw_of(load_case(path_)["answers"])).answers)
        env = env_of(shipped, answers)
        values: dict[str, Any] = {}
        env["scores"] = Record(values)
        response = response_of(shipped, answers)
        for score in shipped.scores:
            values[score.id] = want = Decimal(str(score.formula.evaluate(env)))
            path = fhirpath_formula(score.formula, shipped.questions, scores)
            have = Decimal(str(fhirpath_says(path, response)))
            assert abs(have - want) < Decimal("1e-9"), (path_.name, score.id)
