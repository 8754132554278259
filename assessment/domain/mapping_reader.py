"""Typed reading of YAML mappings that records every mistake with its line instead of stopping."""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection
from decimal import Decimal
from typing import Any

from assessment.domain.errors import Problem
from assessment.domain.yamlsource import BOOLEAN_WORDS
from assessment.domain.yamlsource import Invalid
from assessment.domain.yamlsource import LineList
from assessment.domain.yamlsource import LineMap

_TYPE_NAMES = {
    bool: "true or false",
    int: "a whole number",
    float: "a number",
    str: "text",
    list: "a list",
    dict: "a mapping of keys to values",
}


class Reader:
    """Reads values out of LineMaps and collects problems as file:line messages."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.problems: list[Problem] = []

    def report(self, line: int, message: str) -> None:
        """Record one problem."""
        self.problems.append(Problem(self.filename, line, message))

    def mapping(
        self,
        value: Any,
        line: int,
        what: str,
        *,
        allowed: Collection[str],
        required: Collection[str] = (),
    ) -> LineMap | None:
        """Check that value is a mapping with only allowed keys and every required key."""
        if not isinstance(value, LineMap):
            self.report(line, f"{what} must be a mapping of keys to values")
            return None
        suggested = set()
        for key in value:
            if key not in allowed:
                close = difflib.get_close_matches(key, list(allowed), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                suggested.update(close)
                self.report(value.line_of(key), f"{what}: unknown key '{key}'{hint}")
        for key in required:
            # A misspelt key already says "did you mean"; saying it is missing as well adds noise.
            if key not in value and key not in suggested:
                self.report(value.line, f"{what}: '{key}' is missing")
        return value

    def sequence(self, m: LineMap, key: str, what: str, *, required: bool = True) -> LineList:
        """Return the list under key, reporting a missing or non-list value."""
        value = m.get(key)
        if value is None:
            if required and key in m:
                self.report(m.line_of(key), f"{what}: '{key}' must not be empty")
            return LineList(m.line_of(key))
        if not isinstance(value, LineList):
            self.report(m.line_of(key), f"{what}: '{key}' must be a list")
            return LineList(m.line_of(key))
        return value

    def text(self, m: LineMap, key: str, what: str, *, default: str | None = None) -> str:
        """Return text under key; an unquoted yes/no/on/off gets a message saying to quote it."""
        if key not in m:
            return default if default is not None else ""
        value = m[key]
        if isinstance(value, Invalid):
            return m.raw.get(key, "")
        if isinstance(value, str):
            if not value.strip() and default is None:
                self.report(m.line_of(key), f"{what}: '{key}' must not be empty")
            return value.strip()
        raw = m.raw.get(key, "")
        if isinstance(value, bool) and raw.lower() in BOOLEAN_WORDS:
            self.report(
                m.line_of(key),
                f"{what}: '{key}' is {raw}, which YAML reads as {str(value).lower()}; "
                f"put it in quotes to mean the word: '{raw}'",
            )
        else:
            self.report(m.line_of(key), f"{what}: '{key}' must be text, not {_kind(value)}")
        return raw

    def ident(self, m: LineMap, key: str, what: str, pattern: re.Pattern[str]) -> str:
        """Return an identifier under key, checked against a pattern."""
        value = self.text(m, key, what)
        if value and not pattern.fullmatch(value):
            self.report(
                m.line_of(key),
                f"{what}: '{value}' is not a valid {key}: use lower-case letters, digits and _",
            )
        return value

    def number(self, m: LineMap, key: str, what: str) -> Decimal | None:
        """Return a number under key as a Decimal, or None when absent."""
        if key not in m or isinstance(m[key], Invalid):
            return None
        value = m[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.report(m.line_of(key), f"{what}: '{key}' must be a number, not {_kind(value)}")
            return None
        return Decimal(str(value))

    def integer(self, m: LineMap, key: str, what: str, *, default: int = 0) -> int:
        """Return a whole number under key."""
        if key not in m or isinstance(m[key], Invalid):
            return default
        value = m[key]
        if isinstance(value, bool) or not isinstance(value, int):
            self.report(m.line_of(key), f"{what}: '{key}' must be a whole number, not {_kind(value)}")
            return default
        return value

    def boolean(self, m: LineMap, key: str, what: str, *, default: bool = False) -> bool:
        """Return true or false under key."""
        if key not in m or isinstance(m[key], Invalid):
            return default
        value = m[key]
        if not isinstance(value, bool):
            self.report(m.line_of(key), f"{what}: '{key}' must be true or false, not {_kind(value)}")
            return default
        return value


def _kind(value: Any) -> str:
    if value is None:
        return "empty"
    for python_type, name in _TYPE_NAMES.items():
        if isinstance(value, python_type):
            return f"{name} ({value!r})" if python_type in (int, float, str) else name
    return type(value).__name__
