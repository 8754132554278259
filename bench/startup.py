"""Start-up cost of questions.yaml (goal: load + check <= 150 ms), and at 2x and 10x its rules.

Two figures: the median of N loads in this process (parsers and imports warm), and the median of
fresh interpreters, where the first load also pays for building the expression parser. The goal is
judged on the fresh-interpreter load, which is what a starting worker pays; the import time of the
domain modules is shown beside it. The scaled rows load a temporary copy of questions.yaml whose
rules are repeated under new ids (same conditions, same guidance), to show growth with rules.
Every figure includes generating assess()'s code (`scoring.prepare`). Run ``python -m bench.startup``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from assessment.config import DEFAULTS
from assessment.domain import load_questionnaire
from assessment.domain.scoring import prepare
from tests.app_server import ROOT

GOAL_MS = 150.0
# Goals by rule multiple: twice today's rules must still start within the 1x budget.
SCALED_GOALS_MS = {2: 150.0, 10: 500.0}
QUESTIONS = str(DEFAULTS["QUESTIONS_PATH"])
GUIDANCE = str(DEFAULTS["GUIDANCE_DIR"])

_COLD = """
import json, sys, time
t0 = time.perf_counter()
from assessment.domain import load_questionnaire
t1 = time.perf_counter()
from assessment.domain.scoring import prepare
prepare(load_questionnaire(sys.argv[1], sys.argv[2]))
t2 = time.perf_counter()
print(json.dumps({"import_ms": (t1 - t0) * 1000, "load_ms": (t2 - t1) * 1000}))
"""


def warm_ms(runs: int) -> list[float]:
    """Time `runs` loads (questionnaire and guidance pages, all checks) in this process."""
    load_questionnaire(QUESTIONS, GUIDANCE)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        prepare(load_questionnaire(QUESTIONS, GUIDANCE))
        times.append((time.perf_counter() - started) * 1000)
    return times


def scaled_copy(times: int, folder: Path) -> Path:
    """Write questions.yaml with its rules repeated `times` times in all (copies get new ids)."""
    tree: dict[str, Any] = yaml.safe_load(Path(QUESTIONS).read_text(encoding="utf-8"))
    rules = tree["rules"]
    tree["rules"] = rules + [{**rule, "id": f"{rule['id']}x{n}"} for n in range(1, times) for rule in rules]
    path = folder / f"questions-x{times}.yaml"
    path.write_text(yaml.safe_dump(tree, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def cold(runs: int, questions: str = QUESTIONS) -> list[dict[str, float]]:
    """Time the first load in `runs` fresh interpreters."""
    out = []
    for _ in range(runs):
        result = subprocess.run(
            [sys.executable, "-c", _COLD, questions, GUIDANCE],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        out.append(json.loads(result.stdout))
    return out


def bench_startup(warm_runs: int = 20, cold_runs: int = 5) -> dict[str, Any]:
    """Return the warm and cold medians in ms and whether the goal is met."""
    warm = warm_ms(warm_runs)
    fresh = cold(cold_runs)
    cold_load = statistics.median(r["load_ms"] for r in fresh)
    scaled: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for times, goal in SCALED_GOALS_MS.items():
            path = scaled_copy(times, Path(folder))
            rules = len(load_questionnaire(path, GUIDANCE).rules)
            median = statistics.median(r["load_ms"] for r in cold(cold_runs, str(path)))
            scaled[times] = {
                "rules": rules,
                "cold_load_median_ms": median,
                "goal_ms": goal,
                "goal_met": median <= goal,
            }
    return {
        "scaled": scaled,
        "warm_median_ms": statistics.median(warm),
        "warm_runs": warm_runs,
        "cold_load_median_ms": cold_load,
        "cold_import_median_ms": statistics.median(r["import_ms"] for r in fresh),
        "cold_runs": cold_runs,
        "goal_met": cold_load <= GOAL_MS,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="load + check of questions.yaml")
    parser.add_argument("--warm", type=int, default=20, help="loads in this process")
    parser.add_argument("--cold", type=int, default=5, help="fresh interpreters")
    args = parser.parse_args(argv)
    r = bench_startup(args.warm, args.cold)
    print(f"warm load + check, median of {r['warm_runs']}: {r['warm_median_ms']:.1f} ms")
    print(
        f"fresh interpreter, median of {r['cold_runs']}: load + check {r['cold_load_median_ms']:.1f} ms"
        f" (goal <= {GOAL_MS:g} ms) {'ok' if r['goal_met'] else 'MISSED'};"
        f" importing the domain first {r['cold_import_median_ms']:.1f} ms"
    )
    for times, row in r["scaled"].items():
        print(
            f"{times}x the rules ({row['rules']}): {row['cold_load_median_ms']:.1f} ms fresh interpreter"
            f" (goal <= {row['goal_ms']:g} ms) {'ok' if row['goal_met'] else 'MISSED'}"
        )
    return 0 if r["goal_met"] and all(row["goal_met"] for row in r["scaled"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
