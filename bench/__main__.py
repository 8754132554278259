"""`make bench`: each goal of docs/design.md beside the figure measured in this run, in one table.

Timings on this VM are compared as ratios measured in the same run (its second core comes and
goes), so the load average at the start is printed with the machine. Progress goes to stderr; the
table goes to stdout. Exit status 1 when a goal is missed or a benchmark could not run.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import assess as assess_bench
from bench import pages as pages_bench
from bench import startup as startup_bench

Row = tuple[str, str, str, str]


def _progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def machine() -> list[tuple[str, str]]:
    """Describe the machine the figures come from."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        weasyprint = metadata.version("weasyprint")
    except metadata.PackageNotFoundError:
        weasyprint = "not installed"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        ("machine", f"{platform.system()} {platform.release()} ({platform.machine()})"),
        ("CPU", f"{model}; nproc {cores}"),
        ("Python", platform.python_version()),
        ("WeasyPrint", weasyprint),
        ("load average at start", load),
        ("date", time.strftime("%Y-%m-%d %H:%M %Z")),
    ]


def _guard(name: str, run: Callable[[], list[Row]], fallback: list[Row]) -> list[Row]:
    """Run one benchmark; on any error show 'n/a' rows and the reason, and carry on."""
    _progress(f"{name}...")
    started = time.perf_counter()
    try:
        rows = run()
    except Exception as exc:  # a broken benchmark must not hide the others' figures
        traceback.print_exc(file=sys.stderr)
        reason = f"n/a: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:90]
        return [(what, goal, reason, "n/a") for what, goal, _, _ in fallback]
    _progress(f"{name} done in {time.perf_counter() - started:.0f} s")
    return rows


PDF_FALLBACK: list[Row] = [
    ("PDF of P1's summary, median render", "<= 250 ms", "", ""),
    ("PDF prepared vs naive, same document and run", "<= 0.7x", "", ""),
    ("PDF worker RSS growth, 300 renders", "<= 10 MB", "", ""),
]


def pdf_rows(quick: bool) -> list[Row]:
    """PDF figures from bench.pdf (the PDF adapter's benchmark), imported only when it exists."""
    try:
        from bench import pdf as pdf_bench
    except ImportError as exc:
        return [(what, goal, f"n/a (bench.pdf: {exc})", "n/a") for what, goal, _, _ in PDF_FALLBACK]
    runs, renders = (8, 60) if quick else (30, 300)
    r: dict[str, Any] = pdf_bench.bench_pdf(pdf_bench.p1_document(), runs=runs, rss_renders=renders)
    cpu = f", CPU-time ratio {r['cpu_ratio']:.2f}" if "cpu_ratio" in r else ""
    return [
        (
            f"PDF of P1's summary, median render ({r.get('pages', '?')} pages)",
            f"<= {pdf_bench.GOAL_MEDIAN_MS:g} ms",
            f"{r['median_ms']:.0f} ms (median of {r.get('runs', runs)})",
            _verdict(r.get("goal_median_ms_met")),
        ),
        (
            "PDF prepared vs naive, same document and run",
            f"<= {pdf_bench.GOAL_RATIO:g}x",
            f"{r['ratio']:.2f}x (means {r['mean_ms']:.0f} vs {r['naive_mean_ms']:.0f} ms{cpu})",
            _verdict(r.get("goal_ratio_met")),
        ),
        (
            f"PDF worker RSS growth, {r.get('rss_renders', renders)} renders",
            f"<= {pdf_bench.GOAL_RSS_GROWTH_MB:g} MB",
            f"{r['rss_growth_mb']:+.1f} MB ({r['rss_start_mb']:.0f} -> {r['rss_end_mb']:.0f} MB)",
            _verdict(r.get("goal_rss_growth_met")),
        ),
        finish_row(pdf_bench, quick),
    ]


def finish_row(pdf_bench: Any, quick: bool) -> Row:
    """The PDF/UA-1 finishing step's share of P1's render; it is inside the figures above."""
    f = pdf_bench.bench_finish(pdf_bench.p1_document(), runs=8 if quick else 20)
    return (
        "PDF/UA-1 finishing step (pikepdf), P1's summary",
        "(in the render)",
        f"{f['finish_median_ms']:.0f} ms median, {f['share']:.0%} of a {f['render_median_ms']:.0f} ms render",
        "info",
    )


PEER_FALLBACK: list[Row] = [
    ("P1 summary vs Chromium print of the same HTML, CPU", "<= 2.5x", "", ""),
    ("P3 summary vs Chromium print of the same HTML, CPU", "(no goal)", "", ""),
    ("every-question-at-maximum summary vs Chromium, CPU", "<= 4x", "", ""),
    ("every-question-at-maximum vs P1, our renderer", "<= 1.6x", "", ""),
    ("growth with content: log-log slope of CPU vs HTML size (P1, P3, max)", "<= 1.1", "", ""),
]


