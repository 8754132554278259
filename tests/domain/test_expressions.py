"""Truth tables for the expression wrapper: typed names, nulls, option literals, explanations."""

from __future__ import annotations

from decimal import Decimal

import pytest

from assessment.domain import Questionnaire
from assessment.domain.expressions import ExpressionProblem
from assessment.domain.expressions import Record
from assessment.domain.expressions import build_schema
from assessment.domain.expressions import compile_expression

ANSWERS = {"age": 50, "sex": "female", "pain": 7, "alarms": ("black_stool",), "dose_g": Decimal("15.5")}

TRUTH_TABLE = [
    ("(answers.age ?? 0) >= 50", ANSWERS, True),
    ("(answers.age ?? 0) >= 51", ANSWERS, False),
    ("(answers.age ?? 0) >= 50", {}, False),
    ("answers.sex == 'female'", ANSWERS, True),
    ("answers.sex == 'female'", {}, False),
    ("answers.sex != 'male'", {}, True),
    ("'black_stool' in answers.alarms", ANSWERS, True),
    ("'black_stool' in answers.alarms", {}, False),
    ("answers.sex in ['female', 'male']", ANSWERS, True),
    ("(answers.dose_g ?? 0) > 14 and (answers.dose_g ?? 0) <= 30", ANSWERS, True),
    ("(answers.dose_g ?? 0) > 14 and not (answers.pain ?? 0) > 5", ANSWERS, False),
    ("(answers.pain ?? 0) >= 7 or answers.sex == 'male'", ANSWERS, True),
    ("$max([answers.pain ?? 0, answers.age ?? 0]) == 50", ANSWERS, True),
    ("((answers.pain ?? 0) > 5 ? 1 : 0) == 1", ANSWERS, True),
    ("answers.pregnant == null", ANSWERS, True),
]


def env(questionnaire: Questionnaire, answers: dict[str, object]) -> dict[str, Record]:
    """Build the records an expression reads, as assess() does."""
    values = {
        qid: answers.get(qid, () if q.type.value == "multi" else None)
        for qid, q in questionnaire.questions.items()
    }
    return {"answers": Record(values), "points": Record({}), "scores": Record({}), "rules": Record({})}


@pytest.mark.parametrize(("source", "answers", "expected"), TRUTH_TABLE)
def test_truth_table(mini: Questionnaire, source: str, answers: dict[str, object], expected: bool) -> None:
    """Each expression gives the expected truth value for the answers."""
    schema = build_schema(mini.questions, ["pain", "total"], ["R01", "R02", "R03"])
    assert compile_expression(source, schema).matches(env(mini, answers)) is expected


REJECTED = [
    ("answers.age >= 50", "give a default with ??"),
    ("answers.agee == 1", "unknown answer, score or rule 'agee' (did you mean 'age'?)"),
    ("answers.sex == 'femail'", "'femail' is not an option of 'sex' (did you mean 'female'?)"),
    ("'black_stol' in answers.alarms", "'black_stol' is not an option of 'alarms'"),
    ("answers.sex in ['female', 'mail']", "'mail' is not an option of 'sex'"),
    ("answers.age == 'fifty'", "'age' is a number question"),
    ("answers.sex == 3", "answered by choosing an option"),
    ("(answers.sex ?? '') =~ 'f.*'", "regular-expression operators"),
    ("(answers.sex ?? '') !~ 'f.*'", "regular-expression operators"),
    ("answer.age == 1", "unknown name 'answer'"),
    ("points.age == 1", "has no option scores"),
    ("(answers.age ?? 0) >", "syntax error"),
    ("", "non-empty text"),
]


@pytest.mark.parametrize(("source", "message"), REJECTED)
def test_mistakes_are_rejected_at_load(mini: Questionnaire, source: str, message: str) -> None:
    """Expressions that could silently never fire are refused with a helpful message."""
    schema = build_schema(mini.questions, ["pain"], ["R01"])
    with pytest.raises(ExpressionProblem, match=None) as caught:
        compile_expression(source, schema)
    assert message in str(caught.value)


def test_expressions_know_what_they_read(mini: Questionnaire) -> None:
    """The names an expression reads are recorded once each, in order, for explanations."""
    schema = build_schema(mini.questions, ["pain"], ["R01"])
    expr = compile_expression("(answers.age ?? 0) > 1 and scores.pain > 2 or (answers.age ?? 0) > 3", schema)
    assert [(r.namespace, r.name) for r in expr.reads] == [("answers", "age"), ("scores", "pain")]
