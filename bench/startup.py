"""Start-up cost of questions.yaml (DESIGN 8: load + check <= 150 ms).

Two figures: the median of N loads in this process (parsers and imports warm), and the median of
fresh interpreters, where the first load also pays for building the expression parser. The goal is
judged on the fresh-interpreter load, which is what a starting worker pays; the import time of the
domain modules is shown beside it. Run ``python -m bench.startup``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from typing import Any

from assessment.config import DEFAULTS
from assessment.domain import load_questionnaire
from tests.app_server import ROOT

GOAL_MS = 150.0
QUESTIONS = str(DEFAULTS["QUESTIONS_PATH"])
GUIDANCE = str(DEFAULTS["GUIDANCE_DIR"])

_COLD = """
import json, sys, time
t0 = time.perf_counter()
from assessment.domain import load_questionnaire
t1 = time.perf_counter()
load_questionnaire(sys.argv[1], sys.argv[2])
t2 = time.perf_counter()
print(json.dumps({"import_ms": (t1 - t0) * 1000, "load_ms": (t2 - t1) * 1000}))
"""


def warm_ms(runs: int) -> list[float]:
    """Time `runs` loads (questionnaire and guidance pages, all checks) in this process."""
    load_questionnaire(QUESTIONS, GUIDANCE)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        load_questionnaire(QUESTIONS, GUIDANCE)
        times.append((time.perf_counter() - started) * 1000)
    return times


def cold(runs: int) -> list[dict[str, float]]:
    """Time the first load in `runs` fresh interpreters."""
    out = []
    for _ in range(runs):
        result = subprocess.run(
            [sys.executable, "-c", _COLD, QUESTIONS, GUIDANCE],
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
    return {
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
    return 0 if r["goal_met"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
