"""The clinician summary: page 1 as questions.yaml's `summary:` declares it, then guidance and transcript.

Nothing here names a section, question or option: the declaration does (domain/summary_spec.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from assessment.domain import AlarmReport
from assessment.domain import AnswerValue
from assessment.domain import Assessment
from assessment.domain import FiredRule
from assessment.domain import Question
from assessment.domain import QuestionType
from assessment.domain import ScoreResult
from assessment.domain import Urgency
from assessment.domain import alarm_report
from assessment.domain import display_value
from assessment.domain.answers_file import AnswerDates
from assessment.domain.summary_spec import DEFAULT_BLOCKS
from assessment.domain.summary_spec import MedicineRow
from assessment.domain.summary_spec import StorySlot
from assessment.domain.summary_spec import SummaryBlock
from assessment.domain.summary_spec import SummarySpec

NOT_GIVEN = "not given"


@dataclass(frozen=True, slots=True)
class Row:
    """One line of a block: a label and a value (``blank``: on the path but left unanswered)."""

    label: str
    value: str
    blank: bool = False
    free_text: bool = False


@dataclass(frozen=True, slots=True)
class NotAsked:
    """Questions in a row that earlier answers skipped: printed as one line, in question order."""

    labels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Medicine:
    """A medicine or supplement named by the person; ``words``: their own text, printed as it is."""

    name: str
    dose: str = ""
    duration: str = ""
    effect: str = ""
    words: str = ""
    details_asked: bool = True


@dataclass(frozen=True, slots=True)
class Block:
    """A page-1 block (kind: alarms, safety_net, medicines, answers or scores) or a transcript section."""

    title: str
    kind: str = "answers"
    rows: tuple[Row | NotAsked, ...] = ()
    medicines: tuple[Medicine, ...] = ()
    scores: tuple[ScoreResult, ...] = ()


@dataclass(frozen=True, slots=True)
class ClinicianSummary:
    """Everything the summary template prints, in reading order."""

    title: str
    questionnaire_id: str
    version: str
    dates: AnswerDates
    name: str
    age: str
    sex: str
    story: str
    urgency: Urgency
    urgency_words: str
    alarms: AlarmReport
    safety_net: tuple[str, ...]
    blocks: tuple[Block, ...]
    rules: tuple[FiredRule, ...]
    appendix: tuple[Block, ...]


def build_summary(
    assessment: Assessment,
    dates: AnswerDates,
    urgency_words: Mapping[Urgency, str],
    safety_net: tuple[str, ...] = (),
) -> ClinicianSummary:
    """Arrange an assessment for a two-minute read, as the questionnaire's `summary:` declares."""
    questionnaire = assessment.questionnaire
    spec = questionnaire.summary or SummarySpec(blocks=DEFAULT_BLOCKS)
    view = _View(assessment)
    name = view.answer(spec.name)
    return ClinicianSummary(
        title=questionnaire.meta.title,
        questionnaire_id=questionnaire.meta.id,
        version=questionnaire.meta.version,
        dates=dates,
        name=name if isinstance(name, str) else "",
        age=view.shown(spec.age),
        sex=view.shown(spec.sex),
        story=story(view, spec),
        urgency=assessment.urgency,
        urgency_words=urgency_words[assessment.urgency],
        alarms=alarm_report(assessment),
        safety_net=safety_net,
        blocks=tuple(b for b in (_block(view, block, safety_net) for block in spec.blocks) if b),
        rules=assessment.rules,
        appendix=_appendix(assessment),
    )


class _View:
    """The answers on the person's path, looked up by id."""

    def __init__(self, assessment: Assessment) -> None:
        self.assessment = assessment
        self.questions = assessment.questionnaire.questions
        self.on_path = set(assessment.path.question_ids)
        self.scores = {s.score.id: s for s in assessment.scores}

    def answer(self, qid: str) -> AnswerValue | None:
        """Return the answer to a question on the path (None when hidden or blank)."""
        return self.assessment.answers.get(qid) if qid in self.on_path else None

    def shown(self, qid: str) -> str:
        """Return an answer as a person reads it, or "not given"."""
        value = self.answer(qid)
        return display_value(self.questions[qid], value) if value is not None else NOT_GIVEN

    def detail(self, qid: str) -> str:
        """Return a medicine's detail: the answer, "not given" when blank, "not asked" when hidden."""
        if not qid:
            return ""
        if qid not in self.on_path:
            return "not asked"
        return self.shown(qid)


# -- the story --------------------------------------------------------------------------------


