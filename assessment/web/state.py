"""The app's start-up state: one typed object under one extension key, read through state()."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Any

from flask import Flask
from flask import current_app
from markupsafe import Markup

from assessment.domain import Questionnaire
from assessment.domain import Urgency
from assessment.once import Once

if TYPE_CHECKING:
    from assessment.config import EmergencyNumber
    from assessment.domain.lengths import LengthRange
    from assessment.prerender import Prerender
    from assessment.report import PdfRenderer
    from assessment.web.levels import LevelView

KEY = "gutcheck"


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
