"""assess(): the visible path, scores with bands, and fired rules with urgency and why."""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from decimal import ROUND_CEILING
from decimal import ROUND_FLOOR
from decimal import ROUND_HALF_UP
from decimal import Decimal
from functools import partial
from itertools import chain
from itertools import compress
from typing import Any
from typing import NamedTuple

from assessment.domain.answers import Answers
from assessment.domain.answers import AnswerValue
from assessment.domain.answers import display_value
from assessment.domain.answers import plain
from assessment.domain.closures import Getter
from assessment.domain.closures import Plan
from assessment.domain.closures import build_plan
from assessment.domain.closures import number
from assessment.domain.expressions import Expression
from assessment.domain.expressions import Record
from assessment.domain.expressions import Ref
from assessment.domain.model import ACT_SOON
from assessment.domain.model import Band
from assessment.domain.model import Question
from assessment.domain.model import Questionnaire
from assessment.domain.model import QuestionType
from assessment.domain.model import Rule
from assessment.domain.model import Score
from assessment.domain.model import Section
from assessment.domain.model import Urgency
from assessment.domain.path import VisiblePath


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

    @property
    def band_index(self) -> int:
        """Return the position of the value's band among the score's bands, -1 for none."""
        return next((i for i, band in enumerate(self.score.bands) if band is self.band), -1)

    @property
    def bar_marker(self) -> str:
        """Return where the value sits on the score's bar, in percent of its range, as text."""
        score = self.score
        marker = _percent(self.value - score.minimum, score.maximum - score.minimum)
        return f"{min(max(marker, Decimal(0)), Decimal(100)):.2f}"


@dataclass(frozen=True, slots=True)
class BarSegment:
    """One band of a score's bar: its range as text, where it starts and how wide it is (in percent
    of the score's range, as text), and whether the person's value fell in it."""

    label: str
    low: str
    high: str
    x: str
    width: str
    index: int
    current: bool


def bar_segments(score: Score, current: int = -1) -> tuple[BarSegment, ...]:
    """Return a score's bands on a 0-100 scale, the one at index `current` marked."""
    span = score.maximum - score.minimum
    segments = []
    for index, band in enumerate(score.bands):
        start = _percent(band.minimum - score.minimum, span)
        # Bands meet at the next step of the score's precision (2.9 then 3.0), so stretch each one
        # to the next band's start to leave no visual gap.
        following = score.bands[index + 1].minimum if index + 1 < len(score.bands) else score.maximum
        end = _percent(following - score.minimum, span)
        width = max(end - start, Decimal(0))
        low, high = plain(band.minimum), plain(band.maximum)
        segments.append(
            BarSegment(band.label, low, high, f"{start:.2f}", f"{width:.2f}", index, index == current)
        )
    return tuple(segments)


@dataclass(frozen=True, slots=True)
class ScoreView:
    """A score as the results page's chart and table show it: its value's band (-1: none), value
    and marker (the page is also made with a marker for each, to fill in later)."""

    score: Score
    band: int
    display: str
    marker: str

    @property
    def label(self) -> str:
        """Return the score's label."""
        return self.score.label

    @property
    def band_label(self) -> str:
        """Return the label of the band the value fell in, or an empty text."""
        return self.score.bands[self.band].label if self.band >= 0 else ""

    @property
    def bands(self) -> tuple[BarSegment, ...]:
        """Return the score's bands on a 0-100 scale, the value's marked current."""
        return bar_segments(self.score, self.band)

    @property
    def maximum_text(self) -> str:
        """Return the top of the score's range as text."""
        return plain(self.score.maximum)

    @property
    def range_text(self) -> str:
        """Return the score's range as text, like '0 to 10'."""
        return f"{plain(self.score.minimum)} to {plain(self.score.maximum)}"


def _percent(part: Decimal, whole: Decimal) -> Decimal:
    return part * 100 / whole if whole else Decimal(0)


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
    context: _Context | None = field(default=None, repr=False, compare=False)

    @property
    def why(self) -> tuple[Why, ...]:
        """The answers and scores the rule read, with labels and values: built on first use, once."""
        return self.context.why(self.rule) if self.context is not None else ()

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
        return tuple(r for r in self.rules if r.urgency in ACT_SOON)

    @property
    def held_back_rules(self) -> tuple[FiredRule, ...]:
        """Return the fired rules not shown while emergency advice applies."""
        shown = {id(r) for r in self.shown_rules}  # identity: hashing a FiredRule hashes its Rule
        return tuple(r for r in self.rules if id(r) not in shown)

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
_PREPARED: dict[int, tuple[weakref.ref[Questionnaire], _Prepared]] = {}


