"""The encrypted answers cookie: bad, foreign, expired and odd cookies, its size, and no leaks."""

from __future__ import annotations

import base64
import logging
import random
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from assessment.config import ROOT
from assessment.domain import Questionnaire
from assessment.domain import QuestionType
from assessment.domain import load_questionnaire
from assessment.domain import parse_answers
from assessment.domain import visible_path
from assessment.web import answers_store
from assessment.web.crypto_session import derive_key
from assessment.web.crypto_session import seal
from assessment.web.crypto_session import sealed_length
from tests.conftest import MINI_GUIDANCE
from tests.web.conftest import COOKIE
from tests.web.conftest import MINI_ANSWERS
from tests.web.conftest import SECRET
from tests.web.conftest import Respondent
from tests.web.conftest import make_app
from tests.web.conftest import one_input
from tests.web.conftest import stored_form
from tests.web.conftest import stub_guidance
from tests.web.conftest import summary_of
from tests.web.conftest import text
from tests.web.conftest import write_questionnaire

EXPIRED = answers_store.EXPIRED_MESSAGE
REAL_QUESTIONS = ROOT / "questions.yaml"
COOKIE_LIMIT = 4093
SENTINEL = "SENTINEL-\u00c6\u00d8-123"


def cookie_value(client: FlaskClient) -> str:
    """Return the session cookie the client holds."""
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None, "no session cookie"
    return cookie.value


def set_cookie_header(response: TestResponse) -> str:
    """Return the session's Set-Cookie header of a response."""
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{COOKIE}=")]
    assert len(headers) == 1, f"expected one session cookie, got {headers}"
    return headers[0]


def assert_fresh_start_with_message(client: FlaskClient) -> None:
    """The answers are gone, the person lands on the start page and reads why, once."""
    response = client.get("/review")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    start = text(client.get("/"))
    assert EXPIRED in start
    assert "You have not answered any questions yet." not in start, "one message is enough"
    assert EXPIRED not in text(client.get("/")), "the message shows once"
    assert 'value="40"' not in text(client.get("/q/about"))


def test_cookie_is_encrypted_and_scoped(respondent: Respondent, client: FlaskClient) -> None:
    respondent.answer("about", age="40", sex="female")
    response = respondent.answer("symptoms", pain="3", notes=SENTINEL)
    header = set_cookie_header(response)
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/" in header
    assert "Max-Age=3600" in header
    value = cookie_value(client)
    for plain in ("SENTINEL", "female", "notes", "answers"):
        assert plain not in value
    decoded = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    assert b"SENTINEL" not in decoded and b"female" not in decoded


def test_tampered_cookie_means_a_fresh_start(respondent: Respondent, client: FlaskClient) -> None:
    respondent.complete()
    value = cookie_value(client)
    middle = len(value) // 2
    flipped = value[:middle] + ("A" if value[middle] != "A" else "B") + value[middle + 1 :]
    client.set_cookie(COOKIE, flipped)
    assert_fresh_start_with_message(client)


@pytest.mark.parametrize("value", ["", "x", "AQ", "!!!not-base64!!!", "A" * 4000])
def test_garbage_cookie_means_a_fresh_start(client: FlaskClient, value: str) -> None:
    client.set_cookie(COOKIE, value)
    for path in ("/", "/q/about", "/review", "/results", "/guidance/"):
        assert client.get(path).status_code in (200, 302)


def test_cookie_from_another_secret_key_is_not_read(client: FlaskClient) -> None:
    other = make_app(SECRET_KEY="a-completely-different-secret-key-9876543210")
    other_client = other.test_client()
    Respondent(other_client).complete()
    client.set_cookie(COOKIE, cookie_value(other_client))
    assert_fresh_start_with_message(client)


def test_expired_cookie_means_a_fresh_start(
    respondent: Respondent, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    respondent.complete()
    assert client.get("/review").status_code == 200
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 61 * 60)
    assert_fresh_start_with_message(client)