def peer_rows(quick: bool) -> list[Row]:
    """Our renderer against Chromium printing the same summary HTML (bench.peer)."""
    from bench import peer

    r = peer.bench_peer(rounds=2, renders=3 if quick else 6)

    def measured(name: str) -> str:
        f = r[name]
        return (
            f"{f['cpu_ratio']:.2f}x CPU, {f['time_ratio']:.2f}x time ({f['ours_cpu']:.0f} vs"
            f" {f['peer_cpu']:.0f} ms CPU, {f['ours_ms']:.0f} vs {f['peer_ms']:.0f} ms)"
        )

    goals = r["goals"]
    return [
        (PEER_FALLBACK[0][0], f"<= {peer.GOAL_P1_CPU:g}x", measured("P1"), _verdict(goals["p1_cpu"])),
        (PEER_FALLBACK[1][0], "(no goal)", measured("P3"), "info"),
        (PEER_FALLBACK[2][0], f"<= {peer.GOAL_MAX_CPU:g}x", measured("max"), _verdict(goals["max_cpu"])),
        (
            PEER_FALLBACK[3][0],
            f"<= {peer.GOAL_MAX_VS_P1:g}x",
            f"{r['max_vs_p1']:.2f}x CPU, for {r['html_max_vs_p1']:.2f}x the HTML",
            _verdict(goals["max_vs_p1"]),
        ),
        (
            PEER_FALLBACK[4][0],
            f"<= {peer.GOAL_GROWTH:g}",
            f"{r['growth']['ours']:.2f} (Chromium {r['growth']['peer']:.2f})",
            _verdict(goals["growth"]),
        ),
    ]


REAL_PDF_FALLBACK: list[Row] = [("PDF of P1's real summary, GET /report.pdf", "<= 250 ms", "", "")]


def real_pdf_rows(quick: bool) -> list[Row]:
    r = pages_bench.bench_real_pdf(renders=5 if quick else 15)
    goal = 250.0
    return [
        (
            f"PDF of P1's real summary, GET /report.pdf ({r['pages']} pages)",
            f"<= {goal:g} ms",
            f"{r['median_ms']:.0f} ms wall (median of {r['renders']}), {r['cpu_ms']:.0f} ms worker CPU",
            _verdict(r["median_ms"] <= goal),
        )
    ]


PAGES_FALLBACK: list[Row] = [
    ("question page req/s vs plain page, same size; p99", ">= 0.8x, p99 <= 100 ms", "", "")
]


def pages_rows(quick: bool) -> list[Row]:
    r = pages_bench.bench_pages(seconds=3 if quick else 4, rounds=2 if quick else 6)
    measured = (
        f"{r['ratio']:.2f}x (median of {pages_bench.ratios_text(r['round_ratios'])}),"
        f" p99 {r['app_p99_ms']:.0f} ms"
        f" ({r['app_rps']:,.0f} vs {r['plain_rps']:,.0f} req/s, {r['bytes']:,} B"
        f"{'' if not r['errors'] else ', ' + str(r['errors']) + ' errors'};"
        f" {r['bare_ratio']:.2f}x a bare Flask page at {r['bare_rps']:,.0f} req/s)"
    )
    return [
        (
            "question page req/s vs plain page, same size; p99",
            f">= {pages_bench.GOAL_RATIO:g}x, p99 <= {pages_bench.GOAL_P99_MS:g} ms",
            measured,
            _verdict(r["goal_met"]),
        )
    ]


RESULTS_FALLBACK: list[Row] = [
    ("GET /results (full set) req/s vs plain page, same size", ">= 0.6x", "", ""),
    ("section POST req/s vs plain page of the section's size", "(no goal)", "", ""),
]


def results_rows(quick: bool) -> list[Row]:
    r = pages_bench.bench_results(seconds=3 if quick else 4, rounds=2 if quick else 6)
    rps = r["rps"]
    return [
        (
            "GET /results (full set) req/s vs plain page, same size",
            f">= {pages_bench.GOAL_RESULTS_RATIO:g}x",
            f"{r['ratio']:.2f}x (median of {pages_bench.ratios_text(r['round_ratios'])};"
            f" {rps['results']:,.0f} vs {rps['results_plain']:,.0f} req/s, {r['bytes']:,} B"
            f"{'' if not r['errors'] else ', ' + str(r['errors']) + ' errors'})",
            _verdict(r["goal_met"]),
        ),
        (
            "section POST req/s vs plain page of the section's size",
            "(no goal)",
            f"{r['post_ratio']:.2f}x ({rps['post']:,.0f} vs {rps['post_plain']:,.0f} req/s)",
            "info",
        ),
    ]


