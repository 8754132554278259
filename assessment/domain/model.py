"""Frozen model of a questionnaire: what the loader builds once and everything else only reads."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assessment.domain.expressions import Expression
    from assessment.domain.summary_spec import SummarySpec


class QuestionType(StrEnum):
    """The kinds of question an author can ask."""

    SCALE = "scale"
    INTEGER = "integer"
    NUMBER = "number"
    SINGLE = "single"
    MULTI = "multi"
    YES_NO = "yes_no"
    TEXT = "text"

    @property
    def is_numeric(self) -> bool:
        """Say whether answers of this type are numbers."""
        return self in (QuestionType.SCALE, QuestionType.INTEGER, QuestionType.NUMBER)

    @property
    def has_options(self) -> bool:
        """Say whether answers of this type are picked from options."""
        return self in (QuestionType.SINGLE, QuestionType.MULTI, QuestionType.YES_NO)


class Urgency(StrEnum):
    """How soon a person should act, most urgent first."""

    EMERGENCY = "emergency"
    URGENT = "urgent"
    SOON = "soon"
    ROUTINE = "routine"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Order urgencies: 0 is the most urgent."""
        return _RANKS[self]

    def at_least(self, other: Urgency) -> bool:
        """Say whether this level is as urgent as `other`, or more."""
        return self.rank <= other.rank


_RANKS = {u: i for i, u in enumerate(Urgency)}
# Levels that need a doctor within days or sooner: they decide the results page's headline.
ACT_SOON = (Urgency.EMERGENCY, Urgency.URGENT, Urgency.SOON)


@dataclass(frozen=True, slots=True)
class Level:
    """What a level tells the person: its name, one time-frame sentence and one action.

    The texts may hold {emergency_numbers} and {urgent_care}, filled in from the app's settings.
    """

    urgency: Urgency
    name: str
    time_frame: str
    action: str
    pos: SourcePos


@dataclass(frozen=True, slots=True)
class Alarm:
    """Which answers to a question are alarm features, and at what level.

    Choice questions name options (`options`); number questions give a threshold (`above`).
    """

    options: tuple[tuple[str, Urgency], ...] = ()
    above: Decimal | None = None
    level: Urgency | None = None

    def level_of(self, value: object) -> Urgency | None:
        """Return the alarm level an answer reaches, or None when it is not an alarm feature."""
        if self.above is not None:
            return self.level if isinstance(value, (int, Decimal)) and value > self.above else None
        chosen = value if isinstance(value, tuple) else (value,)
        levels = [level for opt, level in self.options if opt in chosen]
        return min(levels, key=lambda u: u.rank) if levels else None


@dataclass(frozen=True, slots=True)
class SourcePos:
    """Where something was written: file and 1-based line."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class Option:
    """One choice of a question: a stable value, its label and an optional score."""

    value: str
    label: str
    hint: str = ""
    score: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Question:
    """One question, with everything needed to ask it and to check its answer."""

    id: str
    type: QuestionType
    label: str
    pos: SourcePos
    section_id: str
    short_label: str = ""
    hint: str = ""
    required: bool = False
    options: tuple[Option, ...] = ()
    exclusive: tuple[str, ...] = ()
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    decimals: int = 0
    unit: str = ""
    max_length: int = 0
    multiline: bool = False
    min_label: str = ""
    max_label: str = ""
    visible_if: Expression | None = None
    alarm: Alarm | None = None
    # Option values that older saved files may hold, with the message that asks for a new answer.
    retired_options: tuple[tuple[str, str], ...] = ()
    # The message shown when a required answer is missing; '' means one made from type and label.
    error: str = ""
    _by_value: dict[str, Option] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # option() runs for every chosen option on every results page and summary: a lookup, not a scan.
        object.__setattr__(self, "_by_value", {o.value: o for o in reversed(self.options)})  # the first wins

    @property
    def summary_label(self) -> str:
        """Return the name a clinician reads beside the answer: the short label, else the label."""
        return self.short_label or self.label

    def option(self, value: str) -> Option | None:
        """Return the option with this value, if there is one."""
        return self._by_value.get(value)


@dataclass(frozen=True, slots=True)
class Section:
    """One page of the questionnaire."""

    id: str
    title: str
    pos: SourcePos
    questions: tuple[Question, ...]
    intro: str = ""
    visible_if: Expression | None = None


@dataclass(frozen=True, slots=True)
class Band:
    """A named part of a score's range, both ends included."""

    minimum: Decimal
    maximum: Decimal
    label: str
    pos: SourcePos


