"""Worked case files (tests/cases/*.yaml): read one, starting from its `base:` answers if it names one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

CASES_DIR = Path(__file__).parent / "cases"
CASES = sorted(CASES_DIR.glob("*.yaml"))


def load_case(path: Path) -> dict[str, Any]:
    """Read a case; `base: NAME` starts from tests/cases/bases/NAME.yaml, and a null answer removes one."""
    case: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    if "base" in case:
        base = yaml.safe_load((CASES_DIR / "bases" / f"{case['base']}.yaml").read_text(encoding="utf-8"))
        answers = {**base["answers"], **case.get("answers", {})}
        case["answers"] = {k: v for k, v in answers.items() if v is not None}
    return case


def raw_of(answers: dict[str, Any]) -> dict[str, list[object]]:
    """Give case answers the shape of raw input: a list of values per question."""
    return {k: list(v) if isinstance(v, list) else [v] for k, v in answers.items()}
