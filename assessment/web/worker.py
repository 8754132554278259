"""Start-up for gunicorn: make the PDF renderer before fork, then freeze start-up objects.

With ``preload_app`` (gunicorn.conf.py) the master loads the app and calls ``prepare_master``
before it forks any worker: the renderer (WeasyPrint imported, stylesheet parsed, fonts loaded)
is made once, one small render warms its caches, and everything alive is frozen out of the
garbage collector's scans. Each worker is then a fork that is ready at once. ``prepare_worker``
runs in each worker: it makes the renderer when the master did not (no preload) and freezes what
the worker added.
"""

from __future__ import annotations

import gc
import threading

from flask import Flask

from assessment.web.summary_download import renderer

RENDER_THREAD = "gutcheck-pdf-render"  # the name assessment/report/pdf.py gives its render threads

WARM_UP_HTML = "<!doctype html><html lang='en'><title>Gut Check</title><p>Gut Check</p></html>"


def prepare_master(app: object) -> None:
    """Make the renderer, render once to warm it, and freeze the heap; in the master, before fork.

    Nothing here may leave a render running: a forked worker would inherit its locks but not its
    thread. The warm-up render's thread has ended when render() returns its result.
    """
    if isinstance(app, Flask):
        renderer(app).render(WARM_UP_HTML)
    rendering = [t for t in threading.enumerate() if t.name == RENDER_THREAD and t.is_alive()]
    for thread in rendering:  # it is publishing its result: a moment at most
        thread.join(timeout=5)
    gc.collect()
    gc.freeze()


def prepare_worker(app: object) -> None:
    """Build the PDF renderer now (if the master did not) and freeze what is alive.

    Making the renderer here imports WeasyPrint, parses the stylesheet and loads the fonts, so the
    first summary a person downloads is as fast as the rest. Everything alive at this point (the
    questionnaire, compiled templates, WeasyPrint's user-agent stylesheets) lives as long as the
    worker; frozen, it is no longer walked by each full collection, which took the P1 summary's
    median render from about 290 to 250 ms (`python -m bench.pdf`). ``app`` is whatever gunicorn
    loaded: a WSGI wrapper around the app (the benchmarks mount one) is frozen but not warmed.
    """
    if isinstance(app, Flask):
        renderer(app)
    gc.collect()
    gc.freeze()
