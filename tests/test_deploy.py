"""The shipped server set-up, run for real on loopback: gunicorn.conf.py, and deploy/ with nginx.

- gunicorn alone (gunicorn.conf.py): 20 simultaneous PDF requests get renders or a fast 503;
  workers boot in milliseconds and recycling never stalls a request; a client talking to gunicorn
  directly cannot claim HTTPS.
- nginx in front (deploy/nginx/gutcheck.conf, deploy/gunicorn.conf.py), marked ``nginx``: slow
  clients do not delay /healthz; HTTPS at nginx gives a Secure ``__Host-`` cookie and HSTS from the
  app; a body over the limit gets nginx's 413 with the security headers.

Every server is bounded in time and stopped at the end; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import ssl
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
import yaml

from tests.app_server import Nginx
from tests.app_server import Server
from tests.app_server import csrf_token
from tests.app_server import gunicorn
from tests.app_server import insecure_tls
from tests.app_server import nginx
from tests.app_server import nginx_binary
from tests.app_server import render_nginx_site
from tests.app_server import slow_client
from tests.conftest import ROOT

P1 = yaml.safe_load((ROOT / "tests" / "cases" / "p1_emma.yaml").read_text(encoding="utf-8"))["answers"]
SHIPPED = ROOT / "gunicorn.conf.py"
SITE = ROOT / "deploy" / "nginx" / "gutcheck.conf"
SECURITY_HEADERS = (
    "Content-Security-Policy",
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Referrer-Policy",
    "Strict-Transport-Security",
)


def port_of(server: Server) -> int:
    return int(server.base_url.rsplit(":", 1)[1])


def timed_request(
    host: str,
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    tls: bool = False,
) -> tuple[int, float, dict[str, str], bytes]:
    """Send one request on a fresh connection; return (status, seconds, headers, body)."""
    started = time.monotonic()
    conn: http.client.HTTPConnection
    if tls:
        conn = http.client.HTTPSConnection(host, port, timeout=30, context=insecure_tls())
    else:
        conn = http.client.HTTPConnection(host, port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        return response.status, time.monotonic() - started, dict(response.getheaders()), data
    finally:
        conn.close()


@pytest.fixture(scope="module")
def shipped() -> Iterator[Server]:
    """gunicorn with the shipped gunicorn.conf.py, as `make run` starts it."""
    with gunicorn(workers=3) as server:
        yield server


def test_twenty_simultaneous_pdf_requests_get_a_render_or_a_fast_503(shipped: Server) -> None:
    """The render limit is real: some render at once, the rest hear 503 + Retry-After quickly."""
    body = json.dumps({"answers": P1}).encode()
    results: list[tuple[int, float, dict[str, str], bytes]] = []
    lock = threading.Lock()
    go = threading.Barrier(20)

    def one() -> None:
        go.wait()
        headers = {"Content-Type": "application/json"}
        result = timed_request("127.0.0.1", port_of(shipped), "POST", "/api/v1/report", body, headers)
        with lock:
            results.append(result)

    threads = [threading.Thread(target=one) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == 20
    ok = [r for r in results if r[0] == 200]
    busy = [r for r in results if r[0] == 503]
    assert len(ok) + len(busy) == 20, [r[0] for r in results]
    assert ok, "at least one summary is made"
    assert busy, "with every render slot taken, the rest are told at once (no queue of 20)"
    assert all(r[2].get("Retry-After") and r[2]["Content-Type"] == "application/problem+json" for r in busy)


def test_a_client_cannot_claim_https_to_gunicorn_directly(shipped: Server) -> None:
    """gunicorn trusts no X-Forwarded-Proto itself (its default would, from 127.0.0.1)."""
    status, _, headers, _ = timed_request(
        "127.0.0.1", port_of(shipped), "GET", "/q/help_now", headers={"X-Forwarded-Proto": "https"}
    )
    assert status == 200
    assert "Strict-Transport-Security" not in headers
    assert "Secure" not in headers["Set-Cookie"] and headers["Set-Cookie"].startswith("gutcheck=")


def test_boot_cost_is_paid_once_in_the_master_and_recycling_never_fails(tmp_path: Path) -> None:
    """WeasyPrint is loaded in the master before fork (preload_app, when_ready), so a recycled worker
    is a fork with nothing to import; workers recycled every 15 requests drop no request."""
    args = ["--max-requests", "15", "--max-requests-jitter", "0", "--log-level", "info"]
    statuses: list[int] = []
    lock = threading.Lock()
    with gunicorn(workers=3, extra_args=args, log_dir=tmp_path) as server:
        deadline = time.monotonic() + 30

        def client() -> None:
            for _ in range(40):
                if time.monotonic() > deadline:
                    return
                status, _, _, _ = timed_request("127.0.0.1", port_of(server), "GET", "/")
                with lock:
                    statuses.append(status)

        threads = [threading.Thread(target=client) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=40)
        time.sleep(0.5)
        logs = server.logs()
        master_maps = Path(f"/proc/{server.proc.pid}/maps").read_text()
    assert "libpango" in master_maps, "the PDF renderer (WeasyPrint, Pango) was made in the master"
    boots = re.findall(r"Worker \d+ ready in ([\d.]+) ms", logs)
    assert len(boots) >= 3 + 5, f"workers were recycled: {len(boots)} boots"
    assert statuses and set(statuses) == {200}


def test_the_shipped_gunicorn_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Preloaded app, gthread workers, no forwarded header trusted, and the deploy file builds on it."""
    import runpy

    # The deploy file sets GUTCHECK_ENV and GUTCHECK_PROXY_FIX for the app: not for this process.
    # (setenv first: monkeypatch undoes only what it recorded, and delenv of an unset name records
    # nothing.)
    for name in ("GUTCHECK_ENV", "GUTCHECK_PROXY_FIX"):
        monkeypatch.setenv(name, "unset")
        monkeypatch.delenv(name)

    settings = runpy.run_path(str(SHIPPED))
    assert settings["preload_app"] is True and settings["worker_class"] == "gthread"
    assert settings["secure_scheme_headers"] == {} and settings["forwarded_allow_ips"] == ""
    deploy = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    assert deploy["preload_app"] is True and deploy["bind"] == ["127.0.0.1:8000"]
    assert os.environ["GUTCHECK_ENV"] == "production" and os.environ["GUTCHECK_PROXY_FIX"] == "1"


