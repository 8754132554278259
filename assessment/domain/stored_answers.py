"""Re-check answers the app stored itself: what `parse_answers` gives, parsing only what it must.

A session cookie holds answers in the parser's own form (numbers as JSON numbers, choices as option
values, ticked boxes in the questionnaire's order), and every request reads them back as if they had
just been posted, so a changed questionnaire or a forged value never gets through. Most values are
already exactly what the parser would return: a per-question check made once per questionnaire
accepts those as they are, and only the others go through `parse_answers`. `parse_stored` is the
plain way, the reference the equivalence tests compare with.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from collections.abc import Mapping
from decimal import Decimal

from assessment.domain.answers import Answers
from assessment.domain.answers import AnswerValue
from assessment.domain.answers import parse_answers
from assessment.domain.model import Question
from assessment.domain.model import Questionnaire
from assessment.domain.model import QuestionType

_MAX_DIGITS = 999_999  # the parser reads at most six digits
_MISSING = object()

Check = Callable[[object], AnswerValue | None]
"""Return a stored value when it is exactly what the parser would return for it, else None."""


def parse_stored(questionnaire: Questionnaire, data: Mapping[str, object]) -> Answers:
    """Parse stored answers with `parse_answers`, as a form post of the same values."""
    raw = {
        k: list(v) if isinstance(v, list) else [v] for k, v in data.items() if k in questionnaire.questions
    }
    return parse_answers(questionnaire, raw).answers


class StoredAnswerCheck:
    """Each question's check, made once, in the questionnaire's order; calling it re-checks a stored
    answer set."""

    def __init__(self, questionnaire: Questionnaire) -> None:
        self._questionnaire = questionnaire
        self._checks = tuple((q.id, _check_for(q)) for q in questionnaire.questions.values())
        self._by_id = {qid: (index, check) for index, (qid, check) in enumerate(self._checks)}

    def __call__(self, data: Mapping[str, object]) -> Answers:
        """Return what `parse_stored` returns for the same data."""
        # The usual cookie: every key a question's, every value in the parser's form. Looking at the
        # stored answers only (a page in holds a quarter of the questions) settles it; anything
        # else takes the whole way below. Answers saved after going back to an earlier page are
        # out of the questionnaire's order: they are put back in it, as the parser gives them.
        by_id, checked, last, in_order = self._by_id, {}, -1, True
        for qid, value in data.items():
            found = by_id.get(qid)
            if found is None:
                return self._every_question(data)
            index, check = found
            ready = check(value)
            if ready is None:
                return self._every_question(data)
            checked[qid] = ready
            in_order = in_order and index > last
            last = index
        if not in_order:
            checked = dict(sorted(checked.items(), key=lambda item: by_id[item[0]][0]))
        return Answers(checked)

    def _every_question(self, data: Mapping[str, object]) -> Answers:
        """Check each question's stored value in the questionnaire's order; parse what fails."""
        stored = data.get
        # In the questionnaire's order, as parse_answers gives them (a missing value passes no check).
        checked = {
            qid: ready for qid, check in self._checks if (ready := check(stored(qid, _MISSING))) is not None
        }
        if len(checked) == len(data):
            return Answers(checked)  # every stored value was a question's, in the parser's own form
        questions = self._questionnaire.questions
        raw = {
            qid: list(value) if isinstance(value, list) else [value]
            for qid, value in data.items()
            if qid in questions and qid not in checked  # another key is dropped, as the parser does
        }
        if raw:
            parsed = parse_answers(self._questionnaire, raw, only=list(raw)).answers
            merged = ((qid, checked[qid] if qid in checked else parsed.get(qid)) for qid, _ in self._checks)
            checked = {qid: value for qid, value in merged if value is not None}
        return Answers(checked)


def _check_for(question: Question) -> Check:
    """Return the check of one question: it accepts only values the parser would return unchanged."""
    kind = question.type
    if kind in (QuestionType.SCALE, QuestionType.INTEGER):
        return _whole_check(question)
    if kind is QuestionType.NUMBER:
        whole = _whole_check(question)

        def number(value: object) -> Decimal | None:
            found = whole(value)  # a fraction (a JSON float) goes to the parser
            return Decimal(found) if found is not None else None

        return number
    if kind is QuestionType.MULTI:
        return _multi_check(question)
    if kind is QuestionType.TEXT:
        return _text_check(question)
    # A blank value is no answer to the parser: it never passes a check.
    order = {opt.value for opt in question.options if opt.value.strip()}

    def choice(value: object) -> str | None:
        return value if type(value) is str and value in order else None

    return choice


def _whole_check(question: Question) -> Callable[[object], int | None]:
    """A JSON int (not bool) of at most six digits, in range: what `_parse_integer` gives."""
    lo, hi = question.minimum, question.maximum

    def whole(value: object) -> int | None:
        if type(value) is not int or not 0 <= value <= _MAX_DIGITS:
            return None
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            return None
        return value

    return whole


def _multi_check(question: Question) -> Check:
    """Known options, each once, in the questionnaire's order; an exclusive one alone."""
    order = {opt.value: index for index, opt in enumerate(question.options) if opt.value.strip()}
    exclusive = frozenset(question.exclusive)

    def multi(value: object) -> tuple[str, ...] | None:
        if type(value) is not list or not value:
            return None
        last = -1
        for item in value:
            position = order.get(item) if type(item) is str else None
            if position is None or position <= last:
                return None
            last = position
        if len(value) > 1 and not exclusive.isdisjoint(value):
            return None
        return tuple(value)

    return multi


def _text_check(question: Question) -> Check:
    """Text that `clean_text` would leave as it is: printable (no control, format, private or
    unassigned characters; newlines and tabs only in a text area), NFC, trimmed."""
    limit, multiline = question.max_length, question.multiline

    def text(value: object) -> str | None:
        if type(value) is not str or not 0 < len(value) <= limit or value != value.strip():
            return None
        shown = value.replace("\n", "").replace("\t", "") if multiline else value
        # ASCII text is always NFC: only other text needs the (slower) normalisation check.
        if not shown.isprintable() or not (value.isascii() or unicodedata.is_normalized("NFC", value)):
            return None
        return value

    return text
