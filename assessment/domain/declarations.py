"""Safety declarations in questions.yaml: the urgency levels, alarm answers and retired options."""

from __future__ import annotations

import re
import string

from assessment.domain.mapping_reader import Reader
from assessment.domain.model import Alarm
from assessment.domain.model import Level
from assessment.domain.model import Option
from assessment.domain.model import QuestionType
from assessment.domain.model import SourcePos
from assessment.domain.model import Urgency
from assessment.domain.yamlsource import LineMap

LEVEL_KEYS = ("name", "time_frame", "action")
# Filled in by the app from its settings, so that numbers are configured in one place.
PLACEHOLDERS = frozenset({"emergency_numbers", "urgent_care"})
# A rule's message must not set its own time frame: the level's sentence does, so a card can never
# ask for a shorter (or longer) wait than the level it is shown under.
TIME_FRAME_WORDS = re.compile(
    r"\b(today|tonight|tomorrow|this week|next week|few days|within days|within \d+ (?:hours|days)"
    r"|straight away|right away|immediately|urgently|as soon as|soon|right now|help now|at once)\b",
    re.IGNORECASE,
)
URGENCY_NAMES = ", ".join(u.value for u in Urgency)


def read_levels(r: Reader, top: LineMap) -> dict[Urgency, Level]:
    """Read the five urgency levels: each must be present once, with a name, time frame and action."""
    m = r.mapping(top.get("levels"), top.line_of("levels"), "levels", allowed=[u.value for u in Urgency])
    if m is None:
        return {}
    levels: dict[Urgency, Level] = {}
    for urgency in Urgency:
        if urgency.value not in m:
            missing = f"levels: '{urgency.value}' is missing (every level needs its time frame)"
            r.report(top.line_of("levels"), missing)
    for urgency in (u for u in Urgency if u.value in m):
        what = f"level '{urgency.value}'"
        raw, line = m[urgency.value], m.line_of(urgency.value)
        lm = r.mapping(raw, line, what, allowed=LEVEL_KEYS, required=LEVEL_KEYS)
        if lm is None:
            continue
        texts = {key: r.text(lm, key, what) for key in LEVEL_KEYS}
        for key, text in texts.items():
            _check_placeholders(r, lm.line_of(key), f"{what} {key}", text)
        levels[urgency] = Level(urgency, pos=SourcePos(r.filename, lm.line), **texts)
    return levels


def _check_placeholders(r: Reader, line: int, what: str, text: str) -> None:
    """Only the known {placeholders} may appear, and braces must be well formed."""
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:
        r.report(line, f"{what}: {exc} (write a brace as {{{{ or }}}})")
        return
    for name in sorted(names - PLACEHOLDERS):
        known = ", ".join("{" + p + "}" for p in sorted(PLACEHOLDERS))
        r.report(line, f"{what}: unknown placeholder '{{{name}}}'; use {known}")


def read_urgency(r: Reader, m: LineMap, key: str, what: str) -> Urgency | None:
    """Read one urgency level name, reporting an unknown one with the list of known ones."""
    name = r.text(m, key, what)
    try:
        return Urgency(name)
    except ValueError:
        r.report(m.line_of(key), f"{what}: unknown urgency '{name}'; use one of {URGENCY_NAMES}")
        return None


def read_alarm(
    r: Reader, m: LineMap, qtype: QuestionType, options: tuple[Option, ...], what: str
) -> Alarm | None:
    """Read a question's `alarm:`: option values to levels, or {above: N, level: L} for a number."""
    if "alarm" not in m:
        return None
    line = m.line_of("alarm")
    if qtype.is_numeric:
        keys = ("above", "level")
        a = r.mapping(m["alarm"], line, f"{what} alarm", allowed=keys, required=keys)
        if a is None:
            return None
        above = r.number(a, "above", f"{what} alarm")
        level = read_urgency(r, a, "level", f"{what} alarm") if "level" in a else None
        return Alarm(above=above, level=level) if above is not None and level else None
    raw = m["alarm"]
    if not isinstance(raw, LineMap) or not raw:
        r.report(line, f"{what}: alarm must map option values to levels, like {{paper: soon}}")
        return None
    values = [o.value for o in options]
    chosen: list[tuple[str, Urgency]] = []
    for value in raw:
        if value not in values:
            r.report(
                raw.line_of(value),
                f"{what}: alarm names '{value}', which is not one of its options ({', '.join(values)})",
            )
            continue
        level = read_urgency(r, raw, value, f"{what} alarm '{value}'")
        if level is not None:
            chosen.append((value, level))
    return Alarm(options=tuple(chosen)) if chosen else None


def read_retired(
    r: Reader, m: LineMap, options: tuple[Option, ...], what: str
) -> tuple[tuple[str, str], ...]:
    """Read `retired_options:` (old value -> message asking for a new answer); never a current value."""
    if "retired_options" not in m:
        return ()
    rm = m["retired_options"]
    if not isinstance(rm, LineMap):
        r.report(m.line_of("retired_options"), f"{what}: retired_options must map old values to messages")
        return ()
    out: list[tuple[str, str]] = []
    current = {o.value for o in options}
    for value in rm:
        if value in current:
            r.report(rm.line_of(value), f"{what}: retired option '{value}' is still one of its options")
            continue
        out.append((value, r.text(rm, value, f"{what} retired option '{value}'")))
    return tuple(out)


def check_time_frame(r: Reader, line: int, what: str, message: str) -> None:
    """Report a message that names its own time frame (the level's sentence supplies it)."""
    found = TIME_FRAME_WORDS.search(message)
    if found:
        r.report(
            line,
            f"{what}: the message says '{found.group(0)}'; leave the time frame to the rule's "
            "urgency level, whose sentence is shown with every card",
        )
