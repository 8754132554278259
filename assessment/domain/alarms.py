"""Alarm features: every answer that questions.yaml declares an alarm, found on the visible path."""

from __future__ import annotations

from dataclasses import dataclass

from assessment.domain.answers import AnswerValue
from assessment.domain.answers import display_value
from assessment.domain.model import ACT_SOON
from assessment.domain.model import Alarm
from assessment.domain.model import Question
from assessment.domain.model import Urgency
from assessment.domain.scoring import Assessment
from assessment.domain.scoring import FiredRule


@dataclass(frozen=True, slots=True)
class AlarmFeature:
    """One alarm answer: the question, what was answered, and the level its declaration gives."""

    question: Question
    answer: str
    urgency: Urgency

    @property
    def label(self) -> str:
        """Return the question's short name, as a clinician reads it."""
        return self.question.summary_label


@dataclass(frozen=True, slots=True)
class AlarmReport:
    """The alarm features answered yes (most urgent first) and the alarm questions left blank."""

    features: tuple[AlarmFeature, ...]
    unanswered: tuple[Question, ...]
    # Rules at soon or a more urgent level that fired on a combination of other answers (age,
    # duration, a fever with pain...), so that no reason to act early is missing from the list.
    combinations: tuple[FiredRule, ...]

    @property
    def none_reported(self) -> bool:
        """Say whether every alarm question was answered and none was an alarm."""
        return not self.features and not self.unanswered

    @property
    def acts_soon(self) -> bool:
        """Say whether anything here asks for a doctor within days or sooner."""
        return bool(self.combinations) or any(f.urgency in ACT_SOON for f in self.features)


def alarm_report(assessment: Assessment) -> AlarmReport:
    """Collect the declared alarm answers on the visible path, whether or not a rule fired on them."""
    features: list[AlarmFeature] = []
    unanswered: list[Question] = []
    for question in assessment.path.questions:
        if question.alarm is None:
            continue
        value = assessment.answers.get(question.id)
        if value is None:
            unanswered.append(question)
            continue
        features.extend(_features(question, question.alarm, value))
    features.sort(key=lambda f: f.urgency.rank)  # stable: questionnaire order within a level
    covered = {f.question.id for f in features}
    combinations = tuple(
        fired
        for fired in assessment.rules
        if fired.urgency in ACT_SOON and not covered & _questions_read(fired)
    )
    return AlarmReport(tuple(features), tuple(unanswered), combinations)


def _features(question: Question, alarm: Alarm, value: AnswerValue) -> list[AlarmFeature]:
    """Return one feature per alarming option chosen, or one for a number over its threshold."""
    if alarm.above is not None:
        level = alarm.level_of(value)
        return [AlarmFeature(question, display_value(question, value), level)] if level else []
    chosen = value if isinstance(value, tuple) else (value,)
    out = []
    for option_value, level in alarm.options:
        if option_value in chosen:
            option = question.option(option_value)
            out.append(AlarmFeature(question, option.label if option else option_value, level))
    return out


def _questions_read(fired: FiredRule) -> set[str]:
    """Return the ids of the questions a fired rule read (its 'why')."""
    return {ref.name for ref in fired.rule.when.reads if ref.namespace in ("answers", "points")}