def _forget(
    ref: weakref.ref[Questionnaire],
    key: int,
    cache: dict[int, tuple[weakref.ref[Questionnaire], _Prepared]] = _PREPARED,
) -> None:
    """Drop a dead questionnaire's entry (only if it is still that questionnaire's).

    The cache comes in as a default so the callback still works at interpreter exit, when module
    globals may already be gone.
    """
    found = cache.get(key)
    if found is not None and found[0] is ref:
        del cache[key]


@dataclass(frozen=True, slots=True)
class _ScoreStep:
    """What rounding, clamping and banding one score needs, worked out once."""

    score: Score
    quantum: Decimal
    bands: tuple[Band, ...]


@dataclass(frozen=True, slots=True)
class _Prepared:
    """Everything about a questionnaire that does not depend on the person, made once.

    It must not refer to the questionnaire itself, or the cache would keep it alive.
    """

    plan: Plan
    sections: tuple[Section, ...]
    questions: tuple[Question, ...]
    steps: tuple[_ScoreStep, ...]
    score_by_id: Mapping[str, Score]
    rule_index: Mapping[str, int]
    # The "why" line of each answer to a single-choice question, by question id and option value.
    choice_why: Mapping[str, Mapping[str, Why]]
    # Each rule's urgency, message and urgency rank: its own, then each variant's (by index + 1).
    forms: tuple[tuple[tuple[Urgency, str, int], ...], ...]


def prepare(questionnaire: Questionnaire) -> None:
    """Generate the questionnaire's code now (start-up) rather than on the first assess()."""
    _prepared(questionnaire)


def _prepared(questionnaire: Questionnaire) -> _Prepared:
    key = id(questionnaire)
    found = _PREPARED.get(key)
    if found is not None and found[0]() is questionnaire:
        return found[1]
    steps = tuple(
        _ScoreStep(score, Decimal(1).scaleb(-score.decimals), score.bands) for score in questionnaire.scores
    )
    prepared = _Prepared(
        build_plan(questionnaire),
        questionnaire.sections,
        tuple(questionnaire.questions.values()),
        steps,
        {score.id: score for score in questionnaire.scores},
        {rule.id: index for index, rule in enumerate(questionnaire.rules)},
        {
            q.id: {opt.value: Why(q.label, display_value(q, opt.value), q.short_label) for opt in q.options}
            for q in questionnaire.questions.values()
            if q.type.has_options and q.type is not QuestionType.MULTI
        },
        tuple(tuple((u, message, u.rank) for u, message in rule.forms) for rule in questionnaire.rules),
    )
    ref = weakref.ref(questionnaire, partial(_forget, key=key))  # no global lookups at exit
    _PREPARED[key] = (ref, prepared)
    return prepared


def choice_whys(questionnaire: Questionnaire) -> tuple[Why, ...]:
    """Return every "why" line an answer to a single-choice question can give (made once)."""
    return tuple(why for whys in _prepared(questionnaire).choice_why.values() for why in whys.values())


def _getter(answers: Mapping[str, AnswerValue]) -> Getter:
    # Answers.get is a Python method; its dict's own get is C, and is called once per question.
    return answers.data.get if isinstance(answers, Answers) else answers.get


def visible_path(questionnaire: Questionnaire, answers: Mapping[str, AnswerValue]) -> VisiblePath:
    """Work out which sections and questions are shown; a hidden answer never counts later on."""
    prepared = _prepared(questionnaire)
    sections, questions = prepared.plan.path(_getter(answers))
    return VisiblePath(
        tuple(compress(prepared.sections, sections)), tuple(compress(prepared.questions, questions))
    )


def prune(questionnaire: Questionnaire, answers: Answers) -> Answers:
    """Drop answers to questions that are now hidden: they must never count, print or linger."""
    return answers.only(visible_path(questionnaire, answers).question_ids)


