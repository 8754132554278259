"""`make load`: a bounded mixed run and a fault run against gunicorn (3 workers) on 127.0.0.1.

Mixed run (default 60 s, at most --max-requests requests): client threads send pages with a filled
session, the JSON API, and PDFs (GET /report.pdf with the session and POST /api/v1/report). Expected:
no 5xx except the designed 503 (with Retry-After) from the PDF limit, no connection errors, and
worker memory back near its baseline afterwards.

Fault run: while PDFs and pages are being requested, one worker is killed with SIGKILL in the middle
of a PDF render (found through the socket of the in-flight request). Expected: only that request
fails, every other request succeeds, and gunicorn brings the worker count back to 3.

The session answers carry a sentinel; afterwards it must not appear in anything gunicorn printed,
and the workers' TMPDIR must be empty (PDFs are rendered in memory).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import signal
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import yaml

from bench.assess import CASES
from bench.assess import questionnaire
from tests.app_server import Client
from tests.app_server import Server
from tests.app_server import fill_questionnaire
from tests.app_server import gunicorn

SENTINEL = "LOADSENTINEL-\u00c6\u00d8-987"
WORKERS = 3
PDF_KINDS = ("pdf_get", "pdf_api")
Row = tuple[str, str, str, str]


@dataclass
class Target:
    """What the clients send: paths, a session cookie, and the API body."""

    host: str
    port: int
    cookies: list[str]
    api_body: bytes
    pages: list[str]
    guidance: list[str]


@dataclass
class Tally:
    """Results of many requests, thread-safe."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    errors: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    missing_retry_after: int = 0
    count: int = 0

    def add(
        self, kind: str, status: int | None, ms: float, error: str = "", retry_after: bool = True
    ) -> None:
        with self.lock:
            self.count += 1
            if status is None:
                self.errors[kind][error] += 1
            else:
                self.statuses[kind][status] += 1
                self.latencies[kind].append(ms)
                if status == 503 and not retry_after:
                    self.missing_retry_after += 1

    def total(self, predicate: Any) -> int:
        return sum(n for kind, c in self.statuses.items() for s, n in c.items() if predicate(kind, s))

    def connection_errors(self) -> int:
        return sum(sum(c.values()) for c in self.errors.values())


def send(target: Target, kind: str, rng: random.Random) -> tuple[int, bool, int]:
    """Send one request of a kind on a fresh connection; return (status, has Retry-After, local port)."""
    conn = http.client.HTTPConnection(target.host, target.port, timeout=60)
    try:
        cookie = {"Cookie": rng.choice(target.cookies)}
        if kind == "page":
            conn.request("GET", rng.choice(target.pages), headers=cookie)
        elif kind == "guidance":
            conn.request("GET", rng.choice(target.guidance))
        elif kind == "api":
            headers = {"Content-Type": "application/json"}
            conn.request("POST", "/api/v1/assessments", body=target.api_body, headers=headers)
        elif kind == "pdf_get":
            conn.request("GET", "/report.pdf", headers=cookie)
        else:
            headers = {"Content-Type": "application/json"}
            conn.request("POST", "/api/v1/report", body=target.api_body, headers=headers)
        port = conn.sock.getsockname()[1] if conn.sock else 0
        resp = conn.getresponse()
        resp.read()
        return resp.status, resp.getheader("Retry-After") is not None, port
    finally:
        conn.close()


MIX = (("page", 60), ("guidance", 10), ("api", 20), ("pdf_get", 5), ("pdf_api", 5))


def client_loop(target: Target, tally: Tally, deadline: float, limit: int, seed: int, mix: Any = MIX) -> None:
    rng = random.Random(seed)
    kinds = [k for k, _ in mix]
    weights = [w for _, w in mix]
    while time.monotonic() < deadline and tally.count < limit:
        kind = rng.choices(kinds, weights)[0]
        started = time.perf_counter()
        try:
            status, retry_after, _ = send(target, kind, rng)
        except (OSError, http.client.HTTPException) as exc:
            tally.add(kind, None, 0, type(exc).__name__)
            continue
        tally.add(kind, status, (time.perf_counter() - started) * 1000, retry_after=retry_after)


