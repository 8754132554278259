"""Issue 15: uploads with a budget, API errors as problem documents, sessions, proxies, form limits.

Each test here fails when its fix is taken away (checked by reverting each fix once).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import time
from typing import Any

import pytest
from flask import Flask
from flask import request
from flask.testing import FlaskClient
from pypdf.generic import _files as pypdf_files

from assessment import ConfigError
from assessment.domain import QuestionType
from assessment.domain import parse_answers
from assessment.domain import visible_path
from assessment.report import embedded_answers as saved_file
from assessment.web import api
from assessment.web.crypto_session import HOST_PREFIX
from assessment.web.state import state
from tests import hostile_files
from tests.web.conftest import COOKIE
from tests.web.conftest import SECRET
from tests.web.conftest import Respondent
from tests.web.conftest import csrf_token
from tests.web.conftest import make_app
from tests.web.conftest import text
from tests.web.test_portable import P1
from tests.web.test_portable import document
from tests.web.test_portable import start_error
from tests.web.test_portable import stored
from tests.web.test_portable import upload

PROBLEM = "application/problem+json"
CORPUS = hostile_files.corpus()


# Uploads with a budget


@pytest.mark.parametrize("name", list(CORPUS))
def test_every_hostile_file_is_refused_quickly_with_the_right_message(real_app: Flask, name: str) -> None:
    """Each file is refused with its own message: by the limits, not by the time budget (TOO_SLOW)."""
    data, expected = CORPUS[name]
    client = real_app.test_client()
    response = upload(client, data, filename="summary.pdf", mime="application/pdf")
    assert response.status_code == 400
    assert start_error(response) == expected
    assert stored(client) == {}


def test_the_hostile_corpus_is_not_vacuous(real_app: Flask) -> None:
    """The same builders with good content are accepted: the corpus fails for its hostility only."""
    meta = state(real_app).questionnaire.meta
    client = real_app.test_client()
    good = hostile_files.pdf_with_answers(document(P1, qid=meta.id, version=meta.version))
    response = upload(client, good, filename="a.pdf", mime="application/pdf")
    assert response.status_code == 302
    assert stored(client) == P1


def test_the_recovery_bomb_is_stopped_by_the_pypdf_limit_itself() -> None:
    """In-process, without the budget: the explicit recovery limit refuses it (pypdf's default 5 MB
    would grind through it for seconds and hand back an empty "answers.json")."""
    code, _, payload = saved_file.read_attachment(hostile_files.recovery_bomb())
    assert (code, payload) == (b"B", b"")


def test_only_the_first_answers_json_is_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ten attachments named answers.json: one is decoded, not ten."""
    decoded: list[str] = []
    real = pypdf_files.EmbeddedFile.content

    def counting(self: Any) -> bytes:
        decoded.append(self.name)
        return real.fget(self)  # type: ignore[no-any-return]

    monkeypatch.setattr(pypdf_files.EmbeddedFile, "content", property(counting))
    data = hostile_files.with_embedded([(b"answers.json", hostile_files.answers_document(), b"")] * 10)
    code, _, payload = saved_file.read_attachment(data)
    assert code == b"A" and payload == hostile_files.answers_document()
    assert decoded == ["answers.json"]


def slow_parse(data: bytes) -> tuple[bytes, int, bytes]:
    """A parse that never ends in time."""
    time.sleep(30)
    return b"B", 0, b""


