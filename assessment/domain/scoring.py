"""assess(): the visible path, scores with bands, and fired rules with urgency and why."""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP
from decimal import Decimal
from typing import Any

from assessment.domain.answers import Answers
from assessment.domain.answers import AnswerValue
from assessment.domain.answers import display_value
from assessment.domain.compiled import number
from assessment.domain.expressions import Record
from assessment.domain.expressions import Ref
from assessment.domain.expressions import as_decimal
from assessment.domain.model import Band
from assessment.domain.model import Question
from assessment.domain.model import Questionnaire
from assessment.domain.model import QuestionType
from assessment.domain.model import Rule
from assessment.domain.model import Score
from assessment.domain.model import Section
from assessment.domain.model import Urgency


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


@dataclass(frozen=True, slots=True)
class ScoreResult:
    """A score's rounded value, its band, and the unrounded value other formulas read."""

    score: Score
    value: Decimal
    raw: Decimal
    band: Band | None

    @property
    def id(self) -> str:
        """Return the score's id."""
        return self.score.id

    @property
    def band_label(self) -> str:
        """Return the band's label, or an empty text when the value fell outside every band."""
        return self.band.label if self.band else ""

    @property
    def display(self) -> str:
        """Return the value as printed, with the score's decimals."""
        return f"{self.value:.{self.score.decimals}f}"


@dataclass(frozen=True, slots=True)
class Why:
    """One thing a rule read: a question or score label and the value it had."""

    label: str
    value: str
    short_label: str = ""

    @property
    def summary_label(self) -> str:
        """Return the name for the clinician summary: the short label, else the label."""
        return self.short_label or self.label


@dataclass(frozen=True, slots=True)
class FiredRule:
    """A rule that applies, with the urgency and message of the variant that matched."""

    rule: Rule
    urgency: Urgency
    message: str
    why: tuple[Why, ...]

    @property
    def id(self) -> str:
        """Return the rule's id."""
        return self.rule.id

    @property
    def guidance(self) -> str:
        """Return the slug of the rule's guidance page."""
        return self.rule.guidance


@dataclass(frozen=True, slots=True)
class Assessment:
    """Everything the results page, the PDF and the API show, worked out once."""

    questionnaire: Questionnaire
    answers: Answers
    path: VisiblePath
    scores: tuple[ScoreResult, ...]
    rules: tuple[FiredRule, ...]

    @property
    def urgency(self) -> Urgency:
        """Return the highest urgency among fired rules (info when none fired)."""
        return self.rules[0].urgency if self.rules else Urgency.INFO

    @property
    def is_emergency(self) -> bool:
        """Say whether an emergency rule fired."""
        return self.urgency is Urgency.EMERGENCY

    @property
    def self_care_held_back(self) -> bool:
        """Self-care guidance is held back while emergency advice applies."""
        return self.is_emergency

    @property
    def shown_rules(self) -> tuple[FiredRule, ...]:
        """Return the rules whose guidance is shown now: only urgent ones during an emergency."""
        if not self.self_care_held_back:
            return self.rules
        return tuple(r for r in self.rules if r.urgency in (Urgency.EMERGENCY, Urgency.SOON))

    @property
    def held_back_rules(self) -> tuple[FiredRule, ...]:
        """Return the fired rules not shown while emergency advice applies."""
        shown = set(self.shown_rules)
        return tuple(r for r in self.rules if r not in shown)

    def score(self, score_id: str) -> ScoreResult | None:
        """Return one score result by id."""
        for result in self.scores:
            if result.id == score_id:
                return result
        return None

    def fired(self, rule_id: str) -> FiredRule | None:
        """Return the fired rule with this id, if it fired."""
        for fired in self.rules:
            if fired.id == rule_id:
                return fired
        return None


def _answer_record(questionnaire: Questionnaire, answers: Mapping[str, AnswerValue]) -> dict[str, Any]:
    """Give every question a value for expressions: None when missing, () for an empty multi."""
    values: dict[str, Any] = {}
    for qid, question in questionnaire.questions.items():
        value = answers.get(qid)
        if question.type is QuestionType.MULTI:
            values[qid] = value if isinstance(value, tuple) else ()
        else:
            values[qid] = number(value)
    return values


def _points(questionnaire: Questionnaire, answers: Mapping[str, AnswerValue]) -> dict[str, Any]:
    points: dict[str, Any] = {}
    for qid, question in questionnaire.questions.items():
        value = answers.get(qid)
        opt = question.option(value) if isinstance(value, str) else None
        points[qid] = opt.score if opt is not None else None
    return points


# Keyed by id() but holding the questionnaire only weakly: its entry goes when it does, so a
# reloaded questionnaire (tests, `flask check`) never keeps the old one alive.
_BLANK_RECORDS: dict[int, tuple[weakref.ref[Questionnaire], dict[str, Any]]] = {}


