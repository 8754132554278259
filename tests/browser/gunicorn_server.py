"""Start and stop the real app under gunicorn for the browser tests (tests/app_server.py)."""

from __future__ import annotations

import secrets
from pathlib import Path

from tests.app_server import Server as AppServer
from tests.app_server import start_gunicorn

__all__ = ["AppServer", "start_server"]


def start_server(log_dir: Path, attempt: int = 0, workers: int = 2) -> AppServer:
    """Start gunicorn on a free loopback port with a fresh key; raise RuntimeError if it fails."""
    return start_gunicorn(
        workers=workers,
        env={"GUTCHECK_SECRET_KEY": secrets.token_hex(32)},
        log_dir=log_dir / f"attempt-{attempt}",
    )