def test_a_parse_past_the_budget_is_stopped_and_the_worker_goes_on(
    real_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(saved_file, "read_attachment", slow_parse)
    monkeypatch.setattr(saved_file, "PARSE_BUDGET_S", 0.5)
    client = real_app.test_client()
    response = upload(client, hostile_files.pdf_with_answers(), filename="a.pdf", mime="application/pdf")
    assert response.status_code == 400 and start_error(response) == saved_file.TOO_SLOW
    assert client.get("/healthz").status_code == 200


def crash(data: bytes) -> tuple[bytes, int, bytes]:
    """A parse that kills its process (as a segfault in a C extension would)."""
    os.kill(os.getpid(), signal.SIGKILL)
    return b"A", 0, b"{}"


def greedy(data: bytes) -> tuple[bytes, int, bytes]:
    """A parse that takes gigabytes of memory, then succeeds."""
    hog = bytearray(3 * 1024**3)
    return b"A", len(hog) // 2**40, hostile_files.answers_document()


@pytest.mark.parametrize("parse", [crash, greedy], ids=["crash", "memory"])
def test_a_parse_that_crashes_or_hogs_memory_costs_only_its_child(
    real_app: Flask, monkeypatch: pytest.MonkeyPatch, parse: Any
) -> None:
    monkeypatch.setattr(saved_file, "read_attachment", parse)
    client = real_app.test_client()
    response = upload(client, hostile_files.pdf_with_answers(), filename="a.pdf", mime="application/pdf")
    assert response.status_code == 400 and start_error(response) == saved_file.BROKEN_PDF
    assert client.get("/healthz").status_code == 200


def test_pypdf_complaints_are_counted_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    """A name tree with 5,000 broken entries: thousands of pypdf warnings, none of them written."""
    caplog.set_level(logging.DEBUG)
    code, complaints, _ = saved_file.read_attachment(hostile_files.noisy_name_tree())
    assert code == b"N" and complaints >= 1_000
    assert [r for r in caplog.records if r.name.startswith("pypdf")] == []


def test_a_hostile_upload_writes_one_log_line(real_app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    upload(real_app.test_client(), hostile_files.noisy_name_tree(), filename="a.pdf", mime="application/pdf")
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "reported" in lines[0], lines


def test_an_answers_file_whose_text_mentions_pdf_is_read_as_json(real_app: Flask) -> None:
    """Sniffing looks at offset 0 only: %PDF- early in the free text does not make a PDF."""
    questionnaire = state(real_app).questionnaire
    raw = {k: v if isinstance(v, list) else [v] for k, v in P1.items()}
    path = visible_path(questionnaire, parse_answers(questionnaire, raw).answers)
    qid = next(q.id for q in path.questions if q.type is QuestionType.TEXT)
    mention = "%PDF-1.7 is what my scanner writes; is that right?"
    answers = {qid: mention} | {k: v for k, v in P1.items() if k != qid}
    data = document(answers, qid=questionnaire.meta.id, version=questionnaire.meta.version)
    assert b"%PDF-" in data[:1024]
    client = real_app.test_client()
    response = upload(client, data)
    assert response.status_code == 302
    assert stored(client)[qid] == mention


# Form limits for urlencoded posts too


def test_a_urlencoded_form_over_the_memory_limit_gives_the_413_page(client: FlaskClient) -> None:
    limit = client.application.config["MAX_FORM_MEMORY_SIZE"]
    body = "notes=" + "x" * limit
    assert len(body) < client.application.config["MAX_CONTENT_LENGTH"]
    response = client.post("/q/about", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413 and "That was too much to send" in text(response)


def test_a_urlencoded_form_with_too_many_fields_gives_the_413_page(client: FlaskClient) -> None:
    parts = client.application.config["MAX_FORM_PARTS"]
    body = "&".join(f"f{i}=1" for i in range(parts + 1))
    assert len(body) < client.application.config["MAX_FORM_MEMORY_SIZE"]
    response = client.post("/q/about", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413


def test_an_ordinary_urlencoded_form_still_works(respondent: Respondent) -> None:
    assert respondent.answer("about", age="40", sex="female").status_code == 302


# API errors are problem documents, always


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """Check an RFC 9457 problem document with no traceback; return it."""
    assert response.status_code == status
    assert response.mimetype == PROBLEM
    body: dict[str, Any] = json.loads(response.get_data(as_text=True))
    assert body["status"] == status and body["type"] == "about:blank"
    assert body["title"] and body["detail"] and body["error"]
    assert "Traceback" not in response.get_data(as_text=True)
    return body


@pytest.mark.parametrize("path", ["/api/v1/assessments", "/api/v1/report"])
def test_json_nested_a_thousand_deep_is_a_400_problem(client: FlaskClient, path: str) -> None:
    body = "[" * 1000 + "]" * 1000
    response = client.post(path, data=body, content_type="application/json")
    assert assert_problem(response, 400)["error"] == "malformed_json"


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("post", "/api/v1/assessments", {"data": "{", "content_type": "application/json"}, 400),
        ("get", "/api/v1/nothing", {}, 404),
        ("delete", "/api/v1/assessments", {}, 405),
        ("post", "/api/v1/assessments", {"data": "x" * 3_000_000, "content_type": "application/json"}, 413),
        ("post", "/api/v1/assessments", {"data": "a=1", "content_type": "text/plain"}, 415),
        ("post", "/api/v1/assessments", {"json": {"answers": {"age": "old"}}}, 422),
    ],
)
def test_every_api_4xx_is_a_problem_document(
    client: FlaskClient, method: str, path: str, kwargs: dict[str, Any], status: int
) -> None:
    assert_problem(getattr(client, method)(path, **kwargs), status)


def test_api_405_says_what_is_allowed(client: FlaskClient) -> None:
    response = client.get("/api/v1/assessments")
    assert_problem(response, 405)
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == {"POST", "OPTIONS"}


def test_an_unexpected_api_failure_is_a_500_problem_without_details(monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app()
    app.testing = False  # let the error handler answer instead of raising into the test
    app.logger.disabled = True  # the traceback is expected in the log

    def kaput(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("kaput-secret-detail")

    monkeypatch.setattr(api, "questionnaire_json", kaput)
    response = app.test_client().get("/api/v1/questionnaire")
    body = assert_problem(response, 500)
    assert "kaput" not in json.dumps(body)


def test_the_api_never_sets_or_refreshes_a_cookie(respondent: Respondent, client: FlaskClient) -> None:
    """A request carrying the session cookie (or a stale one) gets no Set-Cookie back from the API."""
    respondent.answer("about", age="40", sex="female")
    assert client.get_cookie(COOKIE) is not None
    for response in (
        client.post("/api/v1/assessments", json={"answers": {"age": "40"}}),
        client.get("/api/v1/questionnaire"),
        client.get("/api/v1/nothing"),
    ):
        assert "Set-Cookie" not in response.headers
    client.set_cookie(COOKIE, "stale-or-tampered")
    assert "Set-Cookie" not in client.get("/api/v1/openapi.json").headers


# Sessions: absolute lifetime, __Host- name, key rotation


REAL_TIME = time.time


def at(monkeypatch: pytest.MonkeyPatch, minutes: float) -> None:
    """Move the clock `minutes` ahead of now."""
    monkeypatch.setattr(time, "time", lambda: REAL_TIME() + minutes * 60)


def test_an_active_session_still_ends_at_its_absolute_lifetime(
    respondent: Respondent, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    respondent.complete()
    hours = client.application.config["SESSION_ABSOLUTE_HOURS"]
    minute = 40
    while minute < hours * 60:  # a visit every 40 minutes: the idle limit never bites
        at(monkeypatch, minute)
        assert client.get("/review").status_code == 200, f"ended early, at {minute} minutes"
        minute += 40
    at(monkeypatch, hours * 60 + 5)
    assert client.get("/review").status_code == 302


def test_a_cookie_copied_before_clearing_dies_at_the_absolute_lifetime(
    respondent: Respondent, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The copy works while it is used (no server state can revoke it), but not past the limit."""
    respondent.complete()
    hours = client.application.config["SESSION_ABSOLUTE_HOURS"]
    thief = client.application.test_client()
    for minute in range(30, hours * 60, 30):
        at(monkeypatch, minute)
        copied = client.get_cookie(COOKIE)
        assert copied is not None
        thief.set_cookie(COOKIE, copied.value)
        client.get("/review")
    at(monkeypatch, hours * 60 + 1)
    assert thief.get("/review").status_code == 302


def test_a_secure_cookie_is_named_host_and_read_back(client: FlaskClient) -> None:
    app = make_app(SESSION_COOKIE_DOMAIN="gutcheck.example")
    https = app.test_client()
    response = https.get("/q/about", base_url="https://gutcheck.example")
    header = response.headers["Set-Cookie"]
    assert header.startswith(f"{HOST_PREFIX}{COOKIE}=")
    assert "Secure" in header and "Path=/" in header and "Domain" not in header
    token_page = https.get("/q/about", base_url="https://gutcheck.example")
    posted = https.post(
        "/q/about",
        data={"csrf_token": csrf_token(text(token_page)), "age": "40", "sex": "female"},
        base_url="https://gutcheck.example",
        headers={"Referer": "https://gutcheck.example/q/about"},
    )
    assert posted.status_code == 302, text(posted)
    assert 'value="40"' in text(https.get("/q/about", base_url="https://gutcheck.example"))
    plain = client.get("/q/about").headers["Set-Cookie"]
    assert plain.startswith(f"{COOKIE}=")


def test_an_old_key_still_decrypts_and_the_current_one_encrypts(monkeypatch: pytest.MonkeyPatch) -> None:
    old = make_app().test_client()
    Respondent(old).complete()
    cookie = old.get_cookie(COOKIE)
    assert cookie is not None

    new_key = "the-new-secret-key-after-rotation-0123456789"
    rotated = make_app(SECRET_KEY=new_key, SECRET_KEY_FALLBACKS=[SECRET]).test_client()
    rotated.set_cookie(COOKIE, cookie.value)
    assert rotated.get("/review").status_code == 200, "the old key still decrypts"
    resealed = rotated.get_cookie(COOKIE)
    assert resealed is not None and resealed.value != cookie.value

    only_new = make_app(SECRET_KEY=new_key).test_client()
    only_new.set_cookie(COOKIE, resealed.value)
    assert only_new.get("/review").status_code == 200, "the current key encrypts"
    only_new_again = make_app(SECRET_KEY=new_key).test_client()
    only_new_again.set_cookie(COOKIE, cookie.value)
    assert only_new_again.get("/review").status_code == 302, "without the fallback the old cookie is gone"


def test_key_fallbacks_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    old = make_app().test_client()
    Respondent(old).complete()
    cookie = old.get_cookie(COOKIE)
    assert cookie is not None
    monkeypatch.setenv("GUTCHECK_SECRET_KEY_FALLBACKS", f"an-older-key,{SECRET}")
    rotated = make_app(SECRET_KEY="the-new-secret-key-after-rotation-0123456789").test_client()
    rotated.set_cookie(COOKIE, cookie.value)
    assert rotated.get("/review").status_code == 200


# ProxyFix, configured by GUTCHECK_PROXY_FIX


FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Host": "localhost"}


def test_forwarded_headers_are_ignored_by_default(client: FlaskClient) -> None:
    response = client.get("/q/about", headers=FORWARDED)
    assert response.headers["Set-Cookie"].startswith(f"{COOKIE}=")
    assert "Secure" not in response.headers["Set-Cookie"]
    assert "Strict-Transport-Security" not in response.headers


def test_one_trusted_proxy_makes_https_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUTCHECK_PROXY_FIX", "1")
    app = make_app()
    seen: list[str | None] = []
    app.before_request(lambda: seen.append(request.remote_addr))
    response = app.test_client().get("/q/about", headers=FORWARDED)
    header = response.headers["Set-Cookie"]
    assert header.startswith(f"{HOST_PREFIX}{COOKIE}=") and "Secure" in header
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert seen == ["203.0.113.9"]


@pytest.mark.parametrize("value", ["-1", '"two"', "1.5"])
def test_a_bad_proxy_fix_setting_stops_the_start(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("GUTCHECK_PROXY_FIX", value)
    with pytest.raises(ConfigError, match="GUTCHECK_PROXY_FIX"):
        make_app()


def test_a_form_post_behind_the_proxy_passes_the_referer_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTPS on the default port: the Referer "https://name/..." matches the host the app sees."""
    monkeypatch.setenv("GUTCHECK_PROXY_FIX", "1")
    client = make_app().test_client()
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "gutcheck.example"}
    forwarded["X-Forwarded-Port"] = "443"
    page = client.get("/q/about", headers=forwarded)
    token = csrf_token(text(page))
    cookie = page.headers["Set-Cookie"].split(";", 1)[0]
    posted = client.post(
        "/q/about",
        data={"csrf_token": token, "age": "40", "sex": "female"},
        headers={**forwarded, "Referer": "https://gutcheck.example/q/about", "Cookie": cookie},
    )
    assert posted.status_code == 302, text(posted)
