"""assess() throughput on one core (goal in docs/design.md: >= 2,000 full answer sets per second).

Rates are per second of CPU time (this VM's second core comes and goes), wall-clock beside them.
Answer sets: the personas P1-P3 (tests/cases) and a generated one that answers every question, with
choices that open every conditional section and question. Also timed: parse_answers + assess, the
work of one results page or API call. Run ``python -m bench.assess``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from assessment.config import DEFAULTS
from assessment.domain import Answers
from assessment.domain import Questionnaire
from assessment.domain import QuestionType
from assessment.domain import assess
from assessment.domain import load_questionnaire
from assessment.domain import parse_answers
from assessment.domain import visible_path
from assessment.domain.scoring import _prepared
from tests.app_server import as_form_values

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "cases"
PERSONAS = ("p1_emma", "p2_raj", "p3_linda")
GOAL_PER_SECOND = 2000.0
GOAL_NATIVE_RATIO = 2.5  # assess() vs the straight-line Python generated from the same expressions
RawAnswers = dict[str, list[str]]
# Choices that close a branch; the full set avoids them so every follow-up question shows.
_CLOSING = {"none", "never", "no", "prefer_not", "neither", "no_pain", "no_link"}


def questionnaire() -> Questionnaire:
    """The bundled questionnaire, loaded as the app loads it."""
    return load_questionnaire(str(DEFAULTS["QUESTIONS_PATH"]), str(DEFAULTS["GUIDANCE_DIR"]))


def full_answers(q: Questionnaire) -> RawAnswers:
    """Answer every question with a valid value, opening every branch."""
    raw: RawAnswers = {}
    for question in q.questions.values():
        kind = question.type
        if kind is QuestionType.YES_NO:
            raw[question.id] = ["yes"]
        elif kind is QuestionType.SINGLE:
            open_options = [o.value for o in question.options if o.value not in _CLOSING]
            raw[question.id] = [(open_options or [question.options[0].value])[0]]
        elif kind is QuestionType.MULTI:
            choices = [o.value for o in question.options if o.value not in question.exclusive]
            raw[question.id] = choices[:3]
        elif kind in (QuestionType.SCALE, QuestionType.INTEGER, QuestionType.NUMBER):
            lo = question.minimum if question.minimum is not None else Decimal(0)
            hi = question.maximum if question.maximum is not None else Decimal(10)
            raw[question.id] = [str(int((lo + hi) / 2))]
        elif kind is QuestionType.TEXT:
            raw[question.id] = [("Sample answer text. " * 20)[: question.max_length or 100].strip()]
    raw["age"] = ["45"]
    raw["sex"] = ["female"]
    return raw


def case_answers(name: str) -> RawAnswers | None:
    """Return a persona's answers as form values, or None when its case file is missing."""
    path = CASES / f"{name}.yaml"
    if not path.exists():
        return None
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {qid: as_form_values(value) for qid, value in data["answers"].items()}


def answer_sets(q: Questionnaire) -> dict[str, RawAnswers]:
    """Return the named answer sets: personas that exist, then the full set."""
    sets: dict[str, RawAnswers] = {}
    for name in PERSONAS:
        raw = case_answers(name)
        if raw is not None:
            sets[name.split("_")[0].upper()] = raw
    sets["full"] = full_answers(q)
    return sets


def parsed(q: Questionnaire, raw: RawAnswers) -> Answers:
    """Parse raw answers; fail loudly if any is invalid (a benchmark of errors proves nothing)."""
    result = parse_answers(q, raw)
    if not result.ok or result.unknown:
        msg = f"invalid answers: {result.errors} unknown: {result.unknown}"
        raise ValueError(msg)
    return result.answers


def per_second(call: Callable[[], object], seconds: float) -> tuple[float, float]:
    """Call repeatedly for about `seconds` (after a short warm-up).

    Returns calls per second of this process's CPU time (what one dedicated core would do; this
    VM's second core comes and goes) and per second of wall-clock time.
    """
    for _ in range(20):
        call()
    count = 0
    wall, cpu = time.perf_counter(), time.process_time()
    deadline = wall + seconds
    while True:
        for _ in range(20):
            call()
        count += 20
        now = time.perf_counter()
        if now >= deadline:
            used = max(time.process_time() - cpu, 1e-9)
            return count / used, count / (now - wall)


