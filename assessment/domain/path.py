"""The visible path and how a person moves along it: position, next and previous, what is missing."""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass

from assessment.domain.answers import AnswerValue
from assessment.domain.model import Question
from assessment.domain.model import Section


@dataclass(frozen=True, slots=True)
class VisiblePath:
    """The sections and questions a person is shown for a given set of answers."""

    sections: tuple[Section, ...]
    questions: tuple[Question, ...]

    @property
    def question_ids(self) -> tuple[str, ...]:
        """Return the ids of the visible questions, in order."""
        return tuple(q.id for q in self.questions)

    def questions_in(self, section_id: str) -> tuple[Question, ...]:
        """Return the visible questions of one section."""
        return tuple(q for q in self.questions if q.section_id == section_id)

    def position(self, section_id: str) -> int | None:
        """Return the 0-based index of a section among the visible ones, or None when it is hidden."""
        for index, section in enumerate(self.sections):
            if section.id == section_id:
                return index
        return None

    def next_section(self, section_id: str) -> Section | None:
        """Return the visible section after this one, or None at the end (or when it is hidden)."""
        index = self.position(section_id)
        if index is None or index + 1 >= len(self.sections):
            return None
        return self.sections[index + 1]

    def previous_section(self, section_id: str) -> Section | None:
        """Return the visible section before this one, or None at the start (or when it is hidden)."""
        index = self.position(section_id)
        if not index:
            return None
        return self.sections[index - 1]

    def next_after(self, order: tuple[Section, ...], section_id: str) -> Section | None:
        """Return the first visible section after a (hidden) one, in the questionnaire's `order`."""
        ids = [s.id for s in order]
        after = ids.index(section_id)
        return next((s for s in self.sections if ids.index(s.id) > after), None)

    def missing_required(self, answers: Mapping[str, AnswerValue]) -> tuple[Question, ...]:
        """Return the required visible questions without an answer, in path order."""
        return tuple(self._missing(answers))

    def first_missing(self, answers: Mapping[str, AnswerValue], *, before: str = "") -> Section | None:
        """Return the first visible section with a required answer missing (only one that comes
        before section `before` on the path, when given)."""
        for question in self._missing(answers, stop_at=before):
            return self._section(question.section_id)
        return None

    def _missing(self, answers: Mapping[str, AnswerValue], stop_at: str = "") -> Iterator[Question]:
        for question in self.questions:
            if question.section_id == stop_at:
                return
            if question.required and question.id not in answers:
                yield question

    def _section(self, section_id: str) -> Section | None:
        return next((s for s in self.sections if s.id == section_id), None)
