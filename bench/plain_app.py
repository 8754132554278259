"""Bench-only WSGI app: the real app with one extra plain page, plus a bare Flask app, in one gunicorn.

Two plain Jinja pages, both padded to exactly N bytes, both rendering the same compiled template:

- `GET /bench/plain?bytes=N` is a route added here to the real app (made by `create_app()` in
  wsgi.py), so it goes through the same encrypted session interface, security headers, CSRF set-up,
  context processors and request hooks as the question page, and the benchmark requests it with
  the same session cookie. This is the reference of docs/design.md: the ratio then measures what the
  questionnaire logic adds, not Flask's baseline.
- `GET /plain/page?bytes=N` is served by a bare Flask app mounted beside ours (no session, no
  CSRF, no headers): Flask's own floor, shown for comparison.

The real app never sees this module: the extra route and the mount exist only in the process that
runs `gunicorn bench.plain_app:app`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from flask import Flask
from flask import Response
from flask import render_template
from flask import request
from jinja2 import Template
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from bench.pages import APP_PLAIN_PATH
from bench.pages import BARE_PLAIN_PATH
from wsgi import app as real_app

MAX_BYTES = 1_000_000

PLAIN_TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
</head>
<body>
<main>
<h1>{{ title }}</h1>
{% for paragraph in paragraphs %}<p>{{ paragraph }}</p>
{% endfor %}<p>{{ filler }}</p>
</main>
</body>
</html>
"""
PARAGRAPHS = tuple(f"Plain paragraph number {i}, the same text every time." for i in range(40))
TITLE = "Plain page"


def _requested_size() -> int:
    return max(0, min(request.args.get("bytes", default=0, type=int), MAX_BYTES))


def _padding(render: Callable[[str], str]) -> Callable[[int], str]:
    """Return a cached function giving the filler that makes `render` exactly `size` bytes."""

    @cache
    def filler(size: int) -> str:
        base = len(render("").encode())
        return "x" * max(size - base, 0)

    return filler


# The bare Flask app: Flask's floor, no session, no CSRF, no headers.
bare = Flask(__name__)
_bare_template = bare.jinja_env.from_string(PLAIN_TEMPLATE)


def _render_bare(filler: str) -> str:
    return _bare_template.render(title=TITLE, paragraphs=PARAGRAPHS, filler=filler)


_bare_filler = _padding(_render_bare)


@bare.get("/page")
def bare_page() -> Response:
    body = _render_bare(_bare_filler(_requested_size()))
    return Response(body, mimetype="text/html")


# The same template as a route of our own app, rendered the way our views render (render_template:
# context processors and template signals included) and returned as a str, like the question page.
_app_template: Template = real_app.jinja_env.from_string(PLAIN_TEMPLATE)


def _render_in_app(filler: str) -> str:
    return render_template(_app_template, title=TITLE, paragraphs=PARAGRAPHS, filler=filler)


_app_filler = _padding(_render_in_app)


def app_plain_page() -> str:
    """A plain Jinja page of the requested size, served by our app (session, headers and all)."""
    return _render_in_app(_app_filler(_requested_size()))


real_app.add_url_rule(APP_PLAIN_PATH, "bench_plain", app_plain_page, methods=["GET"])

app = DispatcherMiddleware(real_app, {BARE_PLAIN_PATH.rsplit("/", 1)[0]: bare})
