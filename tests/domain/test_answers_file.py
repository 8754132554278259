"""The answers.json format: what is written reads back, with its dates."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from assessment.config import ROOT
from assessment.domain import Questionnaire
from assessment.domain import assess
from assessment.domain import load_questionnaire
from assessment.domain.answers_file import NO_SUCH_QUESTION
from assessment.domain.answers_file import NOT_READABLE
from assessment.domain.answers_file import NOT_VALID
from assessment.domain.answers_file import WRONG_SHAPE
from assessment.domain.answers_file import AnswerDates
from assessment.domain.answers_file import SavedAnswers
from assessment.domain.answers_file import SavedFileError
from assessment.domain.answers_file import answers_document
from assessment.domain.answers_file import long_date
from assessment.domain.answers_file import parse_document
from assessment.domain.answers_file import restore

GIVEN, TODAY = dt.date(2026, 6, 1), dt.date(2026, 11, 29)


def test_a_written_file_reads_back_with_its_questionnaire_answers_and_date(mini: Questionnaire) -> None:
    """Every answer, the questionnaire's id and version and the day they were given survive the trip."""
    assessment = assess(mini, {"age": 40, "sex": "female", "alarms": ("black_stool",)})
    saved = parse_document(answers_document(assessment, AnswerDates(GIVEN), TODAY))
    assert (saved.questionnaire_id, saved.version) == (mini.meta.id, mini.meta.version)
    assert saved.answers == {"age": [40], "sex": ["female"], "alarms": ["black_stool"]}
    assert saved.dates(TODAY) == AnswerDates(GIVEN, TODAY)


def test_an_older_file_date_is_the_day_answered_and_a_future_one_is_today() -> None:
    """A file with only `date` keeps it; a day after today cannot be right."""
    old = parse_document(
        b'{"questionnaire": {"id": "q", "version": "1"}, "date": "2026-06-01", "answers": {}}'
    )
    assert old.dates(TODAY) == AnswerDates(GIVEN, TODAY)
    future = parse_document(
        b'{"questionnaire": {"id": "q", "version": "1"}, "answered_at": "2027-01-01", "answers": {}}'
    )
    assert future.dates(TODAY) == AnswerDates(TODAY)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", NOT_READABLE),
        (b"{", NOT_READABLE),
        (b"[1]", WRONG_SHAPE),
        (b'{"questionnaire": {}, "answers": {}}', WRONG_SHAPE),
    ],
)
def test_files_that_are_not_answers_are_refused_in_plain_words(data: bytes, message: str) -> None:
    """Broken or foreign JSON gives the person's message, never an exception of another kind."""
    with pytest.raises(SavedFileError, match="^" + message[:20]):
        parse_document(data)


def test_compact_dates_round_trip_and_odd_text_means_today() -> None:
    """The cookie's short form reads back; anything unreadable or in the future is today."""
    for dates in (AnswerDates(GIVEN), AnswerDates(GIVEN, TODAY)):
        assert AnswerDates.from_compact(dates.compact(), TODAY) == dates
    for odd in (None, "", "soon", "2026-06-01 2026-13-01", "2027-01-01", 20260601):
        assert AnswerDates.from_compact(odd, TODAY) == AnswerDates(TODAY)


def test_a_restored_file_keeps_what_fits_and_names_what_it_left_out() -> None:
    """An invalid answer and an unknown question are named; a retired option is asked again on its
    own page; every other answer is kept."""
    real = load_questionnaire(ROOT / "questions.yaml", ROOT / "templates" / "guidance")
    p1 = yaml.safe_load((ROOT / "tests" / "cases" / "p1_emma.yaml").read_text(encoding="utf-8"))["answers"]
    raw = {qid: value if isinstance(value, list) else [value] for qid, value in p1.items()}
    raw |= {"conditions": ["ibd", "liver"], "age": ["two hundred"], "gone_question": [3]}
    restored = restore(real, SavedAnswers(real.meta.id, "1.0.0", raw))
    assert restored.answers["conditions"] == ("liver",)
    assert "age" not in restored.answers
    assert restored.dropped == ((real.questions["age"].label, NOT_VALID), ("gone_question", NO_SUCH_QUESTION))
    assert [text.split(":")[0] for text in restored.asked_again] == [
        real.questions["conditions"].summary_label
    ]
    first = restored.first_to_ask()
    assert first is not None and first.id == real.questions["age"].section_id


def test_a_restored_file_with_nothing_to_ask_again_goes_to_the_review(mini: Questionnaire) -> None:
    """Complete, valid answers leave nothing dropped and no page to ask first."""
    raw: dict[str, list[object]] = {"age": [40], "sex": ["male"], "pain": [3], "alarms": ["none"]}
    restored = restore(mini, SavedAnswers(mini.meta.id, mini.meta.version, raw))
    assert restored.dropped == () and restored.asked_again == ()
    assert restored.first_to_ask() is None


def test_a_long_date_names_the_day_month_and_year_as_strftime_does() -> None:
    """Every day of a few years reads as strftime writes it, such as 1 June 2026."""
    day = dt.date(2024, 1, 1)
    while day.year < 2028:
        assert long_date(day) == f"{day.day} {day:%B %Y}"
        day += dt.timedelta(days=1)
    assert long_date(dt.date(2026, 6, 1)) == "1 June 2026"
