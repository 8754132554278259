"""Question-page throughput (goal: >= 0.8x a plain Jinja page of the same size, same gunicorn).

One gunicorn (the shipped gunicorn.conf.py: its workers, recycling on) serves `bench.plain_app:app`:
the real app with an extra bench-only route, /bench/plain, rendering a plain Jinja template padded
to the question page's exact size, and beside it a bare Flask app serving the same plain page under
/plain. A session is filled through the real forms (P1's first two sections), then wrk measures, in
turn and on 127.0.0.1 only: GET /q/symptoms with that session's cookie, our app's plain page with
the same cookie (the reference of docs/design.md: same app, session, headers and CSRF set-up, so the
ratio is what the questionnaire logic adds), and the bare Flask page (Flask's floor, for
comparison). Six rounds of 4 s each alternate the three; a goal is judged on the median of the
rounds' ratios (`paired_ratios`).
Run ``python -m bench.pages``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import runpy
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from pypdf import PdfReader

from bench.assess import answer_sets
from bench.assess import questionnaire
from tests.app_server import Client
from tests.app_server import cpu_ticks
from tests.app_server import csrf_token
from tests.app_server import fill_questionnaire
from tests.app_server import gunicorn

GOAL_RATIO = 0.8
GOAL_P99_MS = 100.0
# The shipped worker count (gunicorn.conf.py): the rows measure the configuration a deployment runs,
# with its max_requests recycling on.
SHIPPED_CONFIG = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"
SHIPPED_WORKERS = int(runpy.run_path(str(SHIPPED_CONFIG))["workers"])
# The plain pages that bench/plain_app.py serves (it imports these; importing it would build the app).
APP_PLAIN_PATH = "/bench/plain"
BARE_PLAIN_PATH = "/plain/page"
PAGE = "/q/symptoms"
STOP_BEFORE = "bowel"


def wrk(
    url: str, *, seconds: int, threads: int = 2, connections: int = 16, cookie: str = "", script: str = ""
) -> dict[str, Any]:
    """Run wrk against a loopback URL; return requests/s, latency and error counts."""
    if not url.startswith("http://127.0.0.1:"):
        msg = f"wrk runs against 127.0.0.1 only, not {url}"
        raise ValueError(msg)
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE)
    total = re.search(r"(\d+) requests in", out)
    return {
        "rps": float(rps.group(1)) if rps else 0.0,
        "requests": int(total.group(1)) if total else 0,
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": sum(int(n) for n in errors.groups()) if errors else 0,
        "p99": p99.group(1) if p99 else "?",
        "raw": out,
    }


def bench_pages(seconds: int = 4, rounds: int = 6, warmup: int = 2, recycle: bool = True) -> dict[str, Any]:
    """Measure the question page and two plain pages of equal size; return rates and ratios.

    `ratio` (the goal in docs/design.md) compares the question page with the plain page served by our own app
    with the same session cookie; `bare_ratio` compares it with the plain page of a bare Flask app.
    """
    if shutil.which("wrk") is None:
        msg = "wrk is not installed (make bench installs it)"
        raise RuntimeError(msg)
    q = questionnaire()
    sets = answer_sets(q)
    answers = sets.get("P1", sets["full"])
    section_ids = {s.id: [qq.id for qq in s.questions] for s in q.sections}
    # The shipped config recycles workers every ~2,000 requests, and the rows keep it: a recycled
    # worker is a fork of the preloaded master, so its requests must not wait (--no-recycle to compare).
    extra = [] if recycle else ["--max-requests", "0"]
    with gunicorn("bench.plain_app:app", workers=SHIPPED_WORKERS, extra_args=extra) as server:
        client = Client(server.base_url)
        fill_questionnaire(client, answers, section_ids, stop_before=STOP_BEFORE)
        page = client.get(PAGE)
        if page.status != 200 or page.path != PAGE:
            msg = f"GET {PAGE} with the session gave {page.status} at {page.path}"
            raise RuntimeError(msg)
        size = len(page.body)
        app_plain_path = f"{APP_PLAIN_PATH}?bytes={size}"
        bare_plain_path = f"{BARE_PLAIN_PATH}?bytes={size}"
        for path in (app_plain_path, bare_plain_path):
            plain = client.get(path)
            if plain.status != 200 or len(plain.body) != size:
                msg = f"the plain page {path} is {len(plain.body)} bytes (status {plain.status}), not {size}"
                raise RuntimeError(msg)
        cookie = client.cookie_header()
        # name -> (URL, cookie): the question page and our app's plain page carry the session
        # cookie; the bare app has no session, so it is measured as before, without one.
        targets = {
            "app": (server.base_url + PAGE, cookie),
            "plain": (server.base_url + app_plain_path, cookie),
            "bare": (server.base_url + bare_plain_path, ""),
        }
        for url, sent in targets.values():
            wrk(url, seconds=warmup, cookie=sent)
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
        for _ in range(rounds):  # alternate, so each sees the same share of the flaky second core
            for name, (url, sent) in targets.items():
                runs[name].append(wrk(url, seconds=seconds, cookie=sent))
        pids_after = server.worker_pids()
    rps = {name: sum(r["rps"] for r in measured) / rounds for name, measured in runs.items()}
    round_ratios = paired_ratios(runs["app"], runs["plain"])
    ratio = statistics.median(round_ratios)
    bare_ratio = rps["app"] / rps["bare"] if rps["bare"] else 0.0
    bad = sum(r["non_2xx"] + r["socket_errors"] for measured in runs.values() for r in measured)
    worst_p99 = max(p99_ms(r["p99"]) for r in runs["app"])
    return {
        "page": PAGE,
        "bytes": size,
        "seconds": seconds,
        "rounds": rounds,
        "app_rps": rps["app"],
        "plain_rps": rps["plain"],
        "bare_rps": rps["bare"],
        "app_p99": runs["app"][-1]["p99"],
        "app_p99_ms": worst_p99,
        "plain_p99": runs["plain"][-1]["p99"],
        "bare_p99": runs["bare"][-1]["p99"],
        "ratio": ratio,
        "round_ratios": round_ratios,
        "bare_ratio": bare_ratio,
        "errors": bad,
        "workers": len(pids_after),
        "goal_met": ratio >= GOAL_RATIO and bad == 0 and worst_p99 <= GOAL_P99_MS,
    }


def paired_ratios(measured: list[dict[str, Any]], reference: list[dict[str, Any]]) -> list[float]:
    """Each round's rate over its reference's, measured just before or after it in the same round.

    The ratio a goal is judged on is their median: this VM's second core comes and goes for
    seconds at a time, and one slowed measurement then moves a mean of rates far more than the
    median of ratios taken side by side.
    """
    return [m["rps"] / r["rps"] if r["rps"] else 0.0 for m, r in zip(measured, reference, strict=True)]


def ratios_text(values: list[float]) -> str:
    """Write each round's ratio: '0.84, 0.91, 0.88'."""
    return ", ".join(f"{v:.2f}" for v in values)


