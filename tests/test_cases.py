"""Worked cases (tests/cases/*.yaml) run through the real questionnaire: scores, bands, rules, urgency."""

from __future__ import annotations

from pathlib import Path

import pytest

from assessment.config import ROOT
from assessment.domain import Questionnaire
from assessment.domain import assess
from assessment.domain import load_questionnaire
from assessment.domain import parse_answers
from tests.casefiles import CASES
from tests.casefiles import load_case
from tests.casefiles import raw_of


@pytest.fixture(scope="module")
def questionnaire() -> Questionnaire:
    """The bundled questionnaire and guidance pages."""
    return load_questionnaire(ROOT / "questions.yaml", ROOT / "templates" / "guidance")


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case(questionnaire: Questionnaire, path: Path) -> None:
    """The case's answers parse cleanly and give exactly the expected scores, rules and urgency."""
    case = load_case(path)
    parsed = parse_answers(questionnaire, raw_of(case["answers"]))
    assert parsed.errors == {} and parsed.unknown == ()
    result = assess(questionnaire, parsed.answers)
    for score_id, expected in case.get("scores", {}).items():
        score = result.score(score_id)
        assert score is not None and score.display == expected, score_id
    for score_id, band in case.get("bands", {}).items():
        score = result.score(score_id)
        assert score is not None and score.band_label == band, score_id
    fired = {r.id for r in result.rules}
    assert set(case.get("fires", [])) <= fired, f"missing: {set(case['fires']) - fired}"
    assert not set(case.get("not_fires", [])) & fired
    assert result.urgency.value == case["urgency"]
    for rule_id, urgency in case.get("urgencies", {}).items():
        fired_rule = result.fired(rule_id)
        assert fired_rule is not None and fired_rule.urgency.value == urgency, rule_id
    for rule_id, words in case.get("messages", {}).items():
        fired_rule = result.fired(rule_id)
        assert fired_rule is not None and words in " ".join(fired_rule.message.split()), rule_id
    if "exactly" in case:
        assert fired == set(case["exactly"])
