"""Headers on every page type, CSRF pages that keep answers, error pages, and hostile URLs."""

from __future__ import annotations

import re
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.web.conftest import Respondent
from tests.web.conftest import make_app
from tests.web.conftest import text

PAGES = ["/", "/q/about", "/q/symptoms", "/review", "/results", "/guidance/", "/guidance/emergency", "/nope"]


@pytest.fixture
def completed(respondent: Respondent) -> Respondent:
    """A person who has answered everything, so every page type shows."""
    respondent.complete()
    return respondent


@pytest.mark.parametrize("path", PAGES)
def test_security_headers_on_every_page_type(completed: Respondent, client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == (404 if path == "/nope" else 200)
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cache-Control"] == "no-store"
    assert headers["Content-Type"] == "text/html; charset=utf-8"


@pytest.mark.parametrize("path", PAGES)
def test_no_inline_script_or_style_anywhere(completed: Respondent, client: FlaskClient, path: str) -> None:
    html = text(client.get(path))
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script> would break the CSP"
    assert not re.search(r"\sstyle=", html) and "<style" not in html, "inline styles would break the CSP"
    assert not re.search(r"\son[a-z]+=", html), "inline event handlers would break the CSP"
    assert not re.search(
        r"(?:src|href)=\"(?:https?:)?//", html.split("<footer")[0].split('class="sources')[0]
    )


def test_static_files_are_served_with_nosniff(client: FlaskClient) -> None:
    for path, kind in (("/static/css/app.css", "text/css"), ("/static/js/app.js", "text/javascript")):
        response = client.get(path)
        assert response.status_code == 200 and response.mimetype == kind
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        response.close()


def test_missing_csrf_token_gives_a_friendly_page_and_keeps_the_answers(
    completed: Respondent, client: FlaskClient
) -> None:
    response = client.post("/q/about", data={"age": "99"})
    assert response.status_code == 400
    html = text(response)
    assert "Your page timed out" in html
    assert "The answers you saved on earlier pages are kept." in html
    assert 'href="/q/about"' in html
    assert response.headers["Content-Security-Policy"]
    assert "40 years" in text(client.get("/review")), "saved answers are unchanged"


def test_made_up_or_foreign_csrf_token_is_refused(completed: Respondent, client: FlaskClient) -> None:
    foreign = Respondent(make_app().test_client()).token()
    for token in ("made-up", foreign):
        response = client.post("/q/about", data={"csrf_token": token, "age": "99"})
        assert response.status_code == 400 and "Your page timed out" in text(response)
    assert "40 years" in text(client.get("/review"))


def test_expired_csrf_token_gives_a_friendly_page_and_keeps_the_answers(
    app: Flask, completed: Respondent, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.config["WTF_CSRF_TIME_LIMIT"] = 60
    token = completed.token()
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 120)  # the token is old; the session is not
    response = client.post("/q/symptoms?return=review", data={"csrf_token": token, "pain": "1"})
    assert response.status_code == 400
    html = text(response)
    assert "Your page timed out" in html and "The answers you saved on earlier pages are kept." in html
    assert 'href="/q/symptoms?return=review"' in html
    review = text(client.get("/review"))
    assert "7 out of 10" in review, "the stored pain answer was not replaced"


def test_csrf_failure_after_the_session_expired_explains_both(
    completed: Respondent, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = completed.token()
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 2 * 3600)
    html = text(client.post("/q/about", data={"csrf_token": token, "age": "50"}))
    assert "Your page timed out" in html
    assert "kept for an hour without activity" in html


def test_clear_needs_a_csrf_token(completed: Respondent, client: FlaskClient) -> None:
    assert client.post("/clear").status_code == 400
    assert client.get("/review").status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [("put", "/q/about"), ("delete", "/q/about"), ("patch", "/results"), ("delete", "/clear"), ("post", "/")],
)
def test_wrong_method_gives_the_405_page(client: FlaskClient, method: str, path: str) -> None:
    response = getattr(client, method)(path)
    assert response.status_code == 405
    assert "That action is not possible here" in text(response)
    assert response.headers["Allow"]
    assert response.headers["Cache-Control"] == "no-store"