def _forget(ref: weakref.ref[Questionnaire], key: int) -> None:
    """Drop a dead questionnaire's entry (only if it is still that questionnaire's)."""
    found = _BLANK_RECORDS.get(key)
    if found is not None and found[0] is ref:
        del _BLANK_RECORDS[key]


def _blank_record(questionnaire: Questionnaire) -> dict[str, Any]:
    """A fresh copy of the all-missing answer record (built once per questionnaire, copied per call)."""
    key = id(questionnaire)
    found = _BLANK_RECORDS.get(key)
    if found is None or found[0]() is not questionnaire:
        ref = weakref.ref(questionnaire, lambda dead: _forget(dead, key))
        found = _BLANK_RECORDS[key] = (ref, _answer_record(questionnaire, {}))
    return dict(found[1])


def visible_path(questionnaire: Questionnaire, answers: Mapping[str, AnswerValue]) -> VisiblePath:
    """Work out which sections and questions are shown; a hidden answer never counts later on."""
    record = _blank_record(questionnaire)
    env = {"answers": Record(record)}
    sections: list[Section] = []
    questions: list[Question] = []
    for section in questionnaire.sections:
        if section.visible_if is not None and not section.visible_if.matches(env):
            continue
        shown = []
        for question in section.questions:
            if question.visible_if is not None and not question.visible_if.matches(env):
                continue
            shown.append(question)
            if question.id in answers:
                record[question.id] = number(answers[question.id])
        if shown:
            sections.append(section)
            questions.extend(shown)
    return VisiblePath(tuple(sections), tuple(questions))


def assess(questionnaire: Questionnaire, answers: Mapping[str, AnswerValue]) -> Assessment:
    """Score the answers on the visible path and pick the rules that apply, most urgent first."""
    path = visible_path(questionnaire, answers)
    visible = Answers({qid: answers[qid] for qid in path.question_ids if qid in answers})
    score_values: dict[str, Decimal] = {}
    env = {
        "answers": Record(_answer_record(questionnaire, visible)),
        "points": Record(_points(questionnaire, visible)),
        "scores": Record(score_values),
    }
    results = []
    for score in questionnaire.scores:
        raw = as_decimal(score.formula.evaluate(env))
        score_values[score.id] = raw
        value = round_half_up(raw, score.decimals)
        value = min(max(value, score.minimum), score.maximum)
        band = next((b for b in score.bands if b.contains(value)), None)
        results.append(ScoreResult(score, value, raw, band))
    fired_ids: dict[str, bool] = {}
    env["rules"] = Record(fired_ids)
    fired = []
    for rule in questionnaire.rules:
        matched = rule.when.matches(env)
        fired_ids[rule.id] = matched
        if matched:
            fired.append(_fire(rule, env, questionnaire, visible, score_values))
    fired.sort(key=lambda f: f.urgency.rank)  # stable: file order within an urgency
    return Assessment(questionnaire, visible, path, tuple(results), tuple(fired))


def _fire(
    rule: Rule,
    env: Mapping[str, Record],
    questionnaire: Questionnaire,
    answers: Answers,
    scores: Mapping[str, Decimal],
) -> FiredRule:
    urgency, message, reads = rule.urgency, rule.message, list(rule.when.reads_that_held(env))
    for variant in rule.variants:
        if variant.when.matches(env):
            urgency = variant.urgency or urgency
            message = variant.message or message
            reads.extend(variant.when.reads_that_held(env))
            break
    return FiredRule(rule, urgency, message, explain(reads, questionnaire, answers, scores))


def explain(
    reads: list[Ref],
    questionnaire: Questionnaire,
    answers: Answers,
    scores: Mapping[str, Decimal],
) -> tuple[Why, ...]:
    """List the answers and scores a fired rule read, with their labels and values."""
    out: dict[str, Why] = {}
    score_by_id = {s.id: s for s in questionnaire.scores}
    for ref in reads:
        # points.X explains itself through the answer to X.
        key = f"answers.{ref.name}" if ref.namespace == "points" else f"{ref.namespace}.{ref.name}"
        if key in out or ref.namespace == "rules":
            continue
        if ref.namespace in ("answers", "points"):
            question = questionnaire.questions[ref.name]
            value = answers.get(ref.name)
            shown = display_value(question, value) if value is not None else "not answered"
            out[key] = Why(question.label, shown, question.short_label)
        elif ref.namespace == "scores" and ref.name in scores:
            score = score_by_id[ref.name]
            rounded = round_half_up(scores[ref.name], score.decimals)
            out[key] = Why(score.label, f"{rounded:.{score.decimals}f}")
    return tuple(out.values())


def round_half_up(value: Decimal, decimals: int) -> Decimal:
    """Round half up (2.5 -> 3), unlike Python's round(), which rounds half to even."""
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
