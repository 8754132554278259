"""The answers.json format: what is written reads back, with its dates."""

from __future__ import annotations

import datetime as dt

import pytest

from assessment.domain import Questionnaire
from assessment.domain import assess
from assessment.domain.answers_file import NOT_READABLE
from assessment.domain.answers_file import WRONG_SHAPE
from assessment.domain.answers_file import AnswerDates
from assessment.domain.answers_file import SavedFileError
from assessment.domain.answers_file import answers_document
from assessment.domain.answers_file import long_date
from assessment.domain.answers_file import parse_document

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


def test_a_long_date_names_the_day_month_and_year_as_strftime_does() -> None:
    """Every day of a few years reads as strftime writes it, such as 1 June 2026."""
    day = dt.date(2024, 1, 1)
    while day.year < 2028:
        assert long_date(day) == f"{day.day} {day:%B %Y}"
        day += dt.timedelta(days=1)
    assert long_date(dt.date(2026, 6, 1)) == "1 June 2026"