# nginx in front (deploy/)


needs_nginx = pytest.mark.skipif(
    nginx_binary() is None, reason="nginx is not installed (the Debian package; `make test` installs it)"
)


@pytest.fixture(scope="module")
def behind_nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    """deploy/gunicorn.conf.py (production, one trusted proxy) behind deploy/nginx/gutcheck.conf."""
    directory = tmp_path_factory.mktemp("nginx")
    with gunicorn(workers=3, config="deploy/gunicorn.conf.py") as app:
        with nginx(port_of(app), directory) as proxy:
            yield proxy


@needs_nginx
@pytest.mark.nginx
def test_slow_clients_do_not_delay_healthz_through_nginx(behind_nginx: Nginx) -> None:
    """More slow clients than gunicorn has threads (3 x 4): /healthz answers within 1 s all along."""
    stop = threading.Event()
    clients = [
        threading.Thread(
            target=slow_client, args=("127.0.0.1", behind_nginx.port, stop, i % 2 == 0), daemon=True
        )
        for i in range(16)
    ]
    for t in clients:
        t.start()
    time.sleep(1.0)  # every slow request has started
    latencies = []
    try:
        deadline = time.monotonic() + 7
        while time.monotonic() < deadline:
            status, seconds, _, _ = timed_request("127.0.0.1", behind_nginx.port, "GET", "/healthz", tls=True)
            assert status == 200
            latencies.append(seconds)
            time.sleep(0.1)
    finally:
        stop.set()
        for t in clients:
            t.join(timeout=5)
    p99 = statistics.quantiles(latencies, n=100, method="inclusive")[98]
    assert p99 < 1.0, f"/healthz p99 {p99:.2f} s with slow clients"


@needs_nginx
@pytest.mark.nginx
def test_https_at_nginx_gives_a_secure_host_cookie_and_hsts(behind_nginx: Nginx) -> None:
    status, _, headers, _ = timed_request("127.0.0.1", behind_nginx.port, "GET", "/q/help_now", tls=True)
    assert status == 200
    cookie = headers["Set-Cookie"]
    assert cookie.startswith("__Host-gutcheck=") and "Secure" in cookie and "Path=/" in cookie
    assert "Domain" not in cookie
    # nginx adds no HSTS to proxied responses: this one is the app's, so the app saw HTTPS.
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    assert headers["Content-Security-Policy"].count("default-src") == 1


@needs_nginx
@pytest.mark.nginx
def test_a_form_post_through_nginx_passes_the_csrf_and_referer_checks(behind_nginx: Nginx) -> None:
    """The host the app sees through nginx is the origin the browser's Referer names."""
    from tests.app_server import Client

    client = Client(behind_nginx.base_url)
    page = client.get("/q/help_now")
    assert page.status == 200
    token = csrf_token(page.text)
    origin = behind_nginx.base_url
    body = urlencode({"csrf_token": token, "age": "40", "sex": "female"}).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Referer": f"{origin}/q/help_now"}
    answered = client.request("/q/help_now", body, headers)
    # Passed CSRF and Referer (not the 400 "Your page timed out"): the form itself was checked.
    assert answered.status == 200 and "There is a problem" in answered.text
    refused = client.request("/q/help_now", body, {**headers, "Referer": "https://elsewhere.example/"})
    assert refused.status == 400, "not vacuous: a foreign Referer is refused"


@needs_nginx
@pytest.mark.nginx
def test_a_body_over_the_limit_gets_nginx_413_with_the_headers(behind_nginx: Nginx) -> None:
    conn = behind_nginx.connection()
    try:
        conn.putrequest("POST", "/continue")
        conn.putheader("Content-Type", "multipart/form-data; boundary=x")
        conn.putheader("Content-Length", str(3 * 1024 * 1024))
        conn.endheaders()
        try:
            conn.send(b"x" * 4096)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass  # nginx may answer and close before reading what was sent
        response = conn.getresponse()
        body = response.read().decode()
    finally:
        conn.close()
    assert response.status == 413
    assert response.getheader("Server") == "nginx", "nginx answered, without a version"
    assert "That was too much to send" in body
    for name in SECURITY_HEADERS:
        assert response.getheader(name), f"{name} missing on nginx's 413"
    assert response.getheader("Cache-Control") == "no-store"


def test_nginx_takes_the_app_limits() -> None:
    """The nginx site asks for the app's body limit and buffers requests and responses in memory."""
    from assessment.config import DEFAULTS

    site = SITE.read_text(encoding="utf-8")
    mb = int(re.search(r"client_max_body_size (\d+)m;", site).group(1))  # type: ignore[union-attr]
    assert mb * 1024 * 1024 == DEFAULTS["MAX_CONTENT_LENGTH"]
    assert f"client_body_buffer_size {mb}m;" in site
    for line in ("proxy_request_buffering on;", "proxy_buffering on;", "proxy_max_temp_file_size 0;"):
        assert line in site
    render_nginx_site(1, 2, 3, Path("/c"), Path("/k"))  # the placeholders the tests replace are there
