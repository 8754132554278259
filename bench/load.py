"""`make load`: the shipped production set-up (deploy/) under load, hostile traffic and a fault.

Set-up: gunicorn with deploy/gunicorn.conf.py (3 gthread workers, app and PDF renderer preloaded,
production settings, one trusted proxy) behind nginx with deploy/nginx/gutcheck.conf (TLS with a
throwaway certificate), all on 127.0.0.1. Only the log level is raised, so that each worker's boot
time is printed.

Mixed run, through nginx (default 60 s, at most --max-requests requests): client threads send pages
with a filled session, the JSON API, and PDFs (GET /report.pdf with the session and POST
/api/v1/report). Expected: no 5xx except the designed 503 (with Retry-After) from the PDF limit, no
connection errors, and worker memory back near its baseline afterwards. p50/p99 per route.

PDF burst, through nginx: 20 simultaneous PDF requests; each gets a render or a fast 503.

Hostile mix, through nginx (default 20 s): hostile uploads (tests/hostile_files.py) to "Continue
from a saved file", and 10 slow clients (a byte every 3 s, in the headers or the body), while a
probe measures GET /healthz; its p99 must stay under 1 s.

Fault run, straight to gunicorn: one worker is killed with SIGKILL in the middle of a PDF render
(found through the socket of the in-flight request). Expected: the requests that worker held fail
(that render, and any page its other threads were serving), every other request succeeds, and
gunicorn brings the worker count back to 3.

The session answers carry a sentinel; afterwards it must not appear in anything gunicorn or nginx
printed, and the workers' TMPDIR must be empty (PDFs are rendered in memory).
"""

from __future__ import annotations

import argparse
import contextlib
import html
import http.client
import json
import multiprocessing
import os
import random
import re
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
from tests import hostile_files
from tests.app_server import Client
from tests.app_server import Server
from tests.app_server import csrf_token
from tests.app_server import fill_questionnaire
from tests.app_server import gunicorn
from tests.app_server import insecure_tls
from tests.app_server import nginx
from tests.app_server import slow_client

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
    tls: bool = False

    def connect(self, timeout: float = 60) -> http.client.HTTPConnection:
        """Open a fresh connection (HTTPS to nginx, plain HTTP straight to gunicorn)."""
        if self.tls:
            return http.client.HTTPSConnection(self.host, self.port, timeout=timeout, context=insecure_tls())
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def direct(self, server: Server) -> Target:
        """The same clients, straight to gunicorn (for the fault run, which finds sockets)."""
        host, port = server.base_url.removeprefix("http://").split(":")
        return Target(host, int(port), self.cookies, self.api_body, self.pages, self.guidance, tls=False)


