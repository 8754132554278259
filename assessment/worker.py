"""Start-up for gunicorn: make the PDF renderer and the pages before fork, then freeze start-up objects.

With ``preload_app`` (gunicorn.conf.py) the master loads the app and calls ``prepare_master``
before it forks any worker: the renderer (WeasyPrint imported, stylesheet parsed, fonts loaded)
is made once, one small render warms its caches, the pre-rendered pages and compiled templates
are made (``warm_pages``), and everything alive is frozen out of the garbage collector's scans.
Each worker is then a fork that is ready at once. ``prepare_worker`` runs in each worker: it
makes what the master did not (no preload) and freezes what the worker added. Both first limit
glibc's malloc to one arena (``one_malloc_arena``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import threading

from flask import Flask

from assessment.domain.lengths import path_length_range
from assessment.web.state import state
from assessment.web.summary_download import renderer

RENDER_THREAD = "gutcheck-pdf-render"  # the name assessment/report/pdf.py gives its render threads

WARM_UP_HTML = "<!doctype html><html lang='en'><title>Gut Check</title><p>Gut Check</p></html>"

_M_ARENA_MAX = -8  # glibc's mallopt() parameter for the number of malloc arenas


def one_malloc_arena() -> bool:
    """Have glibc's malloc serve every thread from one arena; False where that cannot be set.

    Each PDF renders in a new thread, and glibc gives threads arenas of their own (up to 8 per
    core) that keep what they freed: 300 renders of P1's summary grew a process by 6 to 12 MB in
    jumps, against 4 MB with one arena or with every render in one thread, at the same render CPU.
    Python allocates under its GIL anyway, so one arena costs no contention worth measuring.
    Settings made in gunicorn's master are inherited by the workers it forks.
    """
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    libc = ctypes.CDLL(name)
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None or not hasattr(libc, "gnu_get_libc_version"):  # glibc only
        return False
    return bool(mallopt(_M_ARENA_MAX, 1))


def prepare_master(app: object) -> None:
    """Make the renderer (one warm-up render) and the pages, and freeze the heap; in the master.

    Nothing here may leave a render running: a forked worker would inherit its locks but not its
    thread. The warm-up render's thread has ended when render() returns its result.
    """
    one_malloc_arena()
    flask_app = unwrap(app)
    if flask_app is not None:
        renderer(flask_app).render(WARM_UP_HTML)
        warm_pages(flask_app)
    rendering = [t for t in threading.enumerate() if t.name == RENDER_THREAD and t.is_alive()]
    for thread in rendering:  # it is publishing its result: a moment at most
        thread.join(timeout=5)
    gc.collect()
    gc.freeze()


def prepare_worker(app: object) -> None:
    """Build the PDF renderer and the pages now (if the master did not) and freeze what is alive.

    Making the renderer here imports WeasyPrint, parses the stylesheet and loads the fonts, so the
    first summary a person downloads is as fast as the rest. Everything alive at this point (the
    questionnaire, compiled templates, WeasyPrint's user-agent stylesheets) lives as long as the
    worker; frozen, it is no longer walked by each full collection, which shortens every summary
    render (`python -m bench.pdf`). ``app`` is whatever gunicorn
    loaded: the Flask app is found inside WSGI middleware (the benchmarks mount some).
    """
    one_malloc_arena()
    flask_app = unwrap(app)
    if flask_app is not None:
        renderer(flask_app)
        warm_pages(flask_app)
    gc.collect()
    gc.freeze()


def unwrap(app: object) -> Flask | None:
    """Return the Flask app that gunicorn loaded, also from inside WSGI middleware (its ``app``)."""
    for _ in range(5):  # middleware such as DispatcherMiddleware or ProxyFix keeps the next one as .app
        if isinstance(app, Flask):
            return app
        app = getattr(app, "app", None)
    return None


def warm_pages(app: Flask) -> None:
    """Compile every template and make what the pages otherwise make at first use.

    A worker that made these on its first requests kept those requests waiting (each page's first
    request many times its usual time): with recycling every 2,000 requests, that was the question
    page's p99 under load (`make load` prints it).
    """
    for name in app.jinja_env.list_templates(extensions=["html"]):
        app.jinja_env.get_template(name)
    app_state = state(app)
    app_state.lengths.get(lambda: path_length_range(app_state.questionnaire))
    app_state.prerender.warm(app)