def test_trace_is_not_allowed(client: FlaskClient) -> None:
    assert client.open("/", method="TRACE").status_code == 405


def test_options_has_no_side_effects(client: FlaskClient) -> None:
    response = client.options("/results")
    assert response.status_code == 200
    assert "GET" in response.headers["Allow"]
    assert client.get_cookie("gutcheck") is None


def test_huge_body_gives_the_413_page(client: FlaskClient) -> None:
    response = client.post("/q/about", data={"notes": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 413
    assert "That was too much to send" in text(response)


def test_huge_multipart_field_gives_the_413_page(client: FlaskClient) -> None:
    # MAX_FORM_MEMORY_SIZE applies to each multipart field (Werkzeug reads url-encoded bodies whole,
    # bounded by MAX_CONTENT_LENGTH instead).
    # The body is built by hand: the test client would spool it to a temporary file it never closes.
    boundary = "gutcheck-boundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="notes"\r\n\r\n'
        + "x" * (600 * 1024)
        + f"\r\n--{boundary}--\r\n"
    ).encode()
    response = client.post("/q/about", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 413
    assert "That was too much to send" in text(response)


def test_too_many_multipart_parts_gives_the_413_page(app: Flask, client: FlaskClient) -> None:
    """One part over the app's own limit is refused; the limit is below Flask's default."""
    limit = app.config["MAX_FORM_PARTS"]
    assert limit < Flask.default_config["MAX_FORM_PARTS"], "the app must set a tighter limit than Flask's"

    def post(parts: int) -> TestResponse:
        fields = {f"f{i}": "x" for i in range(parts)}
        return client.post("/q/about", data=fields, content_type="multipart/form-data")

    assert post(limit).status_code != 413
    over = post(limit + 1)
    assert over.status_code == 413
    assert "That was too much to send" in text(over)


def test_404_page_is_friendly(client: FlaskClient) -> None:
    response = client.get("/definitely/not/here")
    assert response.status_code == 404
    html = text(response)
    assert "Page not found" in html and 'href="/"' in html


@pytest.mark.parametrize(
    "path",
    [
        "/guidance/..%2f..%2fetc%2fpasswd",
        "/guidance/%2e%2e",
        "/guidance/%2e%2e%2f%2e%2e%2fapp.py",
        "/guidance/..%5c..%5cwindows",
        "/guidance/emergency.md",
        "/guidance/sources",
        "/guidance/" + "a" * 5000,
        "/guidance/%00",
        "/static/../assessment/__init__.py",
        "/.git/config",
    ],
)
def test_traversal_and_odd_slugs_are_404(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "Page not found" in text(response)


def test_500_page_is_friendly_and_has_the_headers() -> None:
    app = make_app()
    app.testing = False  # let the error handler answer instead of raising into the test

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("kaput")

    app.logger.disabled = True  # the traceback is expected here
    response = app.test_client().get("/boom")
    assert response.status_code == 500
    html = text(response)
    assert "Sorry, something went wrong" in html and "kaput" not in html
    assert response.headers["Content-Security-Policy"] and response.headers["Cache-Control"] == "no-store"


def test_untrusted_host_is_a_400_not_a_500() -> None:
    app = make_app(TRUSTED_HOSTS="gutcheck.example, www.gutcheck.example")
    client = app.test_client()
    assert client.get("/", headers={"Host": "gutcheck.example"}).status_code == 200
    response = client.get("/", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert "Something was wrong with that request" in text(response)


def test_busy_page_for_the_pdf_renders(app: Flask) -> None:
    from flask import render_template

    with app.test_request_context("/report.pdf"):
        html = render_template("errors/busy.html")
    assert "Your summary could not be made just now" in html and 'href="/results"' in html
