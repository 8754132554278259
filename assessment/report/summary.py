"""The clinician summary: what page 1 and the appendix show, worked out from an Assessment."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass

from assessment.domain import AlarmReport
from assessment.domain import Assessment
from assessment.domain import FiredRule
from assessment.domain import Question
from assessment.domain import ScoreResult
from assessment.domain import Urgency
from assessment.domain import alarm_report
from assessment.domain import display_value

# Page-1 blocks, by questionnaire section: a clinician reads these after alarms and scores.
BLOCKS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Glutamine", ("glutamine", "side_effects")),
    ("Other supplements", ("supplements",)),
    ("Conditions and medicines", ("health",)),
    ("Diet and what was tried", ("food", "diet")),
    ("In the person's own words", ("notes",)),
)
# Answers that say "nothing here" are left off page 1 (they stay in the appendix) to keep it short.
NOTHING = frozenset({"never", "none", "no"})
ALWAYS_SHOWN = frozenset({"glutamine_status"})
NOT_ON_PAGE_ONE = frozenset({"summary_name"})
@dataclass(frozen=True, slots=True)
class Row:
    """One line of a table: a label and a value (``blank``: the question was left unanswered)."""

    label: str
    value: str
    blank: bool = False


@dataclass(frozen=True, slots=True)
class NotAsked:
    """Questions in a row that earlier answers skipped: printed as one line, in question order."""

    labels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Block:
    """A titled group of rows."""

    title: str
    rows: tuple[Row | NotAsked, ...]


@dataclass(frozen=True, slots=True)
class ClinicianSummary:
    """Everything the summary template prints, in reading order."""

    title: str
    questionnaire_id: str
    version: str
    completed: dt.date
    name: str
    age: str
    urgency: Urgency
    urgency_words: str
    alarms: AlarmReport
    safety_net: tuple[str, ...]
    scores: tuple[ScoreResult, ...]
    patterns: tuple[Row, ...]
    blocks: tuple[Block, ...]
    rules: tuple[FiredRule, ...]
    appendix: tuple[Block, ...]


def build_summary(
    assessment: Assessment,
    completed: dt.date,
    urgency_words: Mapping[Urgency, str],
    safety_net: tuple[str, ...] = (),
) -> ClinicianSummary:
    """Arrange an assessment for a two-minute read: red flags, scores, supplements, the person's words."""
    questionnaire = assessment.questionnaire
    answers = assessment.answers
    name = answers.get("summary_name")
    age = answers.get("age")
    shown_scores = tuple(s for s in assessment.scores if s.score.show_value)
    patterns = tuple(Row(s.score.label, s.band_label) for s in assessment.scores if not s.score.show_value)
    return ClinicianSummary(
        title=questionnaire.meta.title,
        questionnaire_id=questionnaire.meta.id,
        version=questionnaire.meta.version,
        completed=completed,
        name=name if isinstance(name, str) else "",
        age=str(age) if age is not None else "not given",
        urgency=assessment.urgency,
        urgency_words=urgency_words[assessment.urgency],
        alarms=alarm_report(assessment),
        safety_net=safety_net,
        scores=shown_scores,
        patterns=patterns,
        blocks=_blocks(assessment),
        rules=assessment.rules,
        appendix=_appendix(assessment),
    )


def _blocks(assessment: Assessment) -> tuple[Block, ...]:
    out = []
    for title, section_ids in BLOCKS:
        rows = []
        for question in assessment.path.questions:
            if question.section_id not in section_ids or question.id in NOT_ON_PAGE_ONE:
                continue
            value = assessment.answers.get(question.id)
            if value is None or (_says_nothing(value) and question.id not in ALWAYS_SHOWN):
                continue
            rows.append(Row(question.summary_label, display_value(question, value)))
        if rows:
            out.append(Block(title, tuple(rows)))
    return tuple(out)


def _says_nothing(value: object) -> bool:
    if isinstance(value, tuple):
        return not value or set(value) <= NOTHING
    return value in NOTHING or value == 0


def _appendix(assessment: Assessment) -> tuple[Block, ...]:
    """Every question in order; a run of skipped ones is one 'Not asked' line, apart from 'No'.

    One line per run rather than one per question: a skipped follow-up says nothing new, and every
    line costs render time (P1 skips 28 of 78 questions).
    """
    shown = set(assessment.path.question_ids)
    blocks = []
    for section in assessment.questionnaire.sections:
        rows: list[Row | NotAsked] = []
        for question in section.questions:
            if question.id in shown:
                rows.append(_appendix_row(question, assessment))
            elif rows and isinstance(rows[-1], NotAsked):
                rows[-1] = NotAsked((*rows[-1].labels, question.label))
            else:
                rows.append(NotAsked((question.label,)))
        blocks.append(Block(section.title, tuple(rows)))
    return tuple(blocks)


def _appendix_row(question: Question, assessment: Assessment) -> Row:
    value = assessment.answers.get(question.id)
    if value is None:
        return Row(question.label, "Not answered", blank=True)
    return Row(question.label, display_value(question, value))


def answers_document(assessment: Assessment, completed: dt.date) -> bytes:
    """The answers as a small JSON file that travels inside the PDF and can be loaded again."""
    meta = assessment.questionnaire.meta
    document = {
        "questionnaire": {"id": meta.id, "version": meta.version},
        "date": completed.isoformat(),
        "answers": assessment.answers.to_json(),
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