def story(view: _View, spec: SummarySpec) -> str:
    """Return the one-sentence story, or '' when no slot has an answer."""
    parts = []
    for part in spec.story:
        text = ""
        for slot in part:
            piece = _slot_text(view, slot)
            if not piece:
                continue
            joiner = "" if not text or piece.startswith((",", ";")) else " "
            text = f"{text}{joiner}{piece}" if text else piece.lstrip(",; ")
        if text:
            parts.append(text)
    if not parts:
        return ""
    sentence = "; ".join(parts)
    return sentence[0].upper() + sentence[1:] + "."


def _slot_text(view: _View, slot: StorySlot) -> str:
    if slot.scales:
        return _scales_text(view, slot)
    words = dict(slot.words)
    if slot.score:
        result = view.scores.get(slot.score)
        if result is None or result.band_label in slot.skip:
            return ""
        return slot.text.format(answer=words.get(result.band_label, result.band_label))
    question = view.questions[slot.question]
    value = view.answer(slot.question)
    if value is None:
        return ""
    chosen = value if isinstance(value, tuple) else (value,)
    if question.type.has_options:
        kept = [v for v in chosen if isinstance(v, str) and v not in slot.skip]
        if not kept:
            return ""
        answer = ", ".join(words.get(v) or _lower_first(_label(question, v)) for v in kept)
    elif isinstance(value, Decimal | int) and not isinstance(value, bool):
        answer = _number(value)
    else:
        answer = str(value)
    return slot.text.format(answer=answer)


def _scales_text(view: _View, slot: StorySlot) -> str:
    found = []
    for order, (qid, word) in enumerate(slot.scales):
        value = view.answer(qid)
        if isinstance(value, Decimal | int) and not isinstance(value, bool) and value >= slot.at_least:
            found.append((-value, order, word, value))
    found.sort()
    named = [f"{word} {_number(value)}/10" for _, _, word, value in found[: slot.most]]
    if not named:
        return slot.none
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]


def _number(value: Decimal | int) -> str:
    return format(Decimal(value).normalize(), "f")


def _label(question: Question, value: str) -> str:
    option = question.option(value)
    return option.label if option else value


def _lower_first(text: str) -> str:
    """Lower-case a label's first letter for use inside a sentence, unless it starts an acronym."""
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


# -- the blocks -------------------------------------------------------------------------------


def _block(view: _View, block: SummaryBlock, safety_net: tuple[str, ...]) -> Block | None:
    if block.show == "safety_net":
        return Block(block.title, kind="safety_net") if safety_net else None
    if block.show:
        return Block(block.title, kind=block.show)
    if block.scores:
        found = tuple(view.scores[s] for s in block.scores if s in view.scores)
        return Block(block.title, kind="scores", scores=found)
    if block.medicines:
        named = tuple(m for row in block.medicines for m in _medicines(view, row))
        return Block(block.title, kind="medicines", medicines=named)
    rows: tuple[Row | NotAsked, ...] = tuple(
        _answer_row(view, qid) for qid in block.questions if qid in view.on_path
    )
    return Block(block.title, rows=rows) if rows else None


def _answer_row(view: _View, qid: str) -> Row:
    question = view.questions[qid]
    value = view.answer(qid)
    if value is None:
        return Row(question.summary_label, NOT_GIVEN, blank=True)
    return Row(question.summary_label, display_value(question, value), free_text=question.multiline)


def _medicines(view: _View, row: MedicineRow) -> list[Medicine]:
    """Return the medicine lines one declared row gives: none, one, or one per option ticked."""
    if row.question not in view.on_path:
        return []
    question = view.questions[row.question]
    value = view.answer(row.question)
    if value is None:
        return [Medicine(question.summary_label, words=NOT_GIVEN, details_asked=False)]
    if question.type is QuestionType.TEXT:
        return [Medicine(question.summary_label, words=str(value), details_asked=False)]
    chosen = value if isinstance(value, tuple) else (value,)
    taken = [v for v in chosen if isinstance(v, str) and v in row.taken]
    out = []
    for option_value in taken:
        name = row.name or _label(question, option_value)
        product = view.answer(row.product) if row.product else None
        if row.product:
            name = f"{name}: {product}" if product is not None else f"{name} (product {NOT_GIVEN})"
        asked = bool(row.dose or row.weeks or row.effect)
        out.append(
            Medicine(
                name,
                dose=view.detail(row.dose),
                duration=view.detail(row.weeks),
                effect=view.detail(row.effect),
                details_asked=asked,
            )
        )
    return out


# -- the transcript ---------------------------------------------------------------------------


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
        blocks.append(Block(section.title, rows=tuple(rows)))
    return tuple(blocks)


def _appendix_row(question: Question, assessment: Assessment) -> Row:
    value = assessment.answers.get(question.id)
    if value is None:
        return Row(question.label, "Not answered", blank=True)
    return Row(question.label, display_value(question, value))