ASSESS_FALLBACK: list[Row] = [
    ("assess(), full answer set, one core", ">= 2,000/s", "", ""),
    ("parse_answers + assess, full answer set", "(no goal)", "", ""),
    ("assess() vs generated plain Python, worst set", "<= 2.5x", "", ""),
]


def assess_rows(quick: bool) -> list[Row]:
    r = assess_bench.bench_assess(seconds=0.5 if quick else 1.5)
    personas = ", ".join(f"{row['set']} {row['assess_per_s']:,.0f}" for row in r["rows"][:-1])
    return [
        (
            "assess(), full answer set, one core",
            f">= {assess_bench.GOAL_PER_SECOND:,.0f}/s",
            f"{r['full_assess_per_s']:,.0f}/s CPU, {r['full_assess_per_wall_s']:,.0f}/s wall"
            + (f" ({personas})" if personas else ""),
            _verdict(r["goal_met"]),
        ),
        (
            "parse_answers + assess, full answer set",
            "(no goal)",
            f"{r['full_parse_assess_per_s']:,.0f}/s",
            "info",
        ),
        native_row(quick),
    ]


def native_row(quick: bool) -> Row:
    """assess() against the straight-line Python generated from the same expressions."""
    r = assess_bench.bench_native(seconds=0.4 if quick else 1.0)
    sets = ", ".join(f"{row['set']} {row['assess_us']:.0f} vs {row['native_us']:.0f} us" for row in r["rows"])
    return (
        "assess() vs generated plain Python, worst set",
        f"<= {assess_bench.GOAL_NATIVE_RATIO:g}x",
        f"{r['worst_ratio']:.2f}x ({sets}; CPU, interleaved twice)",
        _verdict(r["goal_met"]),
    )


STARTUP_FALLBACK: list[Row] = [
    ("load + check questions.yaml at start-up", "<= 150 ms", "", ""),
    *[
        (f"load + check at {times}x today's rules", f"<= {goal:g} ms", "", "")
        for times, goal in startup_bench.SCALED_GOALS_MS.items()
    ],
]


def startup_rows(quick: bool) -> list[Row]:
    r = startup_bench.bench_startup(warm_runs=5 if quick else 20, cold_runs=3 if quick else 5)
    return [
        (
            "load + check questions.yaml at start-up",
            f"<= {startup_bench.GOAL_MS:g} ms",
            f"{r['cold_load_median_ms']:.0f} ms fresh process ({r['warm_median_ms']:.0f} ms warm;"
            f" domain import {r['cold_import_median_ms']:.0f} ms)",
            _verdict(r["goal_met"]),
        ),
        *[
            (
                f"load + check at {times}x today's rules",
                f"<= {row['goal_ms']:g} ms",
                f"{row['cold_load_median_ms']:.0f} ms fresh process ({row['rules']} rules)",
                _verdict(row["goal_met"]),
            )
            for times, row in r["scaled"].items()
        ],
    ]


def table(rows: list[Row]) -> str:
    """Format rows as a Markdown table (readable in a terminal, pasteable into the README)."""
    header: Row = ("what", "goal", "measured", "result")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]

    def line(row: Row) -> str:
        return "| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description="goals vs measured")
    parser.add_argument("--quick", action="store_true", help="fewer runs (a smoke test, not a record)")
    parser.add_argument(
        "--skip", action="append", default=[], choices=["pdf", "peer", "pages", "assess", "startup"]
    )
    args = parser.parse_args(argv)
    about = machine()
    rows: list[Row] = []
    if "pdf" not in args.skip:
        rows += _guard("PDF (bench.pdf)", lambda: pdf_rows(args.quick), PDF_FALLBACK)
    if "pdf" not in args.skip and "peer" not in args.skip:
        rows += _guard("PDF vs Chromium (bench.peer)", lambda: peer_rows(args.quick), PEER_FALLBACK)
    if "pdf" not in args.skip:
        rows += _guard("real summary PDF (gunicorn)", lambda: real_pdf_rows(args.quick), REAL_PDF_FALLBACK)
    if "pages" not in args.skip:
        rows += _guard("pages (gunicorn + wrk)", lambda: pages_rows(args.quick), PAGES_FALLBACK)
        rows += _guard(
            "results and POST (gunicorn + wrk)", lambda: results_rows(args.quick), RESULTS_FALLBACK
        )
    if "assess" not in args.skip:
        rows += _guard("assess()", lambda: assess_rows(args.quick), ASSESS_FALLBACK)
    if "startup" not in args.skip:
        rows += _guard("start-up", lambda: startup_rows(args.quick), STARTUP_FALLBACK)
    print(table(rows))
    print()
    for key, value in about:
        print(f"{key}: {value}")
    if args.quick:
        print("(--quick: fewer runs; not a record)")
    failed = [r for r in rows if r[3] in ("FAIL", "n/a")]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