def test_activity_keeps_the_cookie_alive(
    respondent: Respondent, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    respondent.complete()
    real = time.time
    for minutes in (40, 80, 120):  # a visit every 40 minutes: idle time never passes 60
        monkeypatch.setattr(time, "time", lambda m=minutes: real() + m * 60)
        assert client.get("/review").status_code == 200


def seal_answers(client: FlaskClient, payload: dict[str, Any]) -> None:
    """Give the client a correctly encrypted cookie holding any payload."""
    client.set_cookie(COOKIE, seal(derive_key(SECRET), payload))


def test_well_encrypted_cookie_with_wrong_types_is_re_parsed(client: FlaskClient) -> None:
    seal_answers(
        client,
        {
            "answers": stored_form(
                {
                    "age": "40",
                    "sex": ["female", "male"],
                    "pregnant": True,
                    "pain": 99,
                    "pain_days": 3.0,
                    "alarms": "black_stool",
                    "dose_g": "snan",
                    "notes": {"nested": "dict"},
                    "loose_share": None,
                    "zzz": 1,
                    "__class__": "x",
                }
            )
        },
    )
    about = text(client.get("/q/about"))
    assert 'id="age"' in about and 'value="40"' in about
    assert "checked" not in about, "a two-valued single answer and a boolean yes/no are dropped"
    # pain (required) was 99: dropped, so the results are not reachable yet.
    assert client.get("/results").headers["Location"] == "/q/symptoms"
    symptoms = text(client.get("/q/symptoms"))
    assert 'value="3"' in symptoms  # pain_days, a whole float, is a fine integer
    assert "checked" in one_input(symptoms, name="alarms", value="black_stool")
    assert "snan" not in symptoms and "nested" not in symptoms and "zzz" not in symptoms


@pytest.mark.parametrize(
    "payload",
    [
        {"answers": "not a dict"},
        {"answers": ["age", 40]},
        {"answers": None},
        {"answers": "z2:!!!!not base64"},
        {"answers": stored_form(raw=b"\x00\x01garbage")},
        {"answers": stored_form(["age", 40])},
        {"answers": {"age": 40}},  # the plain form, no longer read
        {"answers": "z1:" + base64.b85encode(b"\x00\x01garbage").decode()},  # the old base85 form
        {"unrelated": {"age": 40}},
    ],
)
def test_well_encrypted_cookie_with_unreadable_answers_is_empty(
    client: FlaskClient, payload: dict[str, Any]
) -> None:
    seal_answers(client, payload)
    response = client.get("/review")
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_a_compressed_bomb_in_a_well_encrypted_cookie_is_refused(client: FlaskClient) -> None:
    seal_answers(client, {"answers": stored_form(raw=b'{"notes":"' + b"a" * 1_000_000 + b'"}')})
    assert client.get("/review").headers["Location"] == "/"


def max_answers(questionnaire: Questionnaire, text_for: Any) -> dict[str, list[str]]:
    """Return the longest valid answer to every question: text at max length, every box ticked."""
    raw: dict[str, list[str]] = {}
    for qid, q in questionnaire.questions.items():
        if q.type is QuestionType.TEXT:
            raw[qid] = [text_for(q.max_length)]
        elif q.type is QuestionType.MULTI:
            raw[qid] = [o.value for o in q.options if o.value not in q.exclusive]
        elif q.type.has_options:
            raw[qid] = [max((o.value for o in q.options), key=len)]
        elif q.type is QuestionType.NUMBER and q.decimals and q.maximum is not None:
            raw[qid] = [str(q.maximum - Decimal(1).scaleb(-q.decimals))]  # e.g. 99.9: most digits
        else:
            raw[qid] = [str(q.maximum if q.maximum is not None else 10)]
    return raw


@pytest.fixture
def real() -> Questionnaire:
    """The shipped questionnaire (structure only)."""
    return load_questionnaire(REAL_QUESTIONS)


@pytest.fixture
def real_app(real: Questionnaire, tmp_path: Path) -> Flask:
    """The app on the shipped questionnaire (guidance pages stubbed: only sizes matter here)."""
    return make_app(QUESTIONS_PATH=str(REAL_QUESTIONS), GUIDANCE_DIR=str(stub_guidance(tmp_path / "g", real)))


@pytest.mark.parametrize("kind", ["e-acute", "varied-accented-words"])
def test_every_answer_at_its_maximum_fits_in_one_cookie(
    real: Questionnaire, real_app: Flask, kind: str
) -> None:
    rng = random.Random(5)
    words = (
        "après être allé à l'hôpital mon ventre était gonflé crampes nausées glutamine semaines "
        "überall Bauchschmerzen Übelkeit nach dem Essen müde stärker schwächer café thé lait fromage "
        "pâtes légumes naïve señor niño año"
    ).split()

    def text_for(length: int) -> str:
        if kind == "e-acute":
            return "\u00e9" * length  # two bytes in UTF-8, six as a JSON escape
        out = ""
        while len(out) < length:
            out += rng.choice(words) + " "
        return out[:length].rstrip() + "\u00e9" * (length - len(out[:length].rstrip()))

    raw = max_answers(real, text_for)
    parsed = parse_answers(real, raw)
    assert not parsed.errors, parsed.errors  # the worst case must be a valid answer set
    assert sum(1 for q in real.questions.values() if q.type is QuestionType.TEXT) > 0

    client = real_app.test_client()
    with client.session_transaction() as session:
        # Every question answered at once: more than any one person's visible path can hold.
        session["answers"] = answers_store.encode(parsed.answers)
    response = client.get(f"/q/{real.sections[0].id}")  # also writes a CSRF token into the session
    assert response.status_code == 200
    header = set_cookie_header(response)
    assert len(header.encode()) < COOKIE_LIMIT, f"Set-Cookie is {len(header.encode())} bytes"

    # Saving the last page again goes through the size guard: it must accept the same answers.
    path = visible_path(real, parsed.answers)
    last = path.sections[-1]
    fields = {q.id: raw[q.id] for q in path.questions_in(last.id)}
    response = Respondent(client, first_section=real.sections[0].id).post(f"/q/{last.id}", fields)
    assert response.status_code == 302, summary_of(text(response))
    assert len(set_cookie_header(response).encode()) < COOKIE_LIMIT


def test_the_size_guard_measures_the_token_seal_makes_without_encrypting() -> None:
    # fits_in_cookie works the length out from the plaintext: it must be the sealed token's, for
    # every remainder of base64's groups of three, non-ASCII text and any session start.
    rng = random.Random(11)
    key = derive_key(SECRET)
    for size in range(0, 3000, 7):
        text_value = "".join(rng.choice('ab\u00e9\u20ac"\\<') for _ in range(size))
        payload = {"answers": text_value, "csrf_token": "f" * 40, "at": "2026-11-30"}
        now = 1_800_000_000 + rng.randrange(10**6)
        started = now - rng.randrange(8 * 3600)
        assert sealed_length(payload, now=now, started=started) == len(seal(key, payload, now, started))
    assert sealed_length({}) == len(seal(key, {}))


LONG_TEXT = """
meta: {id: long, version: "1", title: Long text check}
sections:
  - id: about
    title: About you
    questions:
      - id: story
        type: text
        label: Tell us everything
        max_length: 2000
        multiline: true
"""


def test_text_too_big_for_the_cookie_is_refused_kindly(tmp_path: Path) -> None:
    app = make_app(
        QUESTIONS_PATH=str(write_questionnaire(tmp_path, LONG_TEXT)), GUIDANCE_DIR=str(MINI_GUIDANCE)
    )
    client = app.test_client()
    person = Respondent(client)
    rng = random.Random(3)
    letters = [chr(c) for c in range(0x0100, 0x0180)]  # 2-byte letters that compress badly
    story = "".join(rng.choice(letters) for _ in range(2000))
    response = person.answer("about", story=story)
    assert response.status_code == 200
    html = text(response)
    assert summary_of(html) == [f"Tell us everything \u2013 {answers_store_message()}"]
    assert story in html, "the person's text is kept on the page to shorten"
    for header in response.headers.getlist("Set-Cookie"):
        assert len(header.encode()) < COOKIE_LIMIT
    response = person.answer("about", story=story[:600])
    assert response.status_code == 302


def answers_store_message() -> str:
    """Return the message shown when the answers would not fit in the cookie."""
    from assessment.web.questionnaire import TOO_LONG_MESSAGE

    return TOO_LONG_MESSAGE


def test_nothing_about_the_person_is_logged(
    app: Flask, respondent: Respondent, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    respondent.complete(MINI_ANSWERS | {"notes": SENTINEL})
    respondent.answer("symptoms", pain="zz", notes=SENTINEL)  # an error page too
    client.post("/q/about", data={"age": SENTINEL})  # a CSRF failure
    for path in ("/review", "/results", "/guidance/", "/nope"):
        client.get(path)
    assert SENTINEL in text(client.get("/review")), "not vacuous: the sentinel was stored"
    assert "SENTINEL" not in caplog.text


def test_the_cookie_is_secure_over_https_even_outside_production() -> None:
    """A page served over HTTPS sets a Secure cookie; plain HTTP in development does not."""
    from tests.web.conftest import make_app

    client = make_app().test_client()
    over_https = client.get("/q/about", base_url="https://localhost")
    assert "Secure" in over_https.headers["Set-Cookie"]
    plain = make_app().test_client().get("/q/about")
    assert "Secure" not in plain.headers["Set-Cookie"]
    assert "HttpOnly" in plain.headers["Set-Cookie"] and "SameSite=Lax" in plain.headers["Set-Cookie"]
