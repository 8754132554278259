"""A gunicorn worker, once started, has its PDF renderer ready and its start-up objects frozen."""

from __future__ import annotations

import gc
import runpy
from pathlib import Path
from types import SimpleNamespace

from flask import Flask

from assessment.web.state import state
from tests.web.conftest import generic_answers

ROOT = Path(__file__).resolve().parents[1]


def test_gunicorn_hook_prepares_the_renderer_and_freezes_the_heap(app: Flask) -> None:
    """The project's gunicorn config warms the renderer (the first PDF is not slower) and freezes."""
    hooks = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert state(app).pdf_renderer.peek() is None
    gc.unfreeze()
    try:
        hooks["post_worker_init"](SimpleNamespace(wsgi=app))
        assert state(app).pdf_renderer.peek() is not None
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    warmed = state(app).pdf_renderer.peek()
    answers = generic_answers(state(app).questionnaire)
    response = app.test_client().post("/api/v1/report", json={"answers": answers})
    assert response.status_code == 200 and response.data.startswith(b"%PDF-")
    # The route used the renderer made at start-up, not a second one.
    assert state(app).pdf_renderer.peek() is warmed


def test_gunicorn_hook_finds_the_app_inside_wsgi_middleware(app: Flask) -> None:
    """A middleware-wrapped app (as the benchmarks serve) is warmed and frozen all the same."""
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    hooks = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    gc.unfreeze()
    try:
        hooks["post_worker_init"](SimpleNamespace(wsgi=DispatcherMiddleware(app)))
        assert gc.get_freeze_count() > 0
        assert state(app).pdf_renderer.peek() is not None
    finally:
        gc.unfreeze()


def test_a_started_worker_has_its_pages_made_before_the_first_request(app: Flask) -> None:
    """Section page shells, results pages and the start page's lengths are made at start-up, so
    none of a fresh (or recycled) worker's first requests waits for them."""
    hooks = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    prerender = state(app).prerender
    assert not prerender.shells and not prerender.results_built
    gc.unfreeze()
    try:
        hooks["post_worker_init"](SimpleNamespace(wsgi=app))
    finally:
        gc.unfreeze()
    assert prerender.shells, "no section page shell was made"
    assert prerender.results_built, "the results pages were not made"
    assert state(app).lengths.peek() is not None
    shells = dict(prerender.shells)
    page = app.test_client().get("/")
    assert page.status_code == 200
    assert prerender.shells == shells  # used as made, not made again


def test_the_master_hook_makes_the_renderer_before_fork_and_a_fork_can_use_it(app: Flask) -> None:
    """preload_app: when_ready makes and warms the renderer in the master, leaves no thread behind,
    freezes the heap; a forked worker then renders with that very renderer."""
    import os
    import threading
    import time

    hooks = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    server = SimpleNamespace(cfg=SimpleNamespace(preload_app=True), app=SimpleNamespace(wsgi=lambda: app))
    gc.unfreeze()
    try:
        hooks["when_ready"](server)
        assert state(app).pdf_renderer.peek() is not None
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    assert not [t for t in threading.enumerate() if t.name == "gutcheck-pdf-render"]
    made = state(app).pdf_renderer.peek()
    answers = generic_answers(state(app).questionnaire)
    pid = os.fork()
    if pid == 0:  # the "worker"
        code = 1
        try:
            response = app.test_client().post("/api/v1/report", json={"answers": answers})
            ok = response.status_code == 200 and response.data.startswith(b"%PDF-")
            code = 0 if ok and state(app).pdf_renderer.peek() is made else 2
        finally:
            os._exit(code)
    for _ in range(600):  # a minute at most
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.1)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        raise AssertionError("the forked worker's render hung")
    assert os.waitstatus_to_exitcode(status) == 0


def test_worker_hook_logs_how_long_the_worker_took_to_be_ready(app: Flask) -> None:
    import time

    hooks = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    lines: list[str] = []
    log = SimpleNamespace(info=lambda message, *args: lines.append(message % args))
    worker = SimpleNamespace(wsgi=app, log=log, pid=123)
    hooks["pre_fork"](None, worker)
    time.sleep(0.01)
    gc.unfreeze()
    try:
        hooks["post_worker_init"](worker)
    finally:
        gc.unfreeze()
    assert len(lines) == 1 and lines[0].startswith("Worker 123 ready in ")


def test_malloc_is_limited_to_one_arena_where_glibc_runs() -> None:
    """Per-render threads would each get a malloc arena that keeps what it freed (RSS creep)."""
    import platform

    from assessment.worker import one_malloc_arena

    expected = platform.libc_ver()[0] == "glibc"
    assert one_malloc_arena() is expected
    assert one_malloc_arena() is expected  # setting it again is harmless