def p99_ms(text: str) -> float:
    """Read a wrk latency such as '850.00us', '12.34ms' or '1.10s' as milliseconds ('?' is infinite)."""
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if found is None:
        return float("inf")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[found.group(2)]
    return float(found.group(1)) * scale


GOAL_RESULTS_RATIO = 0.6
POST_SECTION = "symptoms"


def bench_results(seconds: int = 4, rounds: int = 6, warmup: int = 2, recycle: bool = True) -> dict[str, Any]:
    """GET /results with the full answer set, and a section POST, each against a plain page.

    The shipped gunicorn configuration, recycling included (`recycle=False` turns it off to
    compare). The plain page is our app's, padded to
    the size of the page compared with it, requested with the same session cookie. The POST sends
    the section's answers again with the session's CSRF token (wrk cannot follow the redirect, so
    it times the save and the 302 alone); its plain page is the size of the section's own page.
    """
    if shutil.which("wrk") is None:
        msg = "wrk is not installed (make bench installs it)"
        raise RuntimeError(msg)
    q = questionnaire()
    answers = answer_sets(q)["full"]
    section_ids = {s.id: [qq.id for qq in s.questions] for s in q.sections}
    extra = [] if recycle else ["--max-requests", "0"]
    with (
        gunicorn("bench.plain_app:app", workers=SHIPPED_WORKERS, extra_args=extra) as server,
        tempfile.TemporaryDirectory() as folder,
    ):
        client = Client(server.base_url)
        fill_questionnaire(client, answers, section_ids)
        results = client.get("/results")
        if results.status != 200 or results.path != "/results":
            msg = f"GET /results with the full set gave {results.status} at {results.path}"
            raise RuntimeError(msg)
        section = client.get(f"/q/{POST_SECTION}")
        fields = [("csrf_token", csrf_token(section.text))]
        fields += [(qid, v) for qid in section_ids[POST_SECTION] if qid in answers for v in answers[qid]]
        check = client.post_form(f"/q/{POST_SECTION}", fields)
        if check.status != 200 or check.path == f"/q/{POST_SECTION}":
            msg = f"POST /q/{POST_SECTION} gave {check.status} at {check.path}"
            raise RuntimeError(msg)
        cookie = client.cookie_header()
        lua = Path(folder) / "post.lua"
        lua.write_text(
            'wrk.method = "POST"\n'
            'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
            f"wrk.body = {json.dumps(urlencode(fields))}\n",
            encoding="utf-8",
        )
        targets = {
            "results": (server.base_url + "/results", ""),
            "results_plain": (f"{server.base_url}{APP_PLAIN_PATH}?bytes={len(results.body)}", ""),
            "post": (f"{server.base_url}/q/{POST_SECTION}", str(lua)),
            "post_plain": (f"{server.base_url}{APP_PLAIN_PATH}?bytes={len(section.body)}", ""),
        }
        for url, script in targets.values():
            wrk(url, seconds=warmup, cookie=cookie, script=script)
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
        for _ in range(rounds):  # interleaved, so each sees the same share of the shared cores
            for name, (url, script) in targets.items():
                runs[name].append(wrk(url, seconds=seconds, cookie=cookie, script=script))
    rps = {name: sum(r["rps"] for r in measured) / rounds for name, measured in runs.items()}
    bad = sum(r["non_2xx"] + r["socket_errors"] for measured in runs.values() for r in measured)
    round_ratios = paired_ratios(runs["results"], runs["results_plain"])
    ratio = statistics.median(round_ratios)
    return {
        "bytes": len(results.body),
        "rps": rps,
        "ratio": ratio,
        "round_ratios": round_ratios,
        "post_ratio": statistics.median(paired_ratios(runs["post"], runs["post_plain"])),
        "errors": bad,
        "goal_met": ratio >= GOAL_RESULTS_RATIO and bad == 0,
    }