def assess(questionnaire: Questionnaire, answers: Mapping[str, AnswerValue]) -> Assessment:
    """Score the answers on the visible path and pick the rules that apply, most urgent first."""
    prepared = _prepared(questionnaire)
    shown, section_flags, question_flags, values, points, raws, held, variants = prepared.plan.run(
        _getter(answers)
    )
    path = VisiblePath(
        tuple(compress(prepared.sections, section_flags)), tuple(compress(prepared.questions, question_flags))
    )
    visible = Answers(shown)
    results = [_score_result(step, raw) for step, raw in zip(prepared.steps, raws, strict=True)]
    context = _Context(questionnaire, prepared, visible, values, points, raws, held, variants)
    by_rank: list[list[FiredRule]] = [[] for _ in Urgency]
    for rule, index, forms in compress(zip(questionnaire.rules, variants, prepared.forms, strict=True), held):
        urgency, message, rank = forms[index + 1]  # a variant's index, or -1 for the rule's own
        by_rank[rank].append(FiredRule(rule, urgency, message, context))
    fired = tuple(chain.from_iterable(by_rank))  # most urgent first, file order within an urgency
    return Assessment(questionnaire, visible, path, tuple(results), fired)


def _score_result(step: _ScoreStep, raw: Decimal) -> ScoreResult:
    """Round a score's value half up to its decimals, keep it in range and find its band."""
    score = step.score
    value = raw.quantize(step.quantum, rounding=ROUND_HALF_UP)
    if value < score.minimum:
        value = score.minimum
    elif value > score.maximum:
        value = score.maximum
    for band in step.bands:
        if band.minimum <= value <= band.maximum:
            return ScoreResult(score, value, raw, band)
    return ScoreResult(score, value, raw, None)


def possible_results(score: Score, limit: int = 1001) -> tuple[ScoreResult, ...]:
    """Every result assess() can give a score, one per value; none when there are more than `limit`.

    assess() rounds to the score's decimals, then keeps the value in range: one raw value a step
    beyond each end of the range stands for everything clamped there, and a quarter step below zero
    for a value that rounds to minus zero (printed "-0.0").
    """
    step = _ScoreStep(score, Decimal(1).scaleb(-score.decimals), score.bands)
    low = int((score.minimum / step.quantum).to_integral_value(ROUND_FLOOR)) - 1
    high = int((score.maximum / step.quantum).to_integral_value(ROUND_CEILING)) + 1
    if high - low - 1 > limit:  # the steps within the range
        return ()
    raws = [Decimal(k).scaleb(-score.decimals) for k in range(low, high + 1)] + [-step.quantum / 4]
    found = (_score_result(step, raw) for raw in raws)
    return tuple({str(result.value): result for result in found}.values())


class _Context:
    """What a fired rule needs to explain itself later: the records its condition read."""

    __slots__ = (
        "questionnaire",
        "prepared",
        "answers",
        "values",
        "points",
        "raws",
        "held",
        "variants",
        "_env",
        "_levels",
        "_scores",
        "_why",
    )

    def __init__(
        self,
        questionnaire: Questionnaire,
        prepared: _Prepared,
        answers: Answers,
        values: tuple[Any, ...],
        points: tuple[Any, ...],
        raws: tuple[Decimal, ...],
        held: tuple[bool, ...],
        variants: tuple[int, ...],
    ) -> None:
        self.questionnaire, self.prepared, self.answers = questionnaire, prepared, answers
        self.values, self.points = values, points
        self.raws, self.held, self.variants = raws, held, variants
        self._env: dict[str, Record] | None = None
        self._levels: tuple[bool, ...] | None = None
        self._scores: dict[str, Decimal] | None = None
        self._why: dict[str, tuple[Why, ...]] = {}

    def env(self) -> dict[str, Record]:
        """The records the rules read, as assess() had them (rules read only rules above them)."""
        if self._env is None:
            prepared, questionnaire = self.prepared, self.questionnaire
            fired = [urgency for urgency, _, _ in self._fired()]
            self._env = {
                "answers": Record(dict(zip(questionnaire.questions, self.values, strict=True))),
                "points": Record(dict(zip(prepared.plan.scored, self.points, strict=True))),
                "scores": Record(dict(zip(prepared.score_by_id, self.raws, strict=True))),
                "rules": Record(
                    {rule.id: held for rule, held in zip(questionnaire.rules, self.held, strict=True)}
                ),
                "levels": Record({u.value: any(f.at_least(u) for f in fired) for u in Urgency}),
            }
        return self._env

    def _fired(self) -> list[tuple[Urgency, str, int]]:
        """The urgency, message and rank each fired rule ended at (its variant's, when one matched)."""
        fired = compress(zip(self.prepared.forms, self.variants, strict=True), self.held)
        return [forms[index + 1] for forms, index in fired]

    def why(self, rule: Rule) -> tuple[Why, ...]:
        """Why a rule fired: the parts of its condition (and variant) that held, labelled; made once."""
        found = self._why.get(rule.id)
        if found is None:
            number = self.prepared.rule_index[rule.id]
            reads = self._reads_that_held(number, 0, rule.when)
            index = self.variants[number]
            if index >= 0:
                reads += self._reads_that_held(number, index + 1, rule.variants[index].when)
            if self._scores is None:
                self._scores = dict(zip(self.prepared.score_by_id, self.raws, strict=True))
            why = explain(reads, self.questionnaire, self.answers, self._scores, self.prepared)
            found = self._why[rule.id] = why
        return found

    def _reads_that_held(self, number: int, slot: int, expression: Expression) -> tuple[Ref, ...]:
        """expression.reads_that_held, through the plan's generated function when it has one."""
        generated = self.prepared.plan.why[number][slot]
        if generated is None:
            return expression.reads_that_held(self.env())
        if self._levels is None:  # levels.X: a rule fired at level X or a more urgent one
            top = min((rank for _, _, rank in self._fired()), default=len(Urgency))
            self._levels = tuple(top <= u.rank for u in Urgency)
        return generated(self.values, self.points, self.raws, self.held, self._levels)