@dataclass
class Tally:
    """Results of many requests, thread-safe."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    errors: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    missing_retry_after: int = 0
    count: int = 0
    # (client port, when it connected) of each request that got no response; (0, 0.0) when it
    # never connected. A port is unique only while its connection lasts, hence the time.
    error_ports: list[tuple[int, float]] = field(default_factory=list)

    def add(
        self,
        kind: str,
        status: int | None,
        ms: float,
        error: str = "",
        retry_after: bool = True,
        port: tuple[int, float] = (0, 0.0),
    ) -> None:
        with self.lock:
            self.count += 1
            if status is None:
                self.errors[kind][error] += 1
                self.error_ports.append(port)
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
    conn = target.connect()
    port = (0, 0.0)
    try:
        conn.connect()
        # Read now: http.client drops the socket when the server closes the connection unanswered.
        port = (_local_port(conn), time.monotonic())
        status, retry_after = _send_on(conn, target, kind, rng)
        return status, retry_after, port[0]
    except (OSError, http.client.HTTPException) as exc:
        exc.client_port = port  # type: ignore[union-attr]
        raise
    finally:
        conn.close()


def _local_port(conn: http.client.HTTPConnection) -> int:
    """Return the client port of a connection, 0 when it has none (never connected, or closed)."""
    try:
        return int(conn.sock.getsockname()[1]) if conn.sock else 0
    except OSError:
        return 0


def _send_on(
    conn: http.client.HTTPConnection, target: Target, kind: str, rng: random.Random
) -> tuple[int, bool]:
    """Send one request of a kind on an open connection; return (status, has Retry-After)."""
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
    resp = conn.getresponse()
    resp.read()
    return resp.status, resp.getheader("Retry-After") is not None


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
            tally.add(kind, None, 0, type(exc).__name__, port=getattr(exc, "client_port", (0, 0.0)))
            continue
        tally.add(kind, status, (time.perf_counter() - started) * 1000, retry_after=retry_after)


def prepare(base_url: str, sessions: int) -> Target:
    """Fill `sessions` sessions through the real forms; build the API body from the same answers."""
    q = questionnaire()
    data = yaml.safe_load((CASES / "p1_emma.yaml").read_text(encoding="utf-8"))
    answers: dict[str, Any] = dict(data["answers"])
    answers["my_questions"] = f"{SENTINEL} question"
    answers["tried_and_worries"] = SENTINEL
    section_ids = {s.id: [qq.id for qq in s.questions] for s in q.sections}
    cookies = []
    for _ in range(sessions):
        client = Client(base_url)
        fill_questionnaire(client, answers, section_ids)
        cookies.append(client.cookie_header())
    tls = base_url.startswith("https://")
    host, port = base_url.split("://", 1)[1].split(":")
    pages = ["/", "/review", "/results"] + [f"/q/{s.id}" for s in q.sections if s.id != "side_effects"]
    guidance = ["/guidance/"] + [f"/guidance/{slug}" for slug in sorted(q.guidance)[:8]]
    body = json.dumps({"answers": answers}).encode()
    return Target(host, int(port), cookies, body, pages, guidance, tls=tls)


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


def pdf_burst(target: Target, count: int = 20) -> dict[str, Any]:
    """Send `count` PDF requests at the same instant (POST /api/v1/report); time each."""
    results: list[tuple[int | None, float, bool]] = []
    lock = threading.Lock()
    go = threading.Barrier(count)

    def one() -> None:
        go.wait()
        started = time.perf_counter()
        conn = target.connect()
        try:
            headers = {"Content-Type": "application/json"}
            conn.request("POST", "/api/v1/report", body=target.api_body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            outcome: tuple[int | None, float, bool] = (
                resp.status,
                (time.perf_counter() - started) * 1000,
                resp.getheader("Retry-After") is not None,
            )
        except (OSError, http.client.HTTPException):
            outcome = (None, (time.perf_counter() - started) * 1000, False)
        finally:
            conn.close()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=one, daemon=True) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    return {"results": results, "count": count}


def multipart_upload(data: bytes, token: str) -> tuple[bytes, str]:
    """Return (body, content type) of the start page's "Continue from a saved file" form."""
    boundary = "gutcheck-load-" + "".join(random.choices("0123456789abcdef", k=16))
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="saved_file"; filename="summary.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def hostile_mix(base_url: str, host: str, port: int, seconds: float, slow: int = 10) -> dict[str, Any]:
    """Hostile uploads and slow clients for `seconds`, while a probe times GET /healthz."""
    corpus = list(hostile_files.corpus().items())
    stop = threading.Event()
    deadline = time.monotonic() + seconds
    uploads: Counter[str] = Counter()
    upload_ms: list[float] = []
    probe_ms: list[float] = []
    probe_errors: Counter[str] = Counter()
    lock = threading.Lock()

    def uploader(seed: int) -> None:
        rng = random.Random(seed)
        client = Client(base_url, timeout=30)
        while time.monotonic() < deadline:
            name, (data, expected) = rng.choice(corpus)
            started = time.perf_counter()
            try:
                token = csrf_token(client.get("/").text)
                body, content_type = multipart_upload(data, token)
                response = client.request("/continue", body, {"Content-Type": content_type})
                refused = response.status == 400 and html.escape(expected, quote=True) in response.text
                outcome = "refused with its message" if refused else f"HTTP {response.status} ({name})"
            except (OSError, http.client.HTTPException) as exc:
                outcome = f"{type(exc).__name__} ({name})"
            with lock:
                uploads[outcome] += 1
                upload_ms.append((time.perf_counter() - started) * 1000)

    slow_threads = [
        threading.Thread(target=slow_client, args=(host, port, stop, i % 2 == 0), daemon=True)
        for i in range(slow)
    ]
    # The probe runs in a process of its own, so that the load generator's threads (and their
    # share of the GIL) are not counted in /healthz's latency.
    context = multiprocessing.get_context("fork")
    receive, send_end = context.Pipe(duplex=False)
    prober = context.Process(target=probe_healthz, args=(host, port, deadline, send_end), daemon=True)
    prober.start()
    send_end.close()
    for t in slow_threads:
        t.start()
    workers = [threading.Thread(target=uploader, args=(i,), daemon=True) for i in range(3)]
    for t in workers:
        t.start()
    for t in workers:
        t.join(timeout=seconds + 60)
    if receive.poll(30):
        probe_ms, errors = receive.recv()
        probe_errors.update(errors)
    prober.join(timeout=10)
    stop.set()
    for t in slow_threads:
        t.join(timeout=10)
    return {
        "uploads": uploads,
        "upload_ms": upload_ms,
        "probe_ms": probe_ms,
        "probe_errors": probe_errors,
        "slow": slow,
        "seconds": seconds,
    }


