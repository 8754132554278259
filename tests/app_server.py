"""Start and stop gunicorn on loopback, read its workers' memory, and a small cookie-keeping HTTP
client that fills the questionnaire like a browser would. Used by the browser tests, and imported
by the benchmarks and the load run (tests never import from bench/).

Everything here talks to 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import http.client
import http.cookiejar
import json
import os
import secrets
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlencode
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
START_TIMEOUT = 30.0
FATAL_MARKERS = ("the app cannot start", "Configuration error:", "Traceback")


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def rss_mb(pid: int) -> float:
    """Return a process's resident set size in MB (0 when it has gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return 0.0
    return 0.0


def cpu_ticks(pid: int) -> int:
    """Return the user+system CPU time a process has used, in clock ticks (0 when it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


@dataclass
class Server:
    """A running gunicorn master on loopback, with its log file."""

    base_url: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    workers: int
    _log: Any = field(default=None, repr=False)

    def worker_pids(self) -> list[int]:
        """Return the pids of the master's current worker processes."""
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        try:
            return sorted(int(p) for p in path.read_text().split())
        except OSError:
            return []

    def worker_rss_mb(self) -> dict[int, float]:
        """Return each worker's RSS in MB."""
        return {pid: rss_mb(pid) for pid in self.worker_pids()}

    def url(self, path: str) -> str:
        """Return the absolute URL of a path on this server."""
        return self.base_url + path

    def logs(self) -> str:
        """Return what gunicorn and the app printed so far."""
        return self.log_path.read_bytes().decode("utf-8", errors="replace")

    def wait_for_workers(self, count: int | None = None, timeout: float = 30.0) -> list[int]:
        """Wait until the master has `count` workers (default: as configured); return their pids."""
        want = self.workers if count is None else count
        deadline = time.monotonic() + timeout
        pids = self.worker_pids()
        while len(pids) != want and time.monotonic() < deadline:
            time.sleep(0.05)
            pids = self.worker_pids()
        return pids

    def stop(self) -> None:
        """SIGTERM (graceful), then SIGKILL after a while; close the log."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=2) as resp:
            return bool(resp.status == 200)
    except urllib.error.HTTPError as exc:
        exc.close()
        return False
    except (urllib.error.URLError, OSError):
        return False


def start_gunicorn(
    app: str = "wsgi:app",
    *,
    workers: int = 2,
    extra_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    log_dir: Path | None = None,
) -> Server:
    """Start gunicorn with the project's config on a free loopback port; wait for /healthz.

    Raises RuntimeError (with the end of the log) when it does not come up.
    """
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_dir = log_dir or Path(tempfile.mkdtemp(prefix="gutcheck-bench-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / "gunicorn.log"
    environment = dict(os.environ)
    environment.setdefault("GUTCHECK_SECRET_KEY", secrets.token_hex(32))
    # A print() in a worker must reach the log file at once, for the privacy checks to see it.
    environment["PYTHONUNBUFFERED"] = "1"
    environment.update(env or {})
    cmd = [str(GUNICORN), "--config", "gunicorn.conf.py", "-w", str(workers)]
    cmd += [*extra_args, "--bind", f"127.0.0.1:{port}", app]
    log = log_path.open("wb")
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
    )
    server = Server(base_url, proc, log_path, workers, log)
    deadline = time.monotonic() + START_TIMEOUT
    while not _healthy(base_url):
        logs = server.logs()
        failed = proc.poll() is not None or any(m in logs for m in FATAL_MARKERS)
        if failed or time.monotonic() > deadline:
            server.stop()
            tail = "\n".join(server.logs().splitlines()[-30:])
            msg = f"gunicorn did not start on {base_url}:\n{tail}"
            raise RuntimeError(msg)
        time.sleep(0.1)
    server.wait_for_workers()
    return server


@contextlib.contextmanager
def gunicorn(
    app: str = "wsgi:app",
    *,
    workers: int = 2,
    extra_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    log_dir: Path | None = None,
) -> Iterator[Server]:
    """Run gunicorn (see start_gunicorn) until the block ends."""
    server = start_gunicorn(app, workers=workers, extra_args=extra_args, env=env, log_dir=log_dir)
    try:
        yield server
    finally:
        server.stop()


class _InputParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inputs: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "input":
            values = dict(attrs)
            name = values.get("name")
            if name and name not in self.inputs:
                self.inputs[name] = values.get("value") or ""


def csrf_token(html: str) -> str:
    """Return the value of the page's csrf_token input ('' if there is none)."""
    parser = _InputParser()
    parser.feed(html)
    return parser.inputs.get("csrf_token", "")


