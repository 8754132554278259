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
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
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
    config: str = "gunicorn.conf.py",
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
    cmd = [str(GUNICORN), "--config", config, "-w", str(workers)]
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
    config: str = "gunicorn.conf.py",
) -> Iterator[Server]:
    """Run gunicorn (see start_gunicorn) until the block ends."""
    server = start_gunicorn(
        app, workers=workers, extra_args=extra_args, env=env, log_dir=log_dir, config=config
    )
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
        handlers: list[Any] = [urllib.request.HTTPCookieProcessor(self.jar)]
        if base_url.startswith("https://127.0.0.1"):  # nginx on loopback with a throwaway certificate
            handlers.append(urllib.request.HTTPSHandler(context=insecure_tls()))
        self.opener = urllib.request.build_opener(*handlers)

    def request(
        self, path: str, data: bytes | None = None, headers: Mapping[str, str] | None = None
    ) -> Response:
        """Send one request; HTTP errors come back as a Response, not an exception.

        A post carries a same-origin Referer, as a browser's does (the CSRF check asks for one
        over HTTPS).
        """
        sent = dict(headers or {})
        if data is not None:
            sent.setdefault("Referer", self.base_url + path)
        req = urllib.request.Request(self.base_url + path, data=data, headers=sent)
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


# nginx in front, as deploy/nginx/gutcheck.conf sets it up, on loopback ports with a throwaway
# certificate: for the deploy tests and `make load`.

NGINX_SITE = ROOT / "deploy" / "nginx" / "gutcheck.conf"
NGINX_HEADERS = ROOT / "deploy" / "nginx" / "gutcheck-security-headers.conf"
NGINX_NAME = "gutcheck.example.org"


def nginx_binary() -> str | None:
    """Return the path of Debian's nginx, or None when it is not installed."""
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    return found


def self_signed_certificate(directory: Path, name: str = NGINX_NAME) -> tuple[Path, Path]:
    """Write a throwaway certificate and key for `name` and 127.0.0.1; return their paths."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(name), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def render_nginx_site(upstream_port: int, https_port: int, http_port: int, cert: Path, key: Path) -> str:
    """Return deploy/nginx/gutcheck.conf with loopback ports and the test certificate put in.

    Every placeholder must be found exactly where the shipped file has it, so a change to the
    shipped file cannot silently leave the tests on another set-up.
    """
    site = NGINX_SITE.read_text(encoding="utf-8")
    replacements = [
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream_port};"),
        ("    listen 80;\n    listen [::]:80;\n", f"    listen 127.0.0.1:{http_port};\n"),
        ("    listen 443 ssl;\n    listen [::]:443 ssl;\n", f"    listen 127.0.0.1:{https_port} ssl;\n"),
        (f"/etc/letsencrypt/live/{NGINX_NAME}/fullchain.pem", str(cert)),
        (f"/etc/letsencrypt/live/{NGINX_NAME}/privkey.pem", str(key)),
    ]
    for old, new in replacements:
        if site.count(old) != 1:
            msg = f"deploy/nginx/gutcheck.conf: expected {old!r} once, found it {site.count(old)} times"
            raise RuntimeError(msg)
        site = site.replace(old, new)
    return site


@dataclass
class Nginx:
    """A running nginx (deploy/nginx/gutcheck.conf) on loopback: HTTPS on `port`."""

    port: int
    http_port: int
    proc: subprocess.Popen[bytes]
    directory: Path

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def connection(self, timeout: float = 10.0) -> http.client.HTTPSConnection:
        """Return an HTTPS connection to this nginx (the throwaway certificate is not checked)."""
        return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout, context=insecure_tls())

    def error_log(self) -> str:
        path = self.directory / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """Stop nginx quickly (SIGTERM to the master, which ends its workers)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def insecure_tls() -> Any:
    """An SSL context for the throwaway loopback certificate (tests and benchmarks only)."""
    import ssl

    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def start_nginx(upstream_port: int, directory: Path | None = None) -> Nginx:
    """Start nginx in the foreground with the shipped site config, proxying to `upstream_port`."""
    binary = nginx_binary()
    if binary is None:
        msg = "nginx is not installed (Debian package nginx; `make test` installs it)"
        raise RuntimeError(msg)
    directory = directory or Path(tempfile.mkdtemp(prefix="gutcheck-nginx-"))
    directory.mkdir(parents=True, exist_ok=True)
    # nginx's workers run as nobody when the master is root: they must reach the temp folders.
    directory.chmod(0o755)
    (directory / "snippets").mkdir(exist_ok=True)
    shutil.copy(NGINX_HEADERS, directory / "snippets" / NGINX_HEADERS.name)
    cert, key = self_signed_certificate(directory)
    https_port, http_port = free_port(), free_port()
    (directory / "site.conf").write_text(
        render_nginx_site(upstream_port, https_port, http_port, cert, key), encoding="utf-8"
    )
    user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""
    main = (
        f"{user}daemon off;\nworker_processes 1;\npid {directory}/nginx.pid;\n"
        f"error_log {directory}/error.log warn;\n"
        "events { worker_connections 512; }\n"
        "http {\n"
        "    include /etc/nginx/mime.types;\n"
        "    default_type application/octet-stream;\n"
        f"    client_body_temp_path {directory}/client_body;\n"
        f"    proxy_temp_path {directory}/proxy;\n"
        f"    fastcgi_temp_path {directory}/fastcgi;\n"
        f"    uwsgi_temp_path {directory}/uwsgi;\n"
        f"    scgi_temp_path {directory}/scgi;\n"
        f"    include {directory}/site.conf;\n"
        "}\n"
    )
    conf = directory / "nginx.conf"
    conf.write_text(main, encoding="utf-8")
    command = [binary, "-p", str(directory), "-c", str(conf)]
    check = subprocess.run([*command, "-t", "-q"], capture_output=True, text=True, check=False)
    if check.returncode != 0:
        msg = f"nginx -t failed:\n{check.stderr}"
        raise RuntimeError(msg)
    log = (directory / "nginx.out").open("wb")
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    log.close()
    server = Nginx(https_port, http_port, proc, directory)
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", https_port), timeout=1):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                server.stop()
                msg = f"nginx did not start:\n{server.error_log()}"
                raise RuntimeError(msg) from None
            time.sleep(0.05)
    return server


@contextlib.contextmanager
def nginx(upstream_port: int, directory: Path | None = None) -> Iterator[Nginx]:
    """Run nginx (see start_nginx) until the block ends."""
    server = start_nginx(upstream_port, directory)
    try:
        yield server
    finally:
        server.stop()


def slow_client(host: str, port: int, stop: threading.Event, in_body: bool, tls: bool = True) -> None:
    """Send a request one byte every 3 seconds (in the body, or in the headers) until told to stop.

    The request never ends: what it costs the server is a connection held open, nothing more.
    """
    try:
        raw = socket.create_connection((host, port), timeout=10)
    except OSError:
        return
    conn = insecure_tls().wrap_socket(raw, server_hostname=host) if tls else raw
    with conn:
        try:
            if in_body:
                conn.sendall(
                    b"POST /continue HTTP/1.1\r\nHost: " + host.encode() + b"\r\n"
                    b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"
                )
                drip = b"a"
            else:
                conn.sendall(b"GET / HTTP/1.1\r\nHost: " + host.encode() + b"\r\n")
                drip = b"X"
            while not stop.wait(3):
                conn.sendall(drip)
        except OSError:
            return