@dataclass(frozen=True, slots=True)
class Score:
    """A computed value with a range and bands, such as a symptom sub-score."""

    id: str
    label: str
    formula: Expression
    minimum: Decimal
    maximum: Decimal
    bands: tuple[Band, ...]
    pos: SourcePos
    decimals: int = 0
    description: str = ""
    unvalidated: bool = False
    show_value: bool = True


@dataclass(frozen=True, slots=True)
class Variant:
    """A stronger or different form of a rule, used when its own condition also holds."""

    when: Expression
    urgency: Urgency | None
    message: str


@dataclass(frozen=True, slots=True)
class Rule:
    """Guidance that applies when a condition holds, with its urgency and page."""

    id: str
    when: Expression
    urgency: Urgency
    guidance: str
    message: str
    pos: SourcePos
    title: str = ""
    variants: tuple[Variant, ...] = ()
    # When it fires, the questionnaire stops on the rule's own page (for example under 18).
    stop: bool = False

    @property
    def forms(self) -> tuple[tuple[Urgency, str], ...]:
        """The urgency and message it fires with: its own, then with each variant (a variant
        without its own urgency or message keeps the rule's)."""
        variants = ((v.urgency or self.urgency, v.message or self.message) for v in self.variants)
        return ((self.urgency, self.message), *variants)


@dataclass(frozen=True, slots=True)
class Meta:
    """Identity of the questionnaire, printed on every summary."""

    id: str
    version: str
    title: str
    recall: str = ""
    safety_net: str = ""


@dataclass(frozen=True, slots=True)
class GuidancePage:
    """An educational page: front matter plus its Markdown body (rendered by the web layer)."""

    slug: str
    title: str
    summary: str
    evidence: str
    sources: tuple[str, ...]
    body: str
    pos: SourcePos
    order: int = 100


@dataclass(frozen=True, slots=True)
class Source:
    """A reference that guidance pages cite by tag."""

    tag: str
    title: str
    url: str = ""


# weakref_slot: per-questionnaire caches (scoring) hold it weakly, so a dropped one is freed.
@dataclass(frozen=True, slots=True, weakref_slot=True)
class Questionnaire:
    """The whole checked questionnaire: sections, scores, rules and the guidance they point to."""

    meta: Meta
    sections: tuple[Section, ...]
    scores: tuple[Score, ...]
    rules: tuple[Rule, ...]
    levels: dict[Urgency, Level] = field(default_factory=dict, hash=False, compare=False)
    guidance: dict[str, GuidancePage] = field(default_factory=dict, hash=False, compare=False)
    sources: dict[str, Source] = field(default_factory=dict, hash=False, compare=False)
    questions: dict[str, Question] = field(default_factory=dict, hash=False, compare=False)
    # What page 1 of the clinician summary shows (questions.yaml `summary:`).
    summary: SummarySpec | None = field(default=None, hash=False, compare=False)

    def section(self, section_id: str) -> Section | None:
        """Return the section with this id, if there is one."""
        for section in self.sections:
            if section.id == section_id:
                return section
        return None

    def rule_title(self, rule: Rule) -> str:
        """Return the heading of a rule's card: its own title, else its guidance page's title."""
        if rule.title:
            return rule.title
        page = self.guidance.get(rule.guidance)
        return page.title if page else "Guidance"
