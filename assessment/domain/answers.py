"""Answers: strict parsing of raw input (form posts, JSON, saved files) into typed values."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from decimal import InvalidOperation

from assessment.domain.model import Question
from assessment.domain.model import Questionnaire
from assessment.domain.model import QuestionType

AnswerValue = int | Decimal | str | tuple[str, ...]
"""A parsed answer: int (scale, integer), Decimal (number), str (single, yes_no, text), tuple (multi)."""


# ASCII digits only: int() would also take "1_0", "+3", " 7 " and "٧".
_INTEGER = re.compile(r"[0-9]{1,6}")
_NUMBER = re.compile(r"[0-9]{1,6}(?:\.([0-9]{1,6}))?")
# Format and control characters (bidi overrides, zero-width, NUL) are removed from free text;
# newlines and tabs are kept for multi-line answers.
_KEEP_CONTROLS = {"\n", "\t"}


@dataclass(frozen=True, slots=True)
class Answers(Mapping[str, AnswerValue]):
    """An immutable map from question id to a parsed, valid answer."""

    data: Mapping[str, AnswerValue] = field(default_factory=dict)

    def __getitem__(self, key: str) -> AnswerValue:
        return self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def __contains__(self, key: object) -> bool:
        # Mapping's default would raise and catch a KeyError for every missing answer.
        return key in self.data

    def get(self, key: str, default: AnswerValue | None = None) -> AnswerValue | None:  # type: ignore[override]
        """Return the answer to a question, or default when it has none."""
        return self.data.get(key, default)

    def merged(self, other: Mapping[str, AnswerValue], replace: Iterable[str] = ()) -> Answers:
        """Return these answers updated by other; ids in replace are dropped first (cleared fields)."""
        dropped = set(replace)
        values = {k: v for k, v in self.data.items() if k not in dropped}
        values.update(other)
        return Answers(values)

    def only(self, ids: Iterable[str]) -> Answers:
        """Return the answers to the given question ids only."""
        keep = set(ids)
        return Answers({k: v for k, v in self.data.items() if k in keep})

    def to_json(self) -> dict[str, str | int | float | list[str]]:
        """Return a JSON-ready dict (numbers stay numbers, multi answers become lists)."""
        out: dict[str, str | int | float | list[str]] = {}
        for key, value in self.data.items():
            if isinstance(value, tuple):
                out[key] = list(value)
            elif isinstance(value, Decimal):
                out[key] = int(value) if value == value.to_integral_value() else float(value)
            else:
                out[key] = value
        return out


@dataclass(frozen=True, slots=True)
class ParseResult:
    """What parsing raw input gave: the valid answers, per-question messages and unknown ids."""

    answers: Answers
    errors: dict[str, tuple[str, ...]]
    unknown: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Say whether every answer was valid."""
        return not self.errors


RawInput = Mapping[str, Sequence[object]]
"""Raw input: question id to the list of values sent (a form sends one per ticked box)."""


def parse_answers(
    questionnaire: Questionnaire,
    raw: RawInput,
    *,
    only: Iterable[str] | None = None,
) -> ParseResult:
    """Parse raw values for the given questions (all by default); never raises on bad input."""
    ids = list(only) if only is not None else list(questionnaire.questions)
    answers: dict[str, AnswerValue] = {}
    errors: dict[str, tuple[str, ...]] = {}
    for qid in ids:
        question = questionnaire.questions[qid]
        values = [v for v in raw.get(qid, ()) if not (isinstance(v, str) and v.strip() == "")]
        if not values:
            continue  # a missing required answer is the path's to report: VisiblePath.missing_required
        value, message = parse_value(question, values)
        if message:
            errors[qid] = (message,)
        elif value is not None:
            answers[qid] = value
    known = set(questionnaire.questions)
    unknown = tuple(sorted(k for k in raw if k not in known))
    return ParseResult(Answers(answers), errors, unknown)


def without_retired(questionnaire: Questionnaire, raw: RawInput) -> tuple[RawInput, dict[str, str]]:
    """Drop option values that an older version offered, keeping the rest of each answer.

    Returns the cleaned input and, per question, the message that asks for a new answer: a file
    saved before an option was split (one answer became two) restores what still fits and says so.
    """
    cleaned: dict[str, Sequence[object]] = dict(raw)
    notes: dict[str, str] = {}
    for qid, values in raw.items():
        question = questionnaire.questions.get(qid)
        if question is None or not question.retired_options:
            continue
        kept = [v for v in values if not _retired(question, v)]
        if len(kept) < len(values):
            notes[qid] = next(_retired(question, v) for v in values if _retired(question, v))
            cleaned[qid] = kept
    return cleaned, notes


def parse_value(question: Question, values: Sequence[object]) -> tuple[AnswerValue | None, str]:
    """Parse one question's raw values; return (value, "") or (None, a plain-language message)."""
    if question.type is QuestionType.MULTI:
        return _parse_multi(question, values)
    if len(values) > 1:
        return None, "Choose only one answer." if question.type.has_options else "Give one answer."
    value = values[0]
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None, "This answer is not in a form we can read."
    text = value if isinstance(value, str) else _number_text(value)
    if question.type in (QuestionType.SCALE, QuestionType.INTEGER):
        return _parse_integer(question, text)
    if question.type is QuestionType.NUMBER:
        return _parse_number(question, text)
    if question.type is QuestionType.TEXT:
        return _parse_text(question, text)
    if question.option(text) is None:
        return None, _retired(question, text) or "Choose one of the answers shown."
    return text, ""


def _retired(question: Question, value: object) -> str:
    """Return the message for a value that an older version offered, or ''."""
    return next((message for old, message in question.retired_options if old == value), "")


