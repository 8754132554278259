"""Every rule in the questionnaire is shown to fire by at least one worked case (tests/cases/*.yaml)."""

from __future__ import annotations

from pathlib import Path

import yaml

from assessment.config import ROOT
from assessment.domain import load_questionnaire

CASES = Path(__file__).parent / "cases"


def test_every_rule_fires_in_some_case() -> None:
    """A rule added without a case that makes it fire fails here."""
    questionnaire = load_questionnaire(ROOT / "questions.yaml", ROOT / "templates" / "guidance")
    covered: set[str] = set()
    for path in sorted(CASES.glob("*.yaml")):
        case = yaml.safe_load(path.read_text(encoding="utf-8"))
        covered.update(case.get("fires", []))
    rule_ids = [rule.id for rule in questionnaire.rules]
    assert rule_ids, "the questionnaire has no rules"
    missing = [rule_id for rule_id in rule_ids if rule_id not in covered]
    assert not missing, f"rules with no case in tests/cases/ that fires them: {missing}"
