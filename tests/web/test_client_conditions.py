"""visible_if for the browser: the JSON translation, and the script agreeing with rule-engine."""

from __future__ import annotations

import json
import shutil
import subprocess
from decimal import Decimal
from typing import Any

import pytest

from assessment.config import ROOT
from assessment.domain import AnswerValue
from assessment.domain import Questionnaire
from assessment.domain import QuestionType
from assessment.domain import load_questionnaire
from assessment.domain.client_conditions import answer_refs
from assessment.domain.client_conditions import client_condition
from assessment.domain.expressions import Expression
from assessment.domain.expressions import Record
from assessment.domain.expressions import build_schema
from assessment.domain.expressions import compile_expression
from tests.conftest import MINI

APP_JS = ROOT / "static" / "js" / "app.js"
AGE = {"answer": "age", "kind": "number"}
SEX = {"answer": "sex", "kind": "text"}
ALARMS = {"answer": "alarms", "kind": "list"}


@pytest.fixture(scope="module")
def mini_q() -> Questionnaire:
    """The small questionnaire, loaded once for this module."""
    return load_questionnaire(MINI)


def compile_on(questionnaire: Questionnaire, source: str) -> Expression:
    """Compile an expression against a questionnaire's answers, as visible_if would be."""
    schema = build_schema(questionnaire.questions, [s.id for s in questionnaire.scores], [])
    return compile_expression(source, schema)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("answers.sex == 'female'", {"eq": [SEX, {"value": "female"}]}),
        ("answers.sex != 'male'", {"ne": [SEX, {"value": "male"}]}),
        ("answers.sex in ['female', 'male']", {"in": [SEX, {"value": ["female", "male"]}]}),
        ("'none' in answers.alarms", {"in": [{"value": "none"}, ALARMS]}),
        ("answers.alarms.is_empty", {"empty": ALARMS}),
        ("(answers.age ?? 18) >= 18", {"ge": [AGE | {"default": 18}, {"value": 18}]}),
        (
            "(answers.dose_g ?? 0) > 14.5",
            {"gt": [{"answer": "dose_g", "kind": "number", "default": 0}, {"value": 14.5}]},
        ),
        ("answers.age == null", {"eq": [AGE, {"value": None}]}),
        ("not answers.sex == 'male'", {"not": {"eq": [SEX, {"value": "male"}]}}),
        (
            "answers.sex == 'female' and (answers.age ?? 0) < 50 and not answers.alarms.is_empty",
            {
                "and": [
                    {"eq": [SEX, {"value": "female"}]},
                    {"lt": [AGE | {"default": 0}, {"value": 50}]},
                    {"not": {"empty": ALARMS}},
                ]
            },
        ),
        (
            "answers.sex == 'male' or answers.pregnant == 'yes' or true",
            {
                "or": [
                    {"eq": [SEX, {"value": "male"}]},
                    {"eq": [{"answer": "pregnant", "kind": "text"}, {"value": "yes"}]},
                    {"value": True},
                ]
            },
        ),
    ],
)
def test_translation(mini_q: Questionnaire, source: str, expected: dict[str, Any]) -> None:
    assert client_condition(compile_on(mini_q, source), mini_q.questions) == expected


@pytest.mark.parametrize(
    "source",
    [
        "(answers.age ?? 0) + (answers.pain_days ?? 0) > 10",
        "((answers.age ?? 0) > 10 ? 'a' : 'b') == 'a'",
        "$max([answers.age ?? 0, 3]) > 5",
        "-(answers.age ?? 0) < -5",
        "answers.alarms.length > 1",
    ],
)
def test_untranslatable_expressions_give_none(mini_q: Questionnaire, source: str) -> None:
    assert client_condition(compile_on(mini_q, source), mini_q.questions) is None


def test_answer_refs_lists_every_answer_read(mini_q: Questionnaire) -> None:
    expr = compile_on(
        mini_q, "answers.sex == 'female' and ('none' in answers.alarms or (answers.age ?? 0) > 3)"
    )
    condition = client_condition(expr, mini_q.questions)
    assert condition is not None
    assert answer_refs(condition) == {"sex", "alarms", "age"}


def test_every_visible_if_of_the_shipped_questionnaire_translates() -> None:
    path = ROOT / "questions.yaml"
    questionnaire = load_questionnaire(path)
    for section in questionnaire.sections:
        for question in section.questions:
            if question.visible_if is not None:
                assert client_condition(question.visible_if, questionnaire.questions) is not None, question.id


EXPRESSIONS = [
    "answers.sex == 'female'",
    "answers.sex != 'male'",
    "answers.sex in ['female']",
    "answers.pregnant == 'yes'",
    "'black_stool' in answers.alarms",
    "not answers.alarms.is_empty and not 'none' in answers.alarms",
    "(answers.age ?? 18) >= 18",
    "(answers.age ?? 0) < 18 or answers.pregnant == 'yes'",
    "(answers.dose_g ?? 0) > 14.5",
    "(answers.dose_g ?? 0) <= 14.5",
    "(answers.pain_days ?? 7) == 3",
    "answers.age == null",
    "answers.loose_share in ['lt25', 'gt50'] and (answers.pain ?? 0) >= 5",
]

ANSWER_SETS: list[dict[str, AnswerValue]] = [
    {},
    {"age": 17},
    {"age": 18},
    {"age": 40, "sex": "female", "pregnant": "yes"},
    {"age": 10, "sex": "male", "pregnant": "no"},
    {"alarms": ("none",)},
    {"alarms": ("black_stool", "vomit_blood")},
    {"dose_g": Decimal("14.5")},
    {"dose_g": Decimal("14.6"), "pain_days": 3},
    {"loose_share": "gt50", "pain": 5},
    {"loose_share": "none", "pain": 9},
]


def as_typed(value: AnswerValue) -> Any:
    """Return an answer as the script reads it from a form: numbers as typed text, lists as lists."""
    if isinstance(value, tuple):
        return list(value)
    return str(value) if isinstance(value, (int, Decimal)) else value


def server_says(questionnaire: Questionnaire, expr: Expression, answers: dict[str, AnswerValue]) -> bool:
    """Evaluate a condition as the server does (every question present; missing is None or ())."""
    record: dict[str, Any] = {}
    for qid, question in questionnaire.questions.items():
        value = answers.get(qid)
        record[qid] = (value if value is not None else ()) if question.type is QuestionType.MULTI else value
    return expr.matches({"answers": Record(record)})


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_browser_script_agrees_with_rule_engine(mini_q: Questionnaire) -> None:
    cases = []
    expected = []
    for source in EXPRESSIONS:
        expr = compile_on(mini_q, source)
        condition = client_condition(expr, mini_q.questions)
        assert condition is not None, source
        for answers in ANSWER_SETS:
            cases.append({"condition": condition, "answers": {k: as_typed(v) for k, v in answers.items()}})
            expected.append(server_says(mini_q, expr, answers))
    script = (
        "const g = require(process.argv[1]);"
        "const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "const results = cases.map(c => g.holds(c.condition, r => c.answers[r.answer]));"
        "process.stdout.write(JSON.stringify(results));"
    )
    result = subprocess.run(
        ["node", "-e", script, str(APP_JS)],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        check=True,
    )
    got = json.loads(result.stdout)
    mismatches = [
        (case["condition"], case["answers"], want, have)
        for case, want, have in zip(cases, expected, got, strict=True)
        if want != have
    ]
    assert not mismatches, mismatches
