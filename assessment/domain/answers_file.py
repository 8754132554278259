"""The answers.json format, written and read here only: questionnaire id and version, the dates, the answers.

The file travels inside the summary PDF and on its own; loading it again gives raw answers (question id
to the list of values), to be parsed by the same strict parser as the forms.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from assessment.domain.answers import Answers
from assessment.domain.answers import parse_answers
from assessment.domain.answers import without_retired
from assessment.domain.model import Questionnaire
from assessment.domain.model import Section
from assessment.domain.path import VisiblePath
from assessment.domain.scoring import Assessment
from assessment.domain.scoring import prune
from assessment.domain.scoring import visible_path

NOT_READABLE = (
    "We could not read this file. Choose the answers file (.json) or the summary PDF "
    "that you saved from this tool."
)
WRONG_SHAPE = "This file does not contain answers from this tool in a form we can read."
NOT_VALID = "answer not valid"
NO_SUCH_QUESTION = "no such question"


class SavedFileError(Exception):
    """The file cannot be used; the message says why, in plain words."""


@dataclass(frozen=True, slots=True)
class AnswerDates:
    """When the answers were given (their last change) and, for a restored file, when it was restored."""

    answered_at: dt.date
    restored_on: dt.date | None = None

    @property
    def text(self) -> str:
        """Say it as the header does: "Answers given on 1 June 2026 (restored 29 November 2026)"."""
        given = f"Answers given on {long_date(self.answered_at)}"
        if self.restored_on is None or self.restored_on == self.answered_at:
            return given
        return f"{given} (restored {long_date(self.restored_on)})"

    @property
    def answered_on(self) -> str:
        """Return the day the answers were given, as "1 June 2026"."""
        return long_date(self.answered_at)

    @property
    def restored(self) -> bool:
        """Say whether the answers came from a file saved on an earlier day."""
        return self.restored_on is not None and self.restored_on != self.answered_at

    def compact(self) -> str:
        """Write the dates as "2026-06-01" or "2026-06-01 2026-11-29" (21 bytes at most, for a cookie)."""
        restored = f" {self.restored_on.isoformat()}" if self.restored and self.restored_on else ""
        return self.answered_at.isoformat() + restored

    @classmethod
    def from_compact(cls, stored: object, today: dt.date) -> AnswerDates:
        """Read compact() text back; today when it is missing, unreadable or names a later day."""
        days: list[dt.date] = []
        if isinstance(stored, str) and len(stored) <= 21:
            for part in stored.split():
                try:
                    days.append(dt.date.fromisoformat(part))
                except ValueError:
                    return cls(today)
        # A date after today cannot be right (a clock or a file from elsewhere): today instead.
        if not days or any(day > today for day in days):
            return cls(today)
        return cls(days[0], days[1] if len(days) > 1 else None)


_MONTHS = tuple(dt.date(2000, month, 1).strftime("%B") for month in range(1, 13))


def long_date(day: dt.date) -> str:
    """Return "1 June 2026" (no leading zero: it reads as a date, not a code)."""
    # The month's name from a table: strftime took ten times as long, on every results page.
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def answers_document(assessment: Assessment, dates: AnswerDates, exported_at: dt.date) -> bytes:
    """The answers as a small JSON file that travels inside the PDF and can be loaded again.

    ``answered_at`` is the day of the last change to the answers, which a restored file keeps;
    ``exported_at`` is the day this file was made.
    """
    meta = assessment.questionnaire.meta
    document = {
        "questionnaire": {"id": meta.id, "version": meta.version},
        "answered_at": dates.answered_at.isoformat(),
        "exported_at": exported_at.isoformat(),
        "answers": assessment.answers.to_json(),
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


@dataclass(frozen=True, slots=True)
class SavedAnswers:
    """What a saved file holds: which questionnaire (and version) it was made with, and raw answers."""

    questionnaire_id: str
    version: str
    answers: dict[str, list[object]]
    # The day the answers were given; None when the file does not say (or says something odd).
    answered_at: dt.date | None = None

    def dates(self, today: dt.date) -> AnswerDates:
        """Keep the day the file's answers were given (today when it does not say, or names a later
        day), restored today."""
        given = self.answered_at
        if given is None or given > today:
            return AnswerDates(today)
        return AnswerDates(given, today)


def parse_document(data: bytes) -> SavedAnswers:
    """Parse an answers document: {"questionnaire": {"id", "version"}, "answered_at", "answers": {...}}.

    Files saved before `answered_at` and `exported_at` were told apart carry one `date`: read as
    the day the answers were given.
    """
    if not data.strip():
        raise SavedFileError(NOT_READABLE)
    try:
        document: Any = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise SavedFileError(NOT_READABLE) from exc
    if not isinstance(document, dict):
        raise SavedFileError(WRONG_SHAPE)
    meta, answers = document.get("questionnaire"), document.get("answers")
    if not isinstance(meta, dict) or not isinstance(answers, dict):
        raise SavedFileError(WRONG_SHAPE)
    qid, version = meta.get("id"), meta.get("version")
    if not isinstance(qid, str) or not isinstance(version, str):
        raise SavedFileError(WRONG_SHAPE)
    raw: dict[str, list[object]] = {}
    for key, value in answers.items():
        values = value if isinstance(value, list) else [value]
        # null means "not answered", as a field left blank.
        raw[key] = [v for v in values if v is not None]
    return SavedAnswers(qid, version, raw, _answered_at(document))


def _answered_at(document: dict[str, Any]) -> dt.date | None:
    """Return the file's answered-at date (or an older file's `date`), if it is a plain ISO date."""
    value = document.get("answered_at", document.get("date"))
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Restored:
    """What a saved file gives back: the answers kept, those left out, and those to give again."""

    answers: Answers
    path: VisiblePath
    # (question label or unknown id, why), in questionnaire order: for the person to be told.
    dropped: tuple[tuple[str, str], ...]
    # "Question: why", for each answer a newer version asks again (an option was split or retired).
    asked_again: tuple[str, ...]
    changed_sections: frozenset[str]

    def first_to_ask(self) -> Section | None:
        """The first visible section with a required answer missing or an answer to give again."""
        missing = self.path.first_missing(self.answers)
        for section in self.path.sections:
            if section is missing or section.id in self.changed_sections:
                return section
        return None


def restore(questionnaire: Questionnaire, saved: SavedAnswers) -> Restored:
    """Parse a saved file's answers as the forms would, keeping what still fits this version."""
    raw, retired = without_retired(questionnaire, saved.answers)
    parsed = parse_answers(questionnaire, raw)
    answers = prune(questionnaire, parsed.answers)
    path = visible_path(questionnaire, answers)
    invalid = [qid for qid in path.question_ids if qid in parsed.errors]
    dropped = [(questionnaire.questions[qid].label, NOT_VALID) for qid in invalid]
    dropped += [(qid, NO_SUCH_QUESTION) for qid in parsed.unknown]
    again = [questionnaire.questions[qid] for qid in path.question_ids if qid in retired]
    return Restored(
        answers,
        path,
        tuple(dropped),
        tuple(f"{q.summary_label}: {retired[q.id]}" for q in again),
        frozenset(q.section_id for q in again),
    )