def prepare(server: Server, sessions: int) -> Target:
    """Fill `sessions` sessions through the real forms; build the API body from the same answers."""
    q = questionnaire()
    data = yaml.safe_load((CASES / "p1_emma.yaml").read_text(encoding="utf-8"))
    answers: dict[str, Any] = dict(data["answers"])
    answers["my_questions"] = f"{SENTINEL} question"
    answers["tried_and_worries"] = SENTINEL
    section_ids = {s.id: [qq.id for qq in s.questions] for s in q.sections}
    cookies = []
    for _ in range(sessions):
        client = Client(server.base_url)
        fill_questionnaire(client, answers, section_ids)
        cookies.append(client.cookie_header())
    host, port = server.base_url.removeprefix("http://").split(":")
    pages = ["/", "/review", "/results"] + [f"/q/{s.id}" for s in q.sections if s.id != "side_effects"]
    guidance = ["/guidance/"] + [f"/guidance/{slug}" for slug in sorted(q.guidance)[:8]]
    return Target(host, int(port), cookies, json.dumps({"answers": answers}).encode(), pages, guidance)


def warm_up(target: Target, rounds: int = 3) -> None:
    """Let every worker render PDFs and serve pages first, so the memory baseline includes fonts.

    Two concurrent PDFs per worker keep all workers busy, so each of them takes some.
    """
    client_loop(target, Tally(), time.monotonic() + 3, 60, seed=0)

    def one_pdf(seed: int) -> None:
        with contextlib.suppress(OSError, http.client.HTTPException):
            send(target, PDF_KINDS[seed % 2], random.Random(seed))

    for _ in range(rounds):
        threads = [threading.Thread(target=one_pdf, args=(i,)) for i in range(2 * WORKERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    time.sleep(1)


def mixed_run(server: Server, target: Target, seconds: float, limit: int, clients: int) -> dict[str, Any]:
    """Warm up, take the memory baseline, run the mix, let it settle, take memory again."""
    warm_up(target)
    before = server.worker_rss_mb()
    tally = Tally()
    peak: dict[int, float] = {}
    stop = threading.Event()

    def monitor() -> None:
        while not stop.is_set():
            for pid, rss in server.worker_rss_mb().items():
                peak[pid] = max(peak.get(pid, 0.0), rss)
            stop.wait(0.5)

    watcher = threading.Thread(target=monitor, daemon=True)
    watcher.start()
    deadline = time.monotonic() + seconds
    started = time.monotonic()
    threads = [
        threading.Thread(target=client_loop, args=(target, tally, deadline, limit, seed), daemon=True)
        for seed in range(1, clients + 1)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    stop.set()
    watcher.join()
    time.sleep(2)
    after = server.worker_rss_mb()
    return {"tally": tally, "elapsed": elapsed, "before": before, "after": after, "peak": peak}


def find_owner(server_port: int, client_port: int, pids: list[int]) -> int | None:
    """Return the worker pid holding the server side of a loopback connection from client_port."""
    inode = ""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            local_port = int(parts[1].rsplit(":", 1)[1], 16)
            remote_port = int(parts[2].rsplit(":", 1)[1], 16)
            if local_port == server_port and remote_port == client_port:
                inode = parts[9]
    if not inode or inode == "0":
        return None
    wanted = f"socket:[{inode}]"
    for pid in pids:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                try:
                    if os.readlink(fd) == wanted:
                        return pid
                except OSError:
                    continue
        except OSError:
            continue
    return None


def fault_run(server: Server, target: Target, pdf_kind: str, seconds: float = 10) -> dict[str, Any]:
    """SIGKILL the worker rendering a PDF; the others keep serving and the worker is replaced."""
    others = Tally()
    deadline = time.monotonic() + seconds
    page_mix = (("page", 70), ("api", 20), ("guidance", 10))
    threads = [
        threading.Thread(
            target=client_loop, args=(target, others, deadline, 10**9, 100 + i, page_mix), daemon=True
        )
        for i in range(2)
    ]
    for t in threads:
        t.start()
    pids_before = server.wait_for_workers(WORKERS)
    victim: dict[str, Any] = {}
    in_flight: dict[str, Any] = {}
    rng = random.Random(7)

    # One PDF client sends renders one after another; the main thread watches its socket.
    def pdf_client() -> None:
        conn = None
        while time.monotonic() < deadline and "pid" not in victim:
            try:
                conn = http.client.HTTPConnection(target.host, target.port, timeout=60)
                if pdf_kind == "pdf_get":
                    conn.request("GET", "/report.pdf", headers={"Cookie": rng.choice(target.cookies)})
                else:
                    headers = {"Content-Type": "application/json"}
                    conn.request("POST", "/api/v1/report", body=target.api_body, headers=headers)
                in_flight.update(port=conn.sock.getsockname()[1] if conn.sock else 0, since=time.monotonic())
                resp = conn.getresponse()
                resp.read()
                in_flight.clear()
                if "pid" in victim and "outcome" not in victim:
                    victim["outcome"] = f"HTTP {resp.status}"
            except (OSError, http.client.HTTPException) as exc:
                in_flight.clear()
                victim.setdefault("outcome", f"{type(exc).__name__} (connection dropped)")
            finally:
                if conn is not None:
                    conn.close()

    renderer = threading.Thread(target=pdf_client, daemon=True)
    renderer.start()
    time.sleep(1.5)
    kill_deadline = time.monotonic() + 5
    while "pid" not in victim and time.monotonic() < kill_deadline:
        since, port = in_flight.get("since"), in_flight.get("port")
        if since is not None and port and time.monotonic() - since > 0.03:
            owner = find_owner(target.port, port, server.worker_pids())
            if owner is not None:
                victim.update(pid=owner, in_flight_ms=(time.monotonic() - since) * 1000, at=time.monotonic())
                os.kill(owner, signal.SIGKILL)
                break
        time.sleep(0.005)
    respawn_s = None
    if "pid" in victim:
        end = time.monotonic() + 20
        while time.monotonic() < end:
            pids = server.worker_pids()
            if len(pids) == WORKERS and victim["pid"] not in pids:
                respawn_s = time.monotonic() - victim["at"]
                break
            time.sleep(0.05)
    renderer.join(timeout=60)
    for t in threads:
        t.join()
    return {
        "victim": victim,
        "respawn_s": respawn_s,
        "pids_before": pids_before,
        "pids_after": server.worker_pids(),
        "others": others,
    }


def _p99(values: list[float]) -> str:
    if len(values) < 2:
        return "-"
    return f"{statistics.quantiles(values, n=100)[98]:.0f} ms"


def _mb(rss: Mapping[int, float]) -> str:
    return f"{sum(rss.values()):.0f} MB ({', '.join(f'{v:.0f}' for v in rss.values())})"


def _verdict(ok: bool) -> str:
    return "pass" if ok else "FAIL"


def _summary(statuses: Mapping[str, Counter[int]], errors: Mapping[str, Counter[str]], worst: bool) -> str:
    """Write status counts ('200: 12, 500: 1') and connection errors; worst=True keeps failures only."""
    parts = [f"{s}: {n}" for c in statuses.values() for s, n in sorted(c.items()) if not worst or s >= 500]
    parts += [f"{e}: {n}" for c in errors.values() for e, n in c.items()]
    return ", ".join(parts)


def report(mixed: dict[str, Any], fault: dict[str, Any] | None, extra: list[Row]) -> list[Row]:
    """Turn the runs into table rows: check, expected, measured, result."""
    tally: Tally = mixed["tally"]
    total = tally.total(lambda k, s: True) + tally.connection_errors()
    rate = total / mixed["elapsed"]
    rows: list[Row] = [
        ("requests (mixed run)", "bounded", f"{total} in {mixed['elapsed']:.0f} s ({rate:.0f}/s)", "info")
    ]
    for kind, _ in MIX:
        summary = _summary(
            {kind: tally.statuses.get(kind, Counter())}, {kind: tally.errors.get(kind, Counter())}, False
        )
        rows.append(
            (f"  {kind}", "2xx", f"{summary or 'none'}; p99 {_p99(tally.latencies.get(kind, []))}", "info")
        )
    bad_5xx = tally.total(lambda k, s: s >= 500 and not (s == 503 and k in PDF_KINDS))
    designed = tally.total(lambda k, s: s == 503 and k in PDF_KINDS)
    rows.append(("5xx other than the PDF limit's 503", "0", str(bad_5xx), _verdict(bad_5xx == 0)))
    without = tally.missing_retry_after
    rows.append(
        (
            "designed 503s from the PDF limit",
            "any, with Retry-After",
            f"{designed} ({without} without Retry-After)",
            _verdict(without == 0),
        )
    )
    conn_errors = tally.connection_errors()
    rows.append(("connection errors", "0", str(conn_errors), _verdict(conn_errors == 0)))
    not_ok = tally.total(lambda k, s: 400 <= s < 500)
    rows.append(("4xx (a route missing or refusing)", "0", str(not_ok), _verdict(not_ok == 0)))
    before, after = mixed["before"], mixed["after"]
    growth = sum(after.values()) - sum(before.values())
    recycled = len(set(before) - set(after))
    memory = f"{_mb(before)} -> {_mb(after)}; peak {max(mixed['peak'].values(), default=0):.0f} MB"
    if recycled:
        memory += f"; {recycled} recycled by max_requests"
    rows.append(
        (
            "worker RSS before -> after",
            "back near baseline (+<= 10 MB each)",
            memory,
            _verdict(growth <= 10 * WORKERS),
        )
    )
    if fault is None:
        no_pdf = "n/a (no PDF route answered 200)"
        return [
            *rows,
            ("fault: SIGKILL a worker mid-PDF", "others succeed, worker back", no_pdf, "n/a"),
            *extra,
        ]
    victim = fault["victim"]
    if "pid" in victim:
        caught = (
            f"pid {victim['pid']} killed {victim['in_flight_ms']:.0f} ms into a render;"
            f" that client got {victim.get('outcome', '?')}"
        )
        rows.append(("fault: SIGKILL the worker rendering a PDF", "only that request fails", caught, "info"))
    else:
        rows.append(
            ("fault: SIGKILL the worker rendering a PDF", "a render in flight", "never caught one", "FAIL")
        )
    others: Tally = fault["others"]
    other_bad = others.total(lambda k, s: s >= 500) + others.connection_errors()
    other_ok = others.total(lambda k, s: s < 400)
    failures = _summary(others.statuses, others.errors, True)
    measured = f"{other_ok} ok, {other_bad} failed" + (f" ({failures})" if failures else "")
    rows.append(
        (
            "fault: other requests meanwhile",
            "all succeed",
            measured,
            _verdict(other_bad == 0 and other_ok > 0),
        )
    )
    back = fault["respawn_s"]
    if back is not None:
        measured = f"yes, in {back:.1f} s (pids {fault['pids_before']} -> {fault['pids_after']})"
    else:
        measured = f"no (pids now {fault['pids_after']})"
    rows.append(("fault: worker count back to 3", "a new worker", measured, _verdict(back is not None)))
    return rows + extra


def table(rows: list[Row]) -> str:
    header: Row = ("check", "expected", "measured", "result")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]

    def line(row: Row) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"

    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60, help="length of the mixed run")
    parser.add_argument("--max-requests", type=int, default=30_000, help="upper bound on mixed requests")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads")
    parser.add_argument("--sessions", type=int, default=4, help="filled sessions to rotate through")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="gutcheck-load-"))
    worker_tmp = tmp / "tmp"
    worker_tmp.mkdir()
    print(f"[load] gunicorn {WORKERS} workers on 127.0.0.1; logs in {tmp}", flush=True)
    with gunicorn(workers=WORKERS, env={"TMPDIR": str(worker_tmp)}, log_dir=tmp) as server:
        target = prepare(server, args.sessions)
        print(
            f"[load] mixed run: {args.seconds:g} s, at most {args.max_requests} requests, "
            f"{args.clients} clients",
            flush=True,
        )
        mixed = mixed_run(server, target, args.seconds, args.max_requests, args.clients)
        rng = random.Random(1)
        pdf_kind = next((k for k in PDF_KINDS if send(target, k, rng)[0] == 200), None)
        fault = None
        if pdf_kind is not None:
            print(f"[load] fault run: SIGKILL during a PDF render ({pdf_kind})", flush=True)
            fault = fault_run(server, target, pdf_kind)
        time.sleep(0.5)
        logs = server.logs()
    leftovers = sorted(str(p.relative_to(worker_tmp)) for p in worker_tmp.rglob("*"))
    leaked = logs.count("LOADSENTINEL")
    left = str(len(leftovers)) + (f" {leftovers[:3]}" if leftovers else "")
    extra: list[Row] = [
        ("files left in the workers' TMPDIR", "0", left, "pass" if not leftovers else "FAIL"),
        ("sentinel answers in gunicorn's output", "0", str(leaked), "pass" if leaked == 0 else "FAIL"),
        (
            "tracebacks in gunicorn's output",
            "0",
            str(logs.count("Traceback")),
            "pass" if "Traceback" not in logs else "FAIL",
        ),
    ]
    rows = report(mixed, fault, extra)
    print(table(rows))
    print(f"\ngunicorn output: {tmp / 'gunicorn.log'}")
    return 1 if any(r[3] in ("FAIL", "n/a") for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
