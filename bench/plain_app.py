"""Bench-only WSGI app: the real app, plus a plain Jinja page under /plain, in one gunicorn.

`GET /plain/page?bytes=N` renders a compiled Jinja template through a bare Flask app (no session,
no CSRF, no forms) padded to exactly N bytes. The pages benchmark compares the question page with
this page of the same size, served by the same gunicorn workers in the same run. The real app
never sees this module: it is mounted only here, for `gunicorn bench.plain_app:app`.
"""

from __future__ import annotations

from functools import cache

from flask import Flask
from flask import Response
from flask import request
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from wsgi import app as real_app

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

plain = Flask(__name__)
_template = plain.jinja_env.from_string(PLAIN_TEMPLATE)


def _render(filler: str) -> str:
    return _template.render(title="Plain page", paragraphs=PARAGRAPHS, filler=filler)


@cache
def _filler(size: int) -> str:
    """Return the padding that makes the rendered page exactly `size` bytes (if it can)."""
    base = len(_render("").encode())
    return "x" * max(size - base, 0)


@plain.get("/page")
def page() -> Response:
    size = request.args.get("bytes", default=0, type=int)
    body = _render(_filler(max(0, min(size, 1_000_000))))
    return Response(body, mimetype="text/html")


app = DispatcherMiddleware(real_app, {"/plain": plain})
