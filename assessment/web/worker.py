"""Per-worker start-up for gunicorn: make the PDF renderer early, then freeze start-up objects."""

from __future__ import annotations

import gc

from flask import Flask

from assessment.web.report import renderer


def prepare_worker(app: object) -> None:
    """Build the PDF renderer now and move everything alive out of the garbage collector's scans.

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
