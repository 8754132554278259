"""Strict parsing of raw answers: every bad value becomes a plain message, nothing raises."""

from __future__ import annotations

from decimal import Decimal

import pytest

from assessment.domain import Questionnaire
from assessment.domain import parse_answers


@pytest.mark.parametrize(
    "bad", ["1_0", "+3", " -1", "٧", "0x1", "3.0", "1e3", "nan", "inf", "snan", "121", "0"]
)
def test_integers_accept_plain_ascii_digits_in_range_only(mini: Questionnaire, bad: str) -> None:
    """int() would take 1_0, +3 and Arabic-Indic digits; the parser does not."""
    result = parse_answers(mini, {"age": [bad]}, only=["age"])
    assert "age" in result.errors and "age" not in result.answers


@pytest.mark.parametrize("bad", ["nan", "snan", "inf", "-1", "1e999", "101", "1.25", "1,5", ".5", "5."])
def test_numbers_reject_odd_values(mini: Questionnaire, bad: str) -> None:
    """NaN, infinities, exponents, too many decimals and out-of-range values are refused."""
    result = parse_answers(mini, {"dose_g": [bad]}, only=["dose_g"])
    assert result.errors["dose_g"]


@pytest.mark.parametrize(("raw", "expected"), [("7", 7), (" 42 ", 42), ("120", 120)])
def test_integers_in_range_are_kept(mini: Questionnaire, raw: str, expected: int) -> None:
    """A plain whole number in range is stored as an int."""
    assert parse_answers(mini, {"age": [raw]}).answers["age"] == expected


def test_numbers_keep_exact_decimals(mini: Questionnaire) -> None:
    """2.5 g stays exactly 2.5 (no binary float rounding)."""
    assert parse_answers(mini, {"dose_g": ["2.5"]}).answers["dose_g"] == Decimal("2.5")


def test_json_numbers_are_accepted(mini: Questionnaire) -> None:
    """The API sends numbers as numbers; 40.0 is a whole number, True is not a number."""
    result = parse_answers(mini, {"age": [40.0], "dose_g": [2.5], "pain": [True]})
    assert result.answers["age"] == 40 and result.answers["dose_g"] == Decimal("2.5")
    assert "pain" in result.errors


def test_repeated_single_value_is_an_error_whatever_the_order(mini: Questionnaire) -> None:
    """A browser sends one value per radio group; two values mean tampering or a bug."""
    for values in (["female", "male"], ["male", "female"]):
        assert parse_answers(mini, {"sex": values}).errors["sex"] == ("Choose only one answer.",)


def test_unknown_option_is_an_error(mini: Questionnaire) -> None:
    """A value that is not an option is refused and nothing is stored."""
    result = parse_answers(mini, {"sex": ["zzz"], "alarms": ["zzz"]})
    assert set(result.errors) == {"sex", "alarms"} and not result.answers


def test_exclusive_option_cannot_be_combined(mini: Questionnaire) -> None:
    """'None of these' together with a symptom is contradictory."""
    result = parse_answers(mini, {"alarms": ["none", "black_stool"]})
    assert result.errors["alarms"] == (
        "\u201cNone of these\u201d cannot be ticked together with other answers.",
    )


def test_multi_values_are_kept_in_option_order(mini: Questionnaire) -> None:
    """Ticks come back in the questionnaire's order, so equal answers compare equal."""
    result = parse_answers(mini, {"alarms": ["vomit_blood", "black_stool"]})
    assert result.answers["alarms"] == ("black_stool", "vomit_blood")


def test_text_is_cleaned_and_limited(mini: Questionnaire) -> None:
    """Control and format characters go; over-long text is refused with the limit."""
    result = parse_answers(mini, {"notes": ["a\u202eb\u200bc\x00d\ud800e\r\nf"]})
    assert result.answers["notes"] == "abcde\nf"
    too_long = parse_answers(mini, {"notes": ["x" * 201]})
    assert too_long.errors["notes"] == ("Keep this to 200 characters or fewer.",)


def test_unknown_ids_are_reported(mini: Questionnaire) -> None:
    """Unknown ids are listed, not silently dropped; a blank answer is no answer and no error."""
    result = parse_answers(mini, {"admin": ["1"], "score": ["99"]}, only=["age", "sex"])
    assert result.errors == {}
    assert result.unknown == ("admin", "score")


@pytest.mark.parametrize("value", [None, {"a": 1}, [1, 2], b"x"])
def test_values_of_the_wrong_shape_are_refused(mini: Questionnaire, value: object) -> None:
    """Whatever JSON or a cookie holds, the parser answers with a message, never an exception."""
    result = parse_answers(mini, {"age": [value]})
    assert "age" in result.errors