def _number_text(value: int | float) -> str:
    """Write a JSON number the way a person would type it."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _parse_multi(question: Question, values: Sequence[object]) -> tuple[AnswerValue | None, str]:
    chosen: list[str] = []
    for value in values:
        if not isinstance(value, str) or question.option(value) is None:
            return None, _retired(question, value) or "Choose from the answers shown."
        if value in chosen:
            return None, "Each answer can be ticked only once."
        chosen.append(value)
    exclusive = [v for v in chosen if v in question.exclusive]
    if exclusive and len(chosen) > 1:
        label = question.option(exclusive[0])
        name = label.label if label else exclusive[0]
        return None, f"\u201c{name}\u201d cannot be ticked together with other answers."
    # Keep the questionnaire's option order so equal answers compare equal.
    order = [opt.value for opt in question.options]
    return tuple(sorted(chosen, key=order.index)), ""


def _parse_integer(question: Question, text: str) -> tuple[AnswerValue | None, str]:
    text = text.strip()
    if not _INTEGER.fullmatch(text):
        return None, f"Enter a whole number{_range_hint(question)}, using digits only."
    number = int(text)
    return _in_range(question, Decimal(number), number)


def _parse_number(question: Question, text: str) -> tuple[AnswerValue | None, str]:
    text = text.strip()
    match = _NUMBER.fullmatch(text)
    if not match:
        return None, f"Enter a number{_range_hint(question)}, using digits and a point (like 2.5)."
    if match.group(1) and len(match.group(1)) > max(question.decimals, 0):
        places = question.decimals
        if places == 0:
            return None, "Enter a whole number."
        return None, f"Use at most {places} digit{'s' if places > 1 else ''} after the point."
    try:
        number = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern already excludes this
        return None, "Enter a number."
    return _in_range(question, number, number)


def _in_range(question: Question, number: Decimal, value: AnswerValue) -> tuple[AnswerValue | None, str]:
    lo, hi = question.minimum, question.maximum
    if (lo is not None and number < lo) or (hi is not None and number > hi):
        return None, f"Enter a number{_range_hint(question)}."
    return value, ""


def _range_hint(question: Question) -> str:
    lo, hi = question.minimum, question.maximum
    unit = f" {question.unit}" if question.unit else ""
    if lo is not None and hi is not None:
        return f" from {plain(lo)} to {plain(hi)}{unit}"
    return ""


def plain(number: Decimal) -> str:
    """Write a number without trailing zeros: 10, 2.5."""
    return str(number.normalize()) if number != number.to_integral_value() else str(int(number))


def _parse_text(question: Question, text: str) -> tuple[AnswerValue | None, str]:
    cleaned = clean_text(text, multiline=question.multiline)
    if len(cleaned) > question.max_length:
        return None, f"Keep this to {question.max_length} characters or fewer."
    if not cleaned:
        return None, ""
    return cleaned, ""


def clean_text(text: str, *, multiline: bool) -> str:
    """Remove control and format characters (and lone surrogates); normalise line ends."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    kept = []
    for ch in unicodedata.normalize("NFC", text.encode("utf-8", "ignore").decode("utf-8")):
        category = unicodedata.category(ch)
        if ch in _KEEP_CONTROLS and multiline:
            kept.append(ch)
        elif ch in _KEEP_CONTROLS:
            kept.append(" ")
        elif category in ("Cc", "Cf", "Cs", "Co", "Cn"):
            continue
        else:
            kept.append(ch)
    return "".join(kept).strip()


def required_message(question: Question) -> str:
    """Return the message for a missing required answer: the author's own, else a made one."""
    return question.error or missing_message(question)


def missing_message(question: Question) -> str:
    """Return the message for a missing answer, made from the question's type and name."""
    name = f"\u201c{question.summary_label}\u201d"
    qtype = question.type
    if qtype is QuestionType.SCALE:
        low, high = plain(question.minimum or Decimal(0)), plain(question.maximum or Decimal(10))
        return f"Select a number from {low} to {high} for {name}"
    if qtype is QuestionType.MULTI:
        extra = ""
        if question.exclusive:
            opt = question.option(question.exclusive[0])
            extra = f", or \u201c{opt.label if opt else question.exclusive[0]}\u201d"
        return f"Select at least one answer for {name}{extra}"
    if qtype.has_options:
        return f"Select an answer for {name}"
    if qtype is QuestionType.INTEGER:
        return f"Enter a whole number for {name}"
    if qtype is QuestionType.NUMBER:
        return f"Enter a number for {name}"
    return f"Write an answer for {name}"


def display_value(question: Question, value: AnswerValue) -> str:
    """Show an answer as a person reads it: option labels, numbers with units."""
    if isinstance(value, tuple):
        return ", ".join(_option_label(question, v) for v in value) or "None ticked"
    if question.type.has_options and isinstance(value, str):
        return _option_label(question, value)
    if isinstance(value, Decimal):
        text = plain(value)
    else:
        text = str(value)
    if question.type is QuestionType.SCALE:
        return f"{text} out of 10"
    return f"{text} {_unit_for(question.unit, text)}".strip() if question.unit else text


def _unit_for(unit: str, number: str) -> str:
    """Return the unit as it reads after the number: '1 day', '1 serving a day', '2 days'."""
    first, _, rest = unit.partition(" ")
    if number == "1" and len(first) > 3 and first.endswith("s"):
        return f"{first[:-1]} {rest}".strip()
    return unit


def _option_label(question: Question, value: str) -> str:
    opt = question.option(value)
    return opt.label if opt else value
