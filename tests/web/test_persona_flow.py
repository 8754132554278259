"""Persona P1 walks the real questionnaire through the forms, from the start page to the results."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from markupsafe import escape

from assessment import create_app
from assessment.config import ROOT
from assessment.web.state import state
from tests.web.conftest import SECRET
from tests.web.conftest import Respondent
from tests.web.conftest import text

CASE = ROOT / "tests" / "cases" / "p1_emma.yaml"


def load(path: Path) -> dict[str, Any]:
    """Read a case file."""
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def test_p1_walks_every_section_to_results_with_her_scores_and_guidance() -> None:
    """Emma answers every visible section with CSRF on; the results show GSBI 53, moderate, and her rules."""
    case = load(CASE)
    app = create_app({"TESTING": True, "SECRET_KEY": SECRET})
    questionnaire = state(app).questionnaire
    client = app.test_client()
    seen = Respondent(client, first_section=questionnaire.sections[0].id).complete(case["answers"])
    # Considering glutamine: no side-effects page.
    assert seen[:2] == ["help_now", "about"] and "notes" in seen and "side_effects" not in seen
    review = text(client.get("/review"))
    assert "Change" in review
    html = " ".join(text(client.get("/results")).split())
    assert re.search(r"Gut Symptom Burden Index.{0,400}?53", html)
    assert "moderate" in html
    shown = {r.id: str(escape(" ".join(r.message.split()))) for r in questionnaire.rules}
    for rule_id in case["fires"]:
        assert shown[rule_id] in html, rule_id
    for rule_id in case["not_fires"]:
        assert shown[rule_id] not in html, rule_id
    assert 'href="/report.pdf"' in html
