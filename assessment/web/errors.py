"""Friendly error pages (400, 404, 405, 413, 500) and the CSRF page that keeps saved answers.

Under ``/api/`` every error, a routing 404 or 405 and an unexpected 500 included, is an RFC 9457
problem document (``application/problem+json``) and never a page or a traceback.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from flask import render_template
from flask import request
from flask import url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import InternalServerError
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Response

from assessment.web import answers_store
from assessment.web.state import state

PAGES = {400: "errors/400.html", 404: "errors/404.html", 405: "errors/405.html", 413: "errors/413.html"}
# Used when even the error template cannot be rendered (for example, no URL adapter for a bad host).
FALLBACK = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>'
    '<body><main><h1>{title}</h1><p><a href="/">Go to the start page</a></p></main></body></html>'
)
TITLES = {
    400: "Something was wrong with that request",
    404: "Page not found",
    405: "That action is not possible here",
    413: "That was too much to send",
    500: "Sorry, something went wrong",
}


PROBLEM_JSON = "application/problem+json"
API_PREFIX = "/api/"


def problem(
    status: int,
    detail: str,
    *,
    error: str | None = None,
    extra: dict[str, Any] | None = None,
    headers: list[tuple[str, str]] | None = None,
) -> Response:
    """Answer an RFC 9457 problem document; ``error`` and ``message`` stay for v1 clients.

    ``type`` is ``about:blank``, so ``title`` is the status phrase; ``error`` is a stable
    machine-readable code and ``message`` repeats ``detail``.
    """
    title = HTTP_STATUS_CODES.get(status, "Error")
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "error": error or title.lower().replace(" ", "_").replace("-", "_"),
        "message": detail,
    }
    body.update(extra or {})
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for key, value in headers or []:
        if key.lower() != "content-type":
            response.headers[key] = value
    return response


def is_api() -> bool:
    """Say whether the current request is for the JSON API."""
    try:
        return request.path.startswith(API_PREFIX)
    except Exception:  # no request context: not the API
        return False


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(InternalServerError, handle_server_error)
    app.register_error_handler(CSRFError, handle_csrf_error)


def _page(template: str, code: int, **context: object) -> Response:
    """Render an error page; never raise from here (that would hide the first error)."""
    try:
        body = render_template(template, code=code, **context)
    except Exception:  # the error page must not fail in turn
        body = FALLBACK.format(title=TITLES.get(code, TITLES[500]))
    return Response(body, status=code, mimetype="text/html")


def handle_http_error(error: HTTPException) -> Response:
    """Show the friendly page for an HTTP error, keeping its own headers (Allow, Retry-After)."""
    code = error.code or 500
    if code < 400:
        return error.get_response()
    if is_api():
        # Programs read JSON: routing errors (404, 405) that never reach the API blueprint too,
        # with what the error says about itself (Allow on a 405).
        return problem(code, error.description or "", headers=list(error.get_headers()))
    if code >= 500:
        response = _page("errors/500.html", code)
    else:
        response = _page(PAGES.get(code, "errors/error.html"), code, title=TITLES.get(code, TITLES[400]))
    # Keep what the error says about itself: Allow on a 405, Retry-After on a 503.
    for key, value in error.get_headers():
        if key.lower() != "content-type":
            response.headers[key] = value
    return response


def handle_server_error(error: InternalServerError) -> Response:
    """Show a calm page for an unexpected failure (details go to the server log, not to the person)."""
    if is_api():
        return problem(500, "Something went wrong on our side. Try again later.", error="internal_error")
    return _page("errors/500.html", 500)


def handle_csrf_error(error: CSRFError) -> Response:
    """Explain an expired or missing form token; saved answers are kept, the post is not used."""
    has_answers = False
    try:
        # Loading also flashes the "cleared after an hour" message when the whole session expired.
        has_answers = bool(answers_store.load_answers())
    except Exception:  # the page must render even if the session is odd
        has_answers = False
    back_url = _back_url()
    return _page("errors/csrf.html", 400, back_url=back_url, has_answers=has_answers)


def _back_url() -> str:
    """Return the page the form came from, when it is one of our section pages, else the start."""
    questionnaire = state().questionnaire
    parts = request.path.strip("/").split("/")
    if len(parts) == 2 and parts[0] == "q" and questionnaire.section(parts[1]) is not None:
        values: dict[str, Any] = {"section_id": parts[1]}
        if request.args.get("return") == "review":
            values["return"] = "review"
        return url_for("questionnaire.section", **values)
    return url_for("questionnaire.start")
