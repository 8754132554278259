"""How long the questionnaire is: the shortest and longest path a person can walk to the end.

The start page promises a range of questions and minutes; it comes from here, so it stays true
when the questionnaire changes. Only the answers that a `visible_if` reads (the "drivers") change
the path, so a search over their values finds the extremes: each driver in turn takes the value
that makes the path longest (or shortest), round after round until nothing changes. A walk that
ends early on a stop rule (under 18) is not a walk to the end and is left out. The answer sets
found are kept, so a test can walk them and check the numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from assessment.domain.answers import AnswerValue
from assessment.domain.model import Question
from assessment.domain.model import Questionnaire
from assessment.domain.model import QuestionType
from assessment.domain.scoring import assess
from assessment.domain.scoring import visible_path

# About four questions a minute: reading a question, thinking back over the week and answering.
SECONDS_PER_QUESTION = 15
MAX_ROUNDS = 6


@dataclass(frozen=True, slots=True)
class PathLength:
    """One walk to the end: how many questions and pages it shows, and answers that walk it."""

    questions: int
    pages: int
    answers: Mapping[str, AnswerValue]


@dataclass(frozen=True, slots=True)
class LengthRange:
    """The shortest and longest walk, and the minutes they take at the stated pace."""

    shortest: PathLength
    longest: PathLength
    seconds_per_question: int = SECONDS_PER_QUESTION

    @property
    def minutes_low(self) -> int:
        """Return the minutes the shortest walk takes, rounded up."""
        return minutes(self.shortest.questions, self.seconds_per_question)

    @property
    def minutes_high(self) -> int:
        """Return the minutes the longest walk takes, rounded up."""
        return minutes(self.longest.questions, self.seconds_per_question)


def minutes(questions: int, seconds_per_question: int = SECONDS_PER_QUESTION) -> int:
    """Return the whole minutes that many questions take at the pace, rounded up."""
    return max(1, math.ceil(questions * seconds_per_question / 60))


def path_length_range(questionnaire: Questionnaire) -> LengthRange:
    """Return the shortest and longest walk to the end through the questionnaire."""
    drivers = _drivers(questionnaire)
    longest = _search(questionnaire, drivers, longer=True)
    shortest = _search(questionnaire, drivers, longer=False)
    return LengthRange(shortest=shortest, longest=longest)


def walk(questionnaire: Questionnaire, answers: Mapping[str, AnswerValue]) -> PathLength | None:
    """Return the walk these answers give (hidden answers dropped), or None when a stop rule ends it."""
    kept = dict(answers)
    for _ in range(len(questionnaire.sections) + 1):
        path = visible_path(questionnaire, kept)
        visible = set(path.question_ids)
        pruned = {qid: value for qid, value in kept.items() if qid in visible}
        if pruned == kept:
            break
        kept = pruned
    if any(fired.rule.stop for fired in assess(questionnaire, kept).rules):
        return None
    return PathLength(len(path.questions), len(path.sections), kept)


def _drivers(questionnaire: Questionnaire) -> list[Question]:
    """Return the questions whose answers some visible_if reads, in file order."""
    read: set[str] = set()
    for section in questionnaire.sections:
        conditions = [section.visible_if, *(q.visible_if for q in section.questions)]
        for condition in conditions:
            if condition is not None:
                read |= {ref.name for ref in condition.reads if ref.namespace == "answers"}
    return [q for s in questionnaire.sections for q in s.questions if q.id in read]


def candidates(question: Question) -> list[AnswerValue | None]:
    """Return the answers worth trying for a driver: each option, the ends of a range, or nothing."""
    found: list[AnswerValue | None] = [] if question.required else [None]
    qtype = question.type
    if qtype is QuestionType.MULTI:
        found += [(opt.value,) for opt in question.options]
        found.append(tuple(opt.value for opt in question.options if opt.value not in question.exclusive))
    elif qtype.has_options:
        found += [opt.value for opt in question.options]
    elif qtype.is_numeric:
        low, high = question.minimum, question.maximum
        middle = (low + high) / 2 if low is not None and high is not None else None
        ends = [v for v in (low, high, middle) if v is not None]
        found += [v if qtype is QuestionType.NUMBER else int(v) for v in ends]
    else:
        found.append("x")
    return found


def _search(questionnaire: Questionnaire, drivers: list[Question], *, longer: bool) -> PathLength:
    """Move each driver to its best value in turn until a whole round changes nothing."""
    sign = 1 if longer else -1
    # A required driver always has an answer on a real walk: start from its first possible value.
    answers: dict[str, AnswerValue] = {}
    for question in drivers:
        first = candidates(question)[0]
        if first is not None:
            answers[question.id] = first
    best = walk(questionnaire, answers)
    for _ in range(MAX_ROUNDS):
        changed = False
        for question in drivers:
            for value in candidates(question):
                trial = {k: v for k, v in answers.items() if k != question.id}
                if value is not None:
                    trial[question.id] = value
                found = walk(questionnaire, trial)
                if found is None:
                    continue
                if best is None or sign * (found.questions - best.questions) > 0:
                    best, answers, changed = found, trial, True
        if not changed:
            break
    if best is None:  # every walk stops early: a questionnaire of stop rules only
        path = visible_path(questionnaire, {})
        return PathLength(len(path.questions), len(path.sections), {})
    return best
