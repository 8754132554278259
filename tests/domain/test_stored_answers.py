"""The fast re-check of stored answers gives exactly what the parser gives, value for value."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from assessment.config import ROOT
from assessment.domain import Question
from assessment.domain import QuestionType
from assessment.domain import load_questionnaire
from assessment.domain.stored_answers import StoredAnswerCheck
from assessment.domain.stored_answers import parse_stored

REAL = load_questionnaire(ROOT / "questions.yaml", ROOT / "templates" / "guidance")
CHECK = StoredAnswerCheck(REAL)


def candidates(question: Question) -> list[Any]:
    """Values a cookie could hold for a question: the parser's own forms, near misses and junk."""
    values: list[Any] = [None, True, "", " ", [], {}, 1.5, "7", -1, 10**7]
    options = [opt.value for opt in question.options]
    if options:
        values += [*options, options[::-1], options[:2], options[-1:], [options[0], options[0]], ["nope"]]
    for bound in (question.minimum, question.maximum):
        if bound is not None:
            values += [int(bound), int(bound) - 1, int(bound) + 1, float(bound) + 0.5]
    if question.type is QuestionType.TEXT:
        limit = question.max_length
        values += [
            "a" * limit,
            "a" * (limit + 1),
            " padded ",
            "Words.\nMore",
            "x\ty",
            "e\u0301",
            "\u200bhidden",
        ]
    return values


@st.composite
def stored_sets(draw: st.DrawFn) -> dict[str, Any]:
    """A stored answer set: some questions, in any order, plus a key that is no question."""
    questions = draw(st.lists(st.sampled_from(list(REAL.questions.values())), unique_by=lambda q: q.id))
    data = {q.id: draw(st.sampled_from(candidates(q))) for q in questions}
    if draw(st.booleans()):
        data["not_a_question"] = 1
    return data


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stored_sets())
def test_the_fast_check_gives_what_the_parser_gives(data: dict[str, Any]) -> None:
    expected = parse_stored(REAL, data)
    got = CHECK(data)
    assert list(got.items()) == list(expected.items())
    # Same types too: 3 and Decimal("3") are equal but print differently on a page.
    assert [type(v) for v in got.values()] == [type(v) for v in expected.values()]


def test_values_in_the_parsers_form_pass_unchanged_and_junk_is_dropped() -> None:
    age = REAL.questions["age"]
    assert age.maximum is not None
    kept = CHECK({"age": 40})
    assert kept.data == {"age": 40}
    assert CHECK({"age": int(age.maximum) + 1}).data == {}
    assert CHECK({"age": "forty", "not_a_question": 1}).data == {}


def valid_set() -> dict[str, Any]:
    """One answer per question, as the cookie stores it: the first candidate the parser keeps (not
    a fraction, which the check always leaves to the parser)."""
    raw: dict[str, Any] = {}
    for question in REAL.questions.values():
        kept = [
            value
            for value in candidates(question)
            if not isinstance(value, float) and question.id in parse_stored(REAL, {question.id: value})
        ]
        if kept:
            raw[question.id] = kept[0]
    return parse_stored(REAL, raw).to_json()


def test_a_cookie_in_the_parsers_form_and_order_comes_back_as_it_is_in_any_order() -> None:
    data = valid_set()
    assert len(data) > 50  # most questions have a value the parser keeps
    expected = list(parse_stored(REAL, data).items())
    assert list(CHECK(data).items()) == expected
    # Stored in another order, or with one value the parser must see, the answers still come
    # back in the questionnaire's order, as the parser gives them.
    assert list(CHECK(dict(reversed(data.items()))).items()) == expected
    first = next(iter(data))
    assert list(CHECK({**data, first: [data[first]]}).items()) == list(
        parse_stored(REAL, {**data, first: [data[first]]}).items()
    )