def bench_real_pdf(renders: int = 10, warmup: int = 2) -> dict[str, Any]:
    """Time P1's real summary: GET /report.pdf with a filled session, one worker, one at a time.

    Wall-clock median, plus the worker's CPU time per render from /proc (it ignores a vanished core).
    """
    q = questionnaire()
    sets = answer_sets(q)
    answers = sets.get("P1", sets["full"])
    section_ids = {s.id: [qq.id for qq in s.questions] for s in q.sections}
    with gunicorn(workers=1) as server:
        client = Client(server.base_url)
        fill_questionnaire(client, answers, section_ids)
        worker = server.worker_pids()[0]
        first = client.get("/report.pdf")
        if first.status != 200 or not first.body.startswith(b"%PDF"):
            msg = f"GET /report.pdf gave {first.status} {first.headers.get('Content-Type')}"
            raise RuntimeError(msg)
        for _ in range(warmup):
            client.get("/report.pdf")
        times = []
        ticks = cpu_ticks(worker)
        for _ in range(renders):
            started = time.perf_counter()
            client.get("/report.pdf")
            times.append((time.perf_counter() - started) * 1000)
        cpu_ms = (cpu_ticks(worker) - ticks) * 1000 / os.sysconf("SC_CLK_TCK") / renders
    pages = len(PdfReader(io.BytesIO(first.body)).pages)
    median = statistics.median(times)
    return {
        "pages": pages,
        "bytes": len(first.body),
        "median_ms": median,
        "cpu_ms": cpu_ms,
        "renders": renders,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="question page vs plain page of the same size")
    parser.add_argument("--seconds", type=int, default=4, help="wrk duration per measurement")
    parser.add_argument("--rounds", type=int, default=6, help="alternating measurements per page")
    parser.add_argument("--no-recycle", action="store_true", help="turn max_requests recycling off")
    args = parser.parse_args(argv)
    r = bench_pages(args.seconds, args.rounds, recycle=not args.no_recycle)
    print(f"question page {r['page']} with a session: {r['bytes']} bytes, wrk -t2 -c16 -d{r['seconds']}s")
    print(f"  question page:                  {r['app_rps']:,.0f} requests/s (p99 {r['app_p99']})")
    print(f"  plain page, our app + session:  {r['plain_rps']:,.0f} requests/s (p99 {r['plain_p99']})")
    print(f"  plain page, bare Flask:         {r['bare_rps']:,.0f} requests/s (p99 {r['bare_p99']})")
    print(
        f"  ratio vs our app's plain page {r['ratio']:.2f}, the median of rounds"
        f" {ratios_text(r['round_ratios'])} (goal >= {GOAL_RATIO:g}),"
        f" non-2xx/socket errors {r['errors']} {'ok' if r['goal_met'] else 'MISSED'}"
    )
    print(f"  ratio vs bare Flask plain page {r['bare_ratio']:.2f} (for comparison, no goal)")
    return 0 if r["goal_met"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