def bench_assess(seconds: float = 1.5) -> dict[str, Any]:
    """Return assess() and parse+assess rates per answer set, and the full set's figures."""
    q = questionnaire()
    rows: list[dict[str, Any]] = []
    for name, raw in answer_sets(q).items():
        answers = parsed(q, raw)
        assess_cpu, assess_wall = per_second(lambda a=answers: assess(q, a), seconds)
        both_cpu, both_wall = per_second(lambda r=raw: assess(q, parse_answers(q, r).answers), seconds)
        rows.append(
            {
                "set": name,
                "answers": len(answers),
                "visible_questions": len(visible_path(q, answers).questions),
                "rules_fired": len(assess(q, answers).rules),
                "assess_per_s": assess_cpu,
                "assess_per_wall_s": assess_wall,
                "parse_assess_per_s": both_cpu,
                "parse_assess_per_wall_s": both_wall,
            }
        )
    full = rows[-1]
    return {
        "rows": rows,
        "full_assess_per_s": full["assess_per_s"],
        "full_assess_per_wall_s": full["assess_per_wall_s"],
        "full_parse_assess_per_s": full["parse_assess_per_s"],
        "min_assess_per_s": min(r["assess_per_s"] for r in rows),
        "goal_met": full["assess_per_s"] >= GOAL_PER_SECOND,
    }


def bench_native(seconds: float = 1.0, rounds: int = 2) -> dict[str, Any]:
    """assess() against the generated function alone, per answer set, interleaved `rounds` times.

    The reference is the straight-line Python that closures.py generates from the checked
    expressions (visible path, points, raw scores, rules and variants, as local variables): what
    assess() adds is the model around it (Answers, VisiblePath, rounding and bands, FiredRules).
    """
    q = questionnaire()
    plan = _prepared(q).plan
    sets = {name: parsed(q, raw) for name, raw in answer_sets(q).items() if name in ("P1", "P3", "full")}
    ours: dict[str, list[float]] = {name: [] for name in sets}
    native: dict[str, list[float]] = {name: [] for name in sets}
    for _ in range(rounds):
        for name, answers in sets.items():
            get = answers.data.get
            ours[name].append(per_second(lambda a=answers: assess(q, a), seconds / 2)[0])
            native[name].append(per_second(lambda g=get: plan.run(g), seconds / 2)[0])
    rows = [
        {
            "set": name,
            "assess_us": 1e6 * len(ours[name]) / sum(ours[name]),
            "native_us": 1e6 * len(native[name]) / sum(native[name]),
        }
        for name in sets
    ]
    for row in rows:
        row["ratio"] = row["assess_us"] / row["native_us"]
    worst = max(row["ratio"] for row in rows)
    return {"rows": rows, "worst_ratio": worst, "goal_met": worst <= GOAL_NATIVE_RATIO}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="assess() throughput on one core")
    parser.add_argument("--seconds", type=float, default=1.5, help="timing per answer set and kind")
    args = parser.parse_args(argv)
    result = bench_assess(args.seconds)
    print("per second of CPU time (wall-clock in brackets)")
    print(f"{'set':6} {'answers':>7} {'visible':>7} {'rules':>5} {'assess/s':>16} {'parse+assess/s':>16}")
    for r in result["rows"]:
        print(
            f"{r['set']:6} {r['answers']:>7} {r['visible_questions']:>7} {r['rules_fired']:>5}"
            f" {r['assess_per_s']:>7,.0f} ({r['assess_per_wall_s']:>6,.0f})"
            f" {r['parse_assess_per_s']:>7,.0f} ({r['parse_assess_per_wall_s']:>6,.0f})"
        )
    verdict = "ok" if result["goal_met"] else "MISSED"
    rate = result["full_assess_per_s"]
    print(f"full answer set: {rate:,.0f}/s (goal >= {GOAL_PER_SECOND:,.0f}/s) {verdict}")
    native = bench_native(args.seconds)
    for r in native["rows"]:
        print(
            f"{r['set']:6} assess {r['assess_us']:.1f} us,"
            f" generated code {r['native_us']:.1f} us: {r['ratio']:.2f}x"
        )
    print(f"worst ratio {native['worst_ratio']:.2f}x (goal <= {GOAL_NATIVE_RATIO:g}x)")
    return 0 if result["goal_met"] and native["goal_met"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
