"""Liveness check for load balancers and `make run` smoke tests."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    """Answer 200 while the app is up (the questionnaire was checked at start-up)."""
    return {"status": "ok"}, 200