def explain(
    reads: Sequence[Ref],
    questionnaire: Questionnaire,
    answers: Answers,
    scores: Mapping[str, Decimal],
    prepared: _Prepared | None = None,
) -> tuple[Why, ...]:
    """List the answers and scores a fired rule read, with their labels and values (`prepared`: the
    questionnaire's, when the caller has it at hand)."""
    out: list[Why] = []
    prepared = prepared or _prepared(questionnaire)
    choices, answered = prepared.choice_why, answers.data.get
    for (is_score, name), tested in _what_to_show(reads).items():
        if not is_score:
            value = answered(name)
            known = choices.get(name)
            # A chosen option's line was made with the questionnaire; any other answer's is made now.
            found = known.get(value) if known and isinstance(value, str) else None
            if found is None:
                question = questionnaire.questions[name]
                if value is None:
                    shown = "not answered"
                elif tested is not None and isinstance(value, (list, tuple)):
                    shown = _tested_part(question, tuple(value), tested)
                else:
                    shown = display_value(question, value)
                found = Why(question.label, shown, question.short_label)
            out.append(found)
        elif name in scores:
            score = prepared.score_by_id[name]
            rounded = round_half_up(scores[name], score.decimals)
            out.append(Why(score.label, f"{rounded:.{score.decimals}f}"))
    return tuple(out)


class _Tested(NamedTuple):
    """The options of one multiple-choice answer a rule's true parts tested."""

    ticked: set[str]  # 'x' in answers.q
    unticked: dict[str, None]  # not 'x' in answers.q, in the order the condition names them


def _what_to_show(reads: Sequence[Ref]) -> dict[tuple[bool, str], _Tested | None]:
    """Per answer (False, id) or score (True, id), in first-read order: the options the rule tested,
    or None to show all of it. points.X explains itself through the answer to X; rules and levels
    are not shown."""
    shown: dict[tuple[bool, str], _Tested | None] = {}
    for namespace, name, option, absent in reads:
        if namespace in ("rules", "levels"):
            continue
        key = (namespace == "scores", name)
        if option is None:
            shown[key] = None
            continue
        tested = shown.setdefault(key, _Tested(set(), {}))
        if tested is not None:
            if absent:
                tested.unticked[option] = None
            else:
                tested.ticked.add(option)
    return shown


def _tested_part(question: Question, value: tuple[str, ...], tested: _Tested) -> str:
    """The part of a multiple-choice answer that made a rule fire: the ticked options it looked for,
    then those it needed unticked ("not Coeliac disease"); the whole answer when that says more."""
    ticked = tuple(v for v in value if v in tested.ticked)
    unticked = [v for v in tested.unticked if v not in value]
    # "None of these" already says what was not ticked, and in the person's own answer.
    if not unticked or not value or any(v in question.exclusive for v in value):
        return display_value(question, ticked or value)
    labels = [display_value(question, (v,)) for v in unticked]
    absent = "not " + (labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} or {labels[-1]}")
    return f"{display_value(question, ticked)}, but {absent}" if ticked else absent


def round_half_up(value: Decimal, decimals: int) -> Decimal:
    """Round half up (2.5 -> 3), unlike Python's round(), which rounds half to even."""
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
