"""Urgency levels as pages show them: time frames and actions with the configured numbers filled in."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Flask
from markupsafe import Markup
from markupsafe import escape

from assessment.config import EmergencyNumber
from assessment.domain import Level
from assessment.domain import Questionnaire
from assessment.domain import Urgency
from assessment.domain.model import SourcePos
from assessment.web.state import state


@dataclass(frozen=True, slots=True)
class LevelView:
    """A level's name, time frame and action, as HTML (with tel: links) and as plain text."""

    urgency: Urgency
    name: str
    time_frame: Markup
    action: Markup
    time_frame_text: str
    action_text: str


def build(
    app: Flask, questionnaire: Questionnaire
) -> tuple[dict[Urgency, LevelView], tuple[EmergencyNumber, ...]]:
    """Give templates the level views and the numbers (read at start-up), and return both."""
    numbers: tuple[EmergencyNumber, ...] = app.config["EMERGENCY_NUMBERS"]
    urgent_care = str(app.config["URGENT_CARE"])
    # A questionnaire without rules needs no levels; its pages still name one (information).
    blank = {u: Level(u, u.value.capitalize(), "", "", pos=SourcePos("", 0)) for u in Urgency}
    levels = {**blank, **questionnaire.levels}
    views = {u: _view(level, numbers, urgent_care) for u, level in levels.items()}
    app.jinja_env.globals["emergency_numbers"] = numbers
    app.jinja_env.globals["level_view"] = level_view
    return views, numbers


def level_view(urgency: Urgency | str) -> LevelView:
    """Return how a level reads on a page, for an Urgency or its value."""
    return state().levels[Urgency(urgency)]


def emergency_numbers() -> tuple[EmergencyNumber, ...]:
    """Return the configured emergency numbers."""
    return state().emergency_numbers


def _view(level: Level, numbers: tuple[EmergencyNumber, ...], urgent_care: str) -> LevelView:
    html = {"emergency_numbers": _numbers_html(numbers), "urgent_care": _linked_numbers(urgent_care)}
    text = {"emergency_numbers": numbers_text(numbers), "urgent_care": urgent_care}
    return LevelView(
        urgency=level.urgency,
        name=level.name,
        time_frame=Markup(escape(level.time_frame).format(**html)),
        action=Markup(escape(level.action).format(**html)),
        time_frame_text=level.time_frame.format(**text),
        action_text=level.action.format(**text),
    )


def numbers_text(numbers: tuple[EmergencyNumber, ...]) -> str:
    """Write the numbers as a phrase: "999 (UK), 112 (EU) or 911 (US)"."""
    parts = [f"{n.number} ({n.region})" if n.region else n.number for n in numbers]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]


def _numbers_html(numbers: tuple[EmergencyNumber, ...]) -> Markup:
    """The same phrase with each number a tap-to-call link."""
    parts = [
        Markup('<a class="tel" href="{}">{}</a>{}').format(
            n.tel, n.number, f" ({n.region})" if n.region else ""
        )
        for n in numbers
    ]
    if len(parts) == 1:
        return parts[0]
    return Markup(", ").join(parts[:-1]) + Markup(" or ") + parts[-1]


def _linked_numbers(text: str) -> Markup:
    """Escape a setting's text and make each phone number in it (like 111) a tap-to-call link."""
    parts = re.split(r"(?<![\w+])(\+?\d{3,15})(?!\w)", text)
    out = Markup("")
    for index, part in enumerate(parts):
        out += Markup('<a class="tel" href="tel:{0}">{0}</a>').format(part) if index % 2 else escape(part)
    return out