def probe_healthz(host: str, port: int, deadline: float, results: Any) -> None:
    """GET /healthz through nginx every 100 ms until the deadline; send back (latencies ms, errors)."""
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    while time.monotonic() < deadline:
        started = time.perf_counter()
        conn = http.client.HTTPSConnection(host, port, timeout=10, context=insecure_tls())
        try:
            conn.request("GET", "/healthz")
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                errors[f"HTTP {resp.status}"] += 1
        except (OSError, http.client.HTTPException) as exc:
            errors[type(exc).__name__] += 1
        finally:
            conn.close()
        latencies.append((time.perf_counter() - started) * 1000)
        time.sleep(0.1)
    results.send((latencies, errors))
    results.close()


def boot_times(logs: str) -> list[float]:
    """Return each worker's boot time (fork to ready, ms) that gunicorn.conf.py logged."""
    return [float(ms) for ms in re.findall(r"Worker \d+ ready in ([\d.]+) ms", logs)]


def find_owner(server_port: int, client_port: int, pids: list[int]) -> int | None:
    """Return the worker pid holding the server side of a loopback connection from client_port."""
    inode = _server_sockets(server_port).get(client_port)
    if inode is None:
        return None
    for pid in pids:
        if inode in _socket_inodes(pid):
            return pid
    return None


def client_ports_held(server_port: int, pid: int) -> set[int]:
    """Return the client ports of the connections a worker holds the server side of."""
    held = _socket_inodes(pid)
    return {client for client, inode in _server_sockets(server_port).items() if inode in held}


def _server_sockets(server_port: int) -> dict[int, str]:
    """Map the client port of each connection to server_port to its socket inode (from /proc/net)."""
    found: dict[int, str] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            local_port = int(parts[1].rsplit(":", 1)[1], 16)
            client_port = int(parts[2].rsplit(":", 1)[1], 16)
            # Client port 0 is the listening socket; inode 0, a connection no process holds yet.
            if local_port == server_port and client_port and parts[9] != "0":
                found[client_port] = parts[9]
    return found


def _socket_inodes(pid: int) -> set[str]:
    """Return the inodes of the sockets a process has open."""
    inodes: set[str] = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    except OSError:
        pass
    return inodes


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
                conn = target.connect()
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
                # A SIGKILL takes every request the worker holds: note them, to tell them apart.
                # Stopped first, the worker can accept nothing while /proc is read (reading
                # /proc/net/tcp takes tens of ms after thousands of requests), so the note is exact.
                os.kill(owner, signal.SIGSTOP)
                held = client_ports_held(target.port, owner)
                victim.update(
                    pid=owner, in_flight_ms=(time.monotonic() - since) * 1000, at=time.monotonic(), held=held
                )
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


