"""The app's start-up state: one typed object under one extension key, read through state()."""

from __future__ import annotations

import threading
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Any
from typing import Generic
from typing import TypeVar

from flask import Flask
from flask import current_app
from markupsafe import Markup

from assessment.domain import Questionnaire
from assessment.domain import Urgency

if TYPE_CHECKING:
    from assessment.config import EmergencyNumber
    from assessment.domain.lengths import LengthRange
    from assessment.report import PdfRenderer
    from assessment.web.levels import LevelView
    from assessment.web.prerender import Prerender

KEY = "gutcheck"
T = TypeVar("T")


class Once(Generic[T]):
    """A value made at its first use, once per app, even when threads ask at the same moment."""

    def __init__(self) -> None:
        self._value: T | None = None
        self._lock = threading.Lock()

    def get(self, make: Callable[[], T]) -> T:
        """Return the value, making it first if nobody has."""
        value = self._value
        if value is None:
            with self._lock:
                value = self._value
                if value is None:
                    value = self._value = make()
        return value

    def set(self, value: T) -> None:
        """Put a value in place (a test's stand-in, or one made early)."""
        self._value = value

    def peek(self) -> T | None:
        """Return the value if it was made, without making it."""
        return self._value


@dataclass(frozen=True, slots=True, eq=False)
class AppState:
    """What the app makes once from its configuration and questionnaire, and never changes."""

    questionnaire: Questionnaire
    levels: Mapping[Urgency, LevelView]
    emergency_numbers: tuple[EmergencyNumber, ...]
    guidance_html: Mapping[str, Markup]
    prerender: Prerender
    # Made at first use: costly, and not every process needs them.
    lengths: Once[LengthRange] = field(default_factory=Once)
    session_keys: Once[tuple[bytes, ...]] = field(default_factory=Once)
    pdf_renderer: Once[PdfRenderer] = field(default_factory=Once)
    fhir_questionnaire: Once[dict[str, Any]] = field(default_factory=Once)


def state(app: Flask | None = None) -> AppState:
    """Return the app's state (the current app's by default)."""
    found: AppState = (app or current_app).extensions[KEY]
    return found
