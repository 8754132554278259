"""Start and stop the real app under gunicorn for the browser tests; keep what it printed in files."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
START_TIMEOUT = 30.0
# Lines the app prints when it refuses to start (wsgi.py); gunicorn would otherwise respawn forever.
FATAL_MARKERS = ("the app cannot start", "Configuration error:", "Error: ", "Traceback")


@dataclass
class AppServer:
    """A running gunicorn: its base URL, process and the files holding what it printed."""

    base_url: str
    proc: subprocess.Popen[bytes]
    stdout_path: Path
    stderr_path: Path
    _files: list[Any] = field(default_factory=list, repr=False)

    def logs(self) -> str:
        """Return everything the server printed so far (stdout, then stderr)."""
        out = self.stdout_path.read_bytes().decode("utf-8", errors="replace")
        err = self.stderr_path.read_bytes().decode("utf-8", errors="replace")
        return out + err

    def url(self, path: str) -> str:
        """Return the absolute URL of a path on this server."""
        return self.base_url + path

    def close(self) -> None:
        """Stop gunicorn and close the log files (the files stay for reading)."""
        stop_server(self.proc)
        for handle in self._files:
            handle.close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=2) as resp:
            return bool(resp.status == 200)
    except urllib.error.HTTPError as exc:
        exc.close()
        return False
    except (urllib.error.URLError, OSError):
        return False


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """Stop gunicorn: SIGTERM (graceful), then SIGKILL if it has not gone after a while."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def start_server(log_dir: Path, attempt: int = 0, workers: int = 2) -> AppServer:
    """Start gunicorn on a free loopback port and wait for /healthz; raise RuntimeError if it fails."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = dict(os.environ)
    env["GUTCHECK_SECRET_KEY"] = secrets.token_hex(32)
    # A print() in a worker must reach the log file now, not at exit, for the privacy test to see it.
    env["PYTHONUNBUFFERED"] = "1"
    stdout_path = log_dir / f"gunicorn-{attempt}.out"
    stderr_path = log_dir / f"gunicorn-{attempt}.err"
    out = stdout_path.open("wb")
    err = stderr_path.open("wb")
    cmd = [
        str(GUNICORN),
        "--config",
        "gunicorn.conf.py",
        "-w",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "wsgi:app",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
    server = AppServer(base_url, proc, stdout_path, stderr_path, [out, err])
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if _healthy(base_url):
            return server
        logs = server.logs()
        if proc.poll() is not None or any(marker in logs for marker in FATAL_MARKERS):
            break
        time.sleep(0.1)
    server.close()
    tail = "\n".join(server.logs().splitlines()[-40:])
    msg = f"gunicorn did not become healthy on {base_url} (exit code {proc.returncode}):\n{tail}"
    raise RuntimeError(msg)