def _quantile(values: list[float], q: int) -> float:
    """Return the q-th percentile (1-99) of at least two values."""
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _p99(values: list[float]) -> str:
    if len(values) < 2:
        return "-"
    return f"{_quantile(values, 99):.0f} ms"


def _p50_p99(values: list[float]) -> str:
    if len(values) < 2:
        return "p50/p99 -"
    return f"p50 {_quantile(values, 50):.0f} ms, p99 {_quantile(values, 99):.0f} ms"


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
        (
            "requests (mixed run, through nginx)",
            "bounded",
            f"{total} in {mixed['elapsed']:.0f} s ({rate:.0f}/s)",
            "info",
        )
    ]
    for kind, _ in MIX:
        summary = _summary(
            {kind: tally.statuses.get(kind, Counter())}, {kind: tally.errors.get(kind, Counter())}, False
        )
        rows.append(
            (f"  {kind}", "2xx", f"{summary or 'none'}; {_p50_p99(tally.latencies.get(kind, []))}", "info")
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
        rows.append(("fault: SIGKILL the worker rendering a PDF", "its requests fail", caught, "info"))
    else:
        rows.append(
            ("fault: SIGKILL the worker rendering a PDF", "a render in flight", "never caught one", "FAIL")
        )
    others: Tally = fault["others"]
    # A request the killed worker held when it died cannot succeed (gthread workers serve several
    # at once); every other one must.
    held, killed_at = victim.get("held", set()), victim.get("at", 0.0)
    lost = sum(1 for port, since in others.error_ports if port in held and since <= killed_at)
    other_bad = others.total(lambda k, s: s >= 500) + others.connection_errors() - lost
    other_ok = others.total(lambda k, s: s < 400)
    failures = _summary(others.statuses, others.errors, True)
    measured = f"{other_ok} ok, {other_bad} failed"
    if lost:
        measured += f"; {lost} held by the killed worker"
    if failures:  # every error, whether held by the killed worker or not
        measured += f" (errors: {failures})"
    rows.append(
        (
            "fault: other requests meanwhile",
            "all succeed, but those the killed worker held",
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


def hardening_rows(burst: dict[str, Any], hostile: dict[str, Any], boots: list[float]) -> list[Row]:
    """Rows for the PDF burst, the hostile mix and the workers' boot times."""
    rows: list[Row] = []
    results = burst["results"]
    statuses = Counter(r[0] for r in results)
    all_ms = [r[1] for r in results]
    busy_ms = [r[1] for r in results if r[0] == 503]
    only_designed = set(statuses) <= {200, 503} and statuses.get(200, 0) > 0
    fast_busy = all(r[2] for r in results if r[0] == 503) and max(busy_ms, default=0) < 2000
    counts = ", ".join(
        f"{s if s is not None else 'error'}: {n}" for s, n in sorted(statuses.items(), key=str)
    )
    slowest_busy = f"; slowest 503 {max(busy_ms):.0f} ms" if busy_ms else ""
    rows.append(
        (
            f"{burst['count']} simultaneous PDFs (through nginx)",
            "a render or a fast 503 + Retry-After",
            f"{counts}; {_p50_p99(all_ms)}{slowest_busy}",
            _verdict(only_designed and fast_busy and len(results) == burst["count"]),
        )
    )
    probe = hostile["probe_ms"]
    p99 = _quantile(probe, 99) if len(probe) >= 2 else float("inf")
    errors = sum(hostile["probe_errors"].values())
    measured = f"p99 {p99:.0f} ms, max {max(probe, default=0):.0f} ms ({len(probe)} probes"
    measured += f", {errors} failed)" if errors else ")"
    rows.append(
        (
            f"hostile mix: /healthz p99 (nginx, {hostile['seconds']:g} s)",
            "<= 1000 ms",
            measured,
            _verdict(p99 <= 1000 and errors == 0),
        )
    )
    uploads: Counter[str] = hostile["uploads"]
    refused = uploads.get("refused with its message", 0)
    others = ", ".join(f"{k}: {n}" for k, n in uploads.items() if k != "refused with its message")
    upload_ms = hostile["upload_ms"]
    rows.append(
        (
            f"  hostile uploads, with {hostile['slow']} slow clients",
            "each refused with its message",
            f"{refused} of {sum(uploads.values())} refused; {_p50_p99(upload_ms)}"
            + (f"; {others}" if others else ""),
            _verdict(refused > 0 and refused == sum(uploads.values())),
        )
    )
    if boots:
        boot = f"{len(boots)} boots: median {statistics.median(boots):.0f} ms, max {max(boots):.0f} ms"
    else:
        boot = "no boot times in gunicorn's log"
    rows.append(
        (
            "worker boot (fork to ready)",
            "< 500 ms (preloaded app)",
            boot,
            _verdict(bool(boots) and max(boots) < 500),
        )
    )
    return rows


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
    parser.add_argument("--hostile-seconds", type=float, default=20, help="length of the hostile mix")
    args = parser.parse_args(argv)
    load_at_start = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    tmp = Path(tempfile.mkdtemp(prefix="gutcheck-load-"))
    worker_tmp = tmp / "tmp"
    worker_tmp.mkdir()
    print(
        f"[load] gunicorn (deploy/gunicorn.conf.py, {WORKERS} workers) behind nginx; logs in {tmp}",
        flush=True,
    )
    with gunicorn(
        workers=WORKERS,
        config="deploy/gunicorn.conf.py",
        extra_args=["--log-level", "info"],
        env={"TMPDIR": str(worker_tmp)},
        log_dir=tmp,
    ) as server:
        upstream = int(server.base_url.rsplit(":", 1)[1])
        with nginx(upstream, tmp / "nginx") as proxy:
            target = prepare(proxy.base_url, args.sessions)
            print(
                f"[load] mixed run through nginx: {args.seconds:g} s, at most {args.max_requests} requests, "
                f"{args.clients} clients",
                flush=True,
            )
            mixed = mixed_run(server, target, args.seconds, args.max_requests, args.clients)
            print("[load] 20 simultaneous PDF requests through nginx", flush=True)
            time.sleep(1)
            burst = pdf_burst(target, 20)
            print(f"[load] hostile mix through nginx: {args.hostile_seconds:g} s", flush=True)
            hostile = hostile_mix(proxy.base_url, "127.0.0.1", proxy.port, args.hostile_seconds)
            direct = target.direct(server)
            rng = random.Random(1)
            pdf_kind = next((k for k in PDF_KINDS if send(direct, k, rng)[0] == 200), None)
            fault = None
            if pdf_kind is not None:
                print(
                    f"[load] fault run, straight to gunicorn: SIGKILL during a PDF render ({pdf_kind})",
                    flush=True,
                )
                fault = fault_run(server, direct, pdf_kind)
            time.sleep(0.5)
            logs = server.logs()
            proxy_logs = proxy.error_log()
    leftovers = sorted(str(p.relative_to(worker_tmp)) for p in worker_tmp.rglob("*"))
    leaked = logs.count("LOADSENTINEL") + proxy_logs.count("LOADSENTINEL")
    left = str(len(leftovers)) + (f" {leftovers[:3]}" if leftovers else "")
    extra: list[Row] = [
        ("files left in the workers' TMPDIR", "0", left, "pass" if not leftovers else "FAIL"),
        (
            "sentinel answers in gunicorn's or nginx's output",
            "0",
            str(leaked),
            "pass" if leaked == 0 else "FAIL",
        ),
        (
            "tracebacks in gunicorn's output",
            "0",
            str(logs.count("Traceback")),
            "pass" if "Traceback" not in logs else "FAIL",
        ),
    ]
    rows = report(mixed, fault, hardening_rows(burst, hostile, boot_times(logs)) + extra)
    print(table(rows))
    print(f"\nload average at start: {load_at_start}; nproc {os.cpu_count()}")
    print(f"\ngunicorn output: {tmp / 'gunicorn.log'}; nginx: {tmp / 'nginx' / 'error.log'}")
    return 1 if any(r[3] in ("FAIL", "n/a") for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
