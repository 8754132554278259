"""A gunicorn worker, once started, has its PDF renderer ready and its start-up objects frozen."""

from __future__ import annotations

import gc
import runpy
from pathlib import Path
from types import SimpleNamespace

from flask import Flask

from tests.web.conftest import generic_answers

ROOT = Path(__file__).resolve().parents[2]


def test_gunicorn_hook_prepares_the_renderer_and_freezes_the_heap(app: Flask) -> None:
    """The project's gunicorn config warms the renderer (the first PDF is not slower) and freezes."""
    hooks = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert "pdf_renderer" not in app.extensions
    gc.unfreeze()
    try:
        hooks["post_worker_init"](SimpleNamespace(wsgi=app))
        assert "pdf_renderer" in app.extensions
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    warmed = app.extensions["pdf_renderer"]
    answers = generic_answers(app.extensions["questionnaire"])
    response = app.test_client().post("/api/v1/report", json={"answers": answers})
    assert response.status_code == 200 and response.data.startswith(b"%PDF-")
    # The route used the renderer made at start-up, not a second one.
    assert app.extensions["pdf_renderer"] is warmed


def test_gunicorn_hook_accepts_a_wsgi_wrapper_around_the_app(app: Flask) -> None:
    """A middleware-wrapped app (as the benchmarks serve) still boots: frozen, nothing to warm."""
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    hooks = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    gc.unfreeze()
    try:
        hooks["post_worker_init"](SimpleNamespace(wsgi=DispatcherMiddleware(app)))
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
