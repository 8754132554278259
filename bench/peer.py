"""The summary PDF against the peer: Chromium printing the same HTML (issue 18 goals).

Our prepared WeasyPrint renderer and headless Chromium (Debian's /usr/bin/chromium, driven by
Playwright with one warm page; never `playwright install`) print the same summary HTML, with
base.css inlined for Chromium, for persona P1, persona P3 and an answer set with every question at
its maximum. Renders alternate in blocks, twice over. CPU is whole-process-tree: ours is this
process's CPU time; Chromium's is the user+system time of every Chromium process under this one
(browser, renderer, GPU and utility processes), read from /proc. Run ``python -m bench.peer``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import math
import os
import secrets
import statistics
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from assessment.domain import Questionnaire
from assessment.domain import QuestionType
from assessment.domain import assess
from assessment.domain.answers_file import AnswerDates
from assessment.report.pdf import PdfRenderer
from assessment.report.pdf import base_stylesheet
from assessment.web.summary_download import SummaryDocument
from assessment.web.summary_download import summary_document
from bench.assess import _CLOSING
from bench.assess import RawAnswers
from bench.assess import answer_sets
from bench.assess import parsed
from bench.assess import questionnaire

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
GOAL_P1_CPU = 2.5  # ours / Chromium, CPU per render
GOAL_MAX_CPU = 4.0
GOAL_MAX_VS_P1 = 1.6  # our renderer: the maximum set vs P1
# Log-log slope of CPU against HTML size: 1 is linear growth. With almost no fixed cost per render,
# ours sits at about 1 and moves by up to 0.1 between runs on one VM; the goal allows that noise, and
# anything steeper is superlinear (1.64 at filing, 1.20 with the grid gone).
GOAL_GROWTH = 1.1
BLOCK = 3


def maximum_answers(q: Questionnaire) -> RawAnswers:
    """Every question answered at its maximum: top of each range, every option, every text full."""
    raw: RawAnswers = {}
    for question in q.questions.values():
        kind = question.type
        if kind is QuestionType.MULTI:
            raw[question.id] = [o.value for o in question.options if o.value not in question.exclusive]
        elif kind in (QuestionType.SINGLE, QuestionType.YES_NO):
            options = [o.value for o in question.options] or ["yes"]
            opening = [v for v in options if v not in _CLOSING]
            raw[question.id] = [(opening or options)[-1] if kind is QuestionType.SINGLE else "yes"]
        elif kind.is_numeric:
            top = question.maximum if question.maximum is not None else Decimal(10)
            raw[question.id] = [str(int(top))]
        elif kind is QuestionType.TEXT:
            words = "Sample answer text, written out at length. " * 40
            raw[question.id] = [words[: question.max_length].strip()]
    return raw


def documents() -> dict[str, SummaryDocument]:
    """The real summary documents of P1, P3 and the maximum set, as GET /report.pdf builds them."""
    from assessment import create_app

    q = questionnaire()
    sets = answer_sets(q)
    chosen = {"P1": sets["P1"], "P3": sets["P3"], "max": maximum_answers(q)}
    app = create_app({"SECRET_KEY": secrets.token_hex(32)})
    today = dt.date.today()
    with app.test_request_context():
        return {
            name: summary_document(assess(q, parsed(q, raw)), AnswerDates(today))
            for name, raw in chosen.items()
        }


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def chromium_ticks() -> int:
    """User+system clock ticks of every Chromium process below this one (its whole tree)."""
    tree, total, todo = _children(), 0, [os.getpid()]
    while todo:
        for pid in tree.get(todo.pop(), []):
            todo.append(pid)
            try:
                if "chromium" not in os.readlink(f"/proc/{pid}/exe"):
                    continue
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])
    return total


def bench_peer(rounds: int = 2, renders: int = 6) -> dict[str, Any]:
    """Time and CPU per render, ours vs Chromium, for each document; interleaved `rounds` times."""
    from playwright.sync_api import sync_playwright

    docs = documents()
    css = base_stylesheet()
    renderer = PdfRenderer(css)
    tick = os.sysconf("SC_CLK_TCK")
    figures: dict[str, dict[str, list[float]]] = {
        name: {"ours_ms": [], "ours_cpu": [], "peer_ms": [], "peer_cpu": []} for name in docs
    }
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()

        def ours(doc: SummaryDocument) -> Callable[[], object]:
            return lambda: renderer.render(
                doc.html,
                attachments=[doc.attachment],
                title=doc.title,
                author=doc.author,
                subject=doc.subject,
            )

        def peer(doc: SummaryDocument) -> Callable[[], object]:
            # Same HTML, base.css inlined (our renderer passes it as a user stylesheet).
            if "</" in css:  # raw text inside <style>: only an end tag could break out of it
                msg = "base.css holds '</'"
                raise ValueError(msg)
            styled = doc.html.replace("</head>", f"<style>{css}</style></head>", 1)

            def render() -> bytes:
                page.set_content(styled)
                pdf: bytes = page.pdf(format="A4", print_background=True, tagged=True)
                return pdf

            return render

        for doc in docs.values():  # warm both: fonts, caches, the page
            ours(doc)()
            peer(doc)()
        # As a gunicorn worker does once started (assessment/worker.py) and bench.pdf does: what
        # is alive now (the app, WeasyPrint, Playwright) is frozen out of the collector's full
        # scans. Unfrozen, those scans walked about 120,000 objects a production worker never
        # walks, 10-17% of our renders' CPU. Chromium's side is measured from its own processes.
        gc.collect()
        gc.freeze()
        for _ in range(rounds):
            for name, doc in docs.items():
                for _ in range(renders // BLOCK or 1):
                    for _ in range(BLOCK):
                        wall, cpu = time.perf_counter(), time.process_time()
                        ours(doc)()
                        figures[name]["ours_ms"].append((time.perf_counter() - wall) * 1000)
                        figures[name]["ours_cpu"].append((time.process_time() - cpu) * 1000)
                    for _ in range(BLOCK):
                        ticks = chromium_ticks()  # read /proc outside the timed call
                        wall = time.perf_counter()
                        peer(doc)()
                        figures[name]["peer_ms"].append((time.perf_counter() - wall) * 1000)
                        figures[name]["peer_cpu"].append((chromium_ticks() - ticks) * 1000 / tick)
        gc.unfreeze()
        browser.close()
    out: dict[str, Any] = {}
    for name, f in figures.items():
        mean = {key: statistics.mean(values) for key, values in f.items()}
        out[name] = {
            **mean,
            "time_ratio": mean["ours_ms"] / mean["peer_ms"],
            "cpu_ratio": mean["ours_cpu"] / mean["peer_cpu"] if mean["peer_cpu"] else float("inf"),
        }
    out["max_vs_p1"] = out["max"]["ours_cpu"] / out["P1"]["ours_cpu"]
    sizes = {name: len(doc.html.encode()) for name, doc in docs.items()}
    out["html_max_vs_p1"] = sizes["max"] / sizes["P1"]
    out["growth"] = {
        side: growth_slope([sizes[name] for name in docs], [out[name][key] for name in docs])
        for side, key in (("ours", "ours_cpu"), ("peer", "peer_cpu"))
    }
    out["goals"] = {
        "p1_cpu": out["P1"]["cpu_ratio"] <= GOAL_P1_CPU,
        "max_cpu": out["max"]["cpu_ratio"] <= GOAL_MAX_CPU,
        "max_vs_p1": out["max_vs_p1"] <= GOAL_MAX_VS_P1,
        "growth": out["growth"]["ours"] <= GOAL_GROWTH,
    }
    return out


def growth_slope(sizes: list[int], costs: list[float]) -> float:
    """The least-squares slope of log(cost) against log(size): 1 is linear growth, above 1 faster."""
    if min(costs) <= 0:  # a side too quick to register CPU ticks has no slope to give
        return math.nan
    fit = statistics.linear_regression([math.log(s) for s in sizes], [math.log(c) for c in costs])
    return fit.slope


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="our summary PDF vs Chromium printing the same HTML")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--renders", type=int, default=6, help="renders per side per round")
    args = parser.parse_args(argv)
    r = bench_peer(args.rounds, args.renders)
    for name in ("P1", "P3", "max"):
        f = r[name]
        print(
            f"{name:4} ours {f['ours_ms']:.0f} ms ({f['ours_cpu']:.0f} ms CPU),"
            f" Chromium {f['peer_ms']:.0f} ms ({f['peer_cpu']:.0f} ms CPU):"
            f" time {f['time_ratio']:.2f}x, CPU {f['cpu_ratio']:.2f}x"
        )
    print(f"maximum set vs P1, our renderer: {r['max_vs_p1']:.2f}x for {r['html_max_vs_p1']:.2f}x the HTML")
    growth = r["growth"]
    print(f"growth with HTML size (log-log slope): ours {growth['ours']:.2f}, Chromium {growth['peer']:.2f}")
    return 0 if all(r["goals"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