@dataclass
class Response:
    """What the client got: final URL, status, headers and body."""

    url: str
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        return urlparse(self.url).path

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class Client:
    """A cookie-keeping HTTP client for one person's session (follows redirects)."""

    def __init__(self, base_url: str, timeout: float = 60.0) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def request(
        self, path: str, data: bytes | None = None, headers: Mapping[str, str] | None = None
    ) -> Response:
        """Send one request; HTTP errors come back as a Response, not an exception."""
        req = urllib.request.Request(self.base_url + path, data=data, headers=dict(headers or {}))
        try:
            with self.opener.open(req, timeout=self.timeout) as resp:
                return Response(resp.geturl(), resp.status, dict(resp.headers.items()), resp.read())
        except urllib.error.HTTPError as exc:
            with exc:
                return Response(exc.geturl(), exc.code, dict(exc.headers.items()), exc.read())

    def get(self, path: str) -> Response:
        return self.request(path)

    def post_form(self, path: str, fields: Sequence[tuple[str, str]]) -> Response:
        body = urlencode(list(fields)).encode()
        return self.request(path, body, {"Content-Type": "application/x-www-form-urlencoded"})

    def post_json(self, path: str, payload: object) -> Response:
        body = json.dumps(payload).encode()
        return self.request(path, body, {"Content-Type": "application/json"})

    def cookie_header(self) -> str:
        """Return the session's cookies as a Cookie header value (for wrk)."""
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)


def as_form_values(value: object) -> list[str]:
    """Return the form values of one answer (lists for multi answers, yes/no for YAML booleans)."""
    if isinstance(value, (list, tuple)):
        return [s for item in value for s in as_form_values(item)]
    if isinstance(value, bool):
        return ["yes" if value else "no"]
    if isinstance(value, float) and value.is_integer():
        return [str(int(value))]
    return [str(value)]


def fill_questionnaire(
    client: Client,
    answers: Mapping[str, object],
    section_ids: Mapping[str, Sequence[str]],
    stop_before: str = "",
) -> list[str]:
    """Post each section's answers through the real forms (with CSRF) until the review page.

    section_ids maps a section id to its question ids. Stops early, before posting the section
    named stop_before. Returns the section ids posted, in order.
    """
    page = client.get("/")
    page = client.get(f"/q/{next(iter(section_ids))}")
    posted: list[str] = []
    for _ in range(50):
        if page.path == "/help-now":
            # The emergency stop page: go on as a person who has got help would (its ?next=).
            following = parse_qs(urlparse(page.url).query).get("next", ["/review"])[0]
            page = client.get(following)
            continue
        if not page.path.startswith("/q/"):
            return posted
        section = page.path.removeprefix("/q/")
        if section == stop_before:
            return posted
        fields = [("csrf_token", csrf_token(page.text))]
        for qid in section_ids.get(section, ()):
            if qid in answers:
                fields.extend((qid, v) for v in as_form_values(answers[qid]))
        page = client.post_form(f"/q/{section}", fields)
        if page.status >= 400 or page.path == f"/q/{section}":
            msg = f"posting /q/{section} gave {page.status} at {page.path}"
            raise RuntimeError(msg)
        posted.append(section)
    msg = "the questionnaire did not end"
    raise RuntimeError(msg)


def raw_get(base_url: str, path: str, headers: Mapping[str, str] | None = None, timeout: float = 60) -> int:
    """GET with a fresh connection; return the status (or raise OSError on a reset)."""
    parsed = urlparse(base_url)
    conn = http.client.HTTPConnection(parsed.hostname or "127.0.0.1", parsed.port, timeout=timeout)
    try:
        conn.request("GET", path, headers=dict(headers or {}))
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()
