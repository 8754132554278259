"""The question page's fast paths give what the slow ways give: stored answers checked without the
parser, base85, the CSRF token, the pre-rendered section pages and the missing-answers check."""

from __future__ import annotations

import hashlib
import os
import random
import re
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask import g
from flask import session
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from flask_wtf.csrf import validate_csrf
from itsdangerous import URLSafeTimedSerializer
from werkzeug.test import TestResponse

from assessment import create_app
from assessment.config import ROOT
from assessment.domain import Answers
from assessment.domain import QuestionType
from assessment.domain import parse_answers
from assessment.prerender import Prerender
from assessment.prerender import csrf_input
from assessment.prerender.pages import CSRF_SALT
from assessment.prerender.pages import CsrfSerializer
from assessment.web import answers_store
from assessment.web.crypto_session import derive_key
from assessment.web.crypto_session import seal
from assessment.web.state import state
from tests.casefiles import load_case
from tests.casefiles import raw_of
from tests.conftest import MINI
from tests.conftest import MINI_GUIDANCE
from tests.web.conftest import MINI_ANSWERS
from tests.web.conftest import SECRET
from tests.web.conftest import Respondent
from tests.web.conftest import generic_answers
from tests.web.conftest import make_app
from tests.web.conftest import stored_form
from tests.web.conftest import text
from tests.web.conftest import write_questionnaire

# A raw token as Flask-WTF makes one: the SHA-1 hex digest of 64 random bytes.
RAW_TOKEN = "3f786850e387550fdab836ed7e6dc881de23001b"
B85_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~"
TOKEN = re.compile(r'(name="csrf_token" type="hidden" value=")[^"]+(")')
ODD_VALUES: list[Any] = [
    None, True, False, 0, -1, 7, 11, 999_999, 1_000_000, 2.5, 7.0, 1e-5, "", " ", "7", " 7", "yes", "no",
    "none", [], [""], ["none"], ["none", "none"], {}, "a\u200bb", "e\u0301", "caf\u00e9", "x" * 300,
    "line\nline", "tab\tx", " pad", "pad ", "\ud800", "<b>&</b>", "\r\n", "ok\x00", "\u00a0nbsp",
]  # fmt: skip


def _reference(app: Flask, data: dict[str, Any]) -> Answers:
    """What loading stored answers gave before the fast path: everything through parse_answers."""
    questionnaire = state(app).questionnaire
    raw = {
        qid: list(value) if isinstance(value, list) else [value]
        for qid, value in data.items()
        if qid in questionnaire.questions
    }
    return parse_answers(questionnaire, raw).answers


def _odd_values(question: Any) -> list[Any]:
    values = list(ODD_VALUES)
    options = [opt.value for opt in question.options]
    if options:
        values += [*options, options[::-1], options[:2], options[-1:], [options[0], options[0]]]
    for bound in (question.minimum, question.maximum):
        if bound is not None:
            values += [int(bound), int(bound) - 1, int(bound) + 1, float(bound) + 0.5]
    if question.type is QuestionType.TEXT:
        values += ["a" * question.max_length, "a" * (question.max_length + 1), "Words.\nMore", "x\ty"]
    return values


def test_stored_answers_are_checked_to_exactly_what_the_parser_gives(real_app: Flask) -> None:
    """Same answers, same types and decimal places, same order; bad values dropped the same way."""
    questions = list(state(real_app).questionnaire.questions.values())
    rng = random.Random(7)
    with real_app.test_request_context("/"):
        for _ in range(1500):
            data = {
                q.id: rng.choice(_odd_values(q))
                for q in rng.sample(questions, rng.randint(0, len(questions)))
            }
            data["not_a_question"] = 1
            items = list(data.items())
            rng.shuffle(items)
            data = dict(items)
            expected = _reference(real_app, data)
            got = answers_store._parse_stored(stored_form(data))
            assert list(got.items()) == list(expected.items())
            assert [repr(v) for v in got.values()] == [repr(v) for v in expected.values()]
        # A whole valid set, stored as the app stores it, comes back as it was.
        answers = _reference(real_app, generic_answers(state(real_app).questionnaire))
        assert list(answers_store._parse_stored(answers_store.encode(answers)).items()) == list(
            answers.items()
        )


def _normalised(html: str) -> str:
    return TOKEN.sub(r"\1TOKEN\2", html)


# Odd text to escape, and a same-page condition that also reads an earlier page (data-known).
CROSS_PAGE = """
meta: {id: cross, version: "1", title: Cross <page> & "checks"}
sections:
  - id: first
    title: First & <one>
    intro: Some "intro" text.
    questions:
      - {id: age, type: integer, label: Age, required: true, min: 0, max: 120, unit: years}
      - {id: mood, type: text, label: Mood <b>, max_length: 40}
  - id: second
    title: Second
    questions:
      - {id: pain, type: scale, label: Pain, min_label: None, max_label: Worst}
      - id: more
        type: yes_no
        label: More?
        visible_if: (answers.pain ?? 0) > 3 and (answers.age ?? 0) > 30 and answers.mood == 'ok'
"""
CROSS_ANSWERS = {"age": "40", "mood": "ok", "pain": "5", "more": "yes"}


@pytest.mark.parametrize("case", ["real", "real-empty", "cross-page"])
def test_pre_rendered_section_pages_equal_the_templates(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every section page, with and without return=review (and a row), is the same with and without
    shells."""
    used: list[object] = []
    shell = Prerender.shell

    def spy(*args: Any) -> Any:
        found = shell(*args)
        used.append(found)
        return found

    monkeypatch.setattr(Prerender, "shell", spy)
    config: dict[str, Any] = {"TESTING": True, "SECRET_KEY": SECRET}
    if case == "cross-page":
        config["QUESTIONS_PATH"] = str(write_questionnaire(tmp_path, CROSS_PAGE))
        config["GUIDANCE_DIR"] = str(MINI_GUIDANCE)
    fast = create_app(config)
    slow = create_app({**config, "PRERENDER": False})
    questionnaire = state(fast).questionnaire
    client = fast.test_client()
    if case != "real-empty":
        answers = CROSS_ANSWERS if case == "cross-page" else generic_answers(questionnaire)
        Respondent(client, first_section=questionnaire.sections[0].id).complete(answers)
    cookie = client.get_cookie("gutcheck")
    other = slow.test_client()
    pages = 0
    for current in questionnaire.sections:
        for suffix in ("", "?return=review", f"?return=review&row={current.questions[-1].id}"):
            for one in (client, other):
                if cookie is not None:
                    one.set_cookie("gutcheck", cookie.value)
            got, expected = client.get(f"/q/{current.id}{suffix}"), other.get(f"/q/{current.id}{suffix}")
            assert got.status_code == expected.status_code
            assert got.headers.get("Location") == expected.headers.get("Location")
            assert _normalised(text(got)) == _normalised(text(expected))
            pages += got.status_code == 200
    assert pages >= (2 if case == "real-empty" else len(questionnaire.sections))
    assert sum(found is not None for found in used) >= pages - 1  # all but a page showing a message
    shells = state(fast).prerender.shells
    assert shells, "no section page was pre-rendered"
    assert not state(slow).prerender.shells
    if case == "cross-page":
        assert ("second", False, True) in shells
        assert "data-known=" in text(client.get("/q/second"))


def test_section_page_links_are_made_once_for_every_variant(real_app: Flask) -> None:
    """Step, Back link and form action, made at the first page for every variant, are the ones the
    page shows; a request under another path (SCRIPT_NAME) works out its own."""
    pages = state(real_app).prerender
    sections = pages.questionnaire.sections
    first, second, third = sections[:3]
    row = third.questions[-1].id
    with real_app.test_request_context("/"):
        after = pages.section_nav((third.id, second.id, False, ""))
        assert after is pages.section_nav((third.id, second.id, False, ""))
        assert after.values == {
            "step": 3,
            "steps": len(sections),
            "back_url": f"/q/{second.id}",
            "back_text": "Back",
            "action": f"/q/{third.id}",
        }
        assert after.html["step"] == b"3" and after.html["back_url"] == f"/q/{second.id}".encode()
        assert pages.section_nav((first.id, "", False, "")).values["back_url"] == "/"
        review = pages.section_nav((third.id, "", True, row))
        assert review is pages.section_nav((third.id, "", True, row))
        assert (review.values["back_url"], review.values["back_text"]) == ("/review", "Back to your answers")
        assert review.html["action"] == f"/q/{third.id}?return=review&amp;row={row}".encode()
    with real_app.test_request_context("/", base_url="http://localhost/sub/"):
        assert pages.section_nav((third.id, second.id, False, "")).values["back_url"] == f"/sub/q/{second.id}"


def test_a_flashed_message_is_shown_on_a_pre_rendered_page(real_app: Flask) -> None:
    client = real_app.test_client()
    first = state(real_app).questionnaire.sections[0].id
    client.get(f"/q/{first}")
    client.set_cookie("gutcheck", "not-a-valid-cookie")
    html = text(client.get(f"/q/{first}"))
    assert answers_store.EXPIRED_MESSAGE in html
    assert 'class="notice notice--info"' in html


CASES = sorted((ROOT / "tests" / "cases").glob("*.yaml"))
# Answers given on one day and restored on a later one: the page then asks to check them.
RESTORED = "2026-06-01 2026-06-03"


@pytest.fixture(scope="module")
def results_apps() -> tuple[Flask, Flask]:
    """The app with and without the pre-rendered results pages."""
    config: dict[str, Any] = {"TESTING": True, "SECRET_KEY": SECRET}
    return create_app(config), create_app({**config, "PRERENDER": False})


@pytest.mark.parametrize("dates", [None, RESTORED])
@pytest.mark.parametrize("case", CASES, ids=[p.stem for p in CASES])
def test_pre_rendered_results_equal_the_templates(
    case: Path, dates: str | None, results_apps: tuple[Flask, Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The results page joined from its pre-rendered variant is, byte for byte, the templates' page."""
    fast, slow = results_apps
    questionnaire = state(fast).questionnaire
    answers = parse_answers(questionnaire, raw_of(load_case(case)["answers"])).answers
    payload = {answers_store.KEY: answers_store.encode(answers)}
    if dates is not None:
        payload[answers_store.DATES_KEY] = dates
    joined: list[str | None] = []
    page = Prerender.results_page

    def spy(*args: Any) -> Any:
        joined.append(page(*args))
        return joined[-1]

    monkeypatch.setattr(Prerender, "results_page", spy)
    got, expected = [], []
    for app, responses in ((fast, got), (slow, expected)):
        client = app.test_client()
        client.set_cookie("gutcheck", seal(derive_key(SECRET), payload))
        responses.append(client.get("/results"))
    assert got[0].status_code == expected[0].status_code
    assert got[0].headers.get("Location") == expected[0].headers.get("Location")
    assert text(got[0]) == text(expected[0])
    if got[0].status_code == 200:
        assert joined[0] is not None, "no pre-rendered variant fits this page"
        assert joined[1] is None and not state(slow).prerender.results_built
        assert ("please check those answers" in text(got[0])) == (dates is not None)


def test_every_results_variant_is_shown_by_some_case(results_apps: tuple[Flask, Flask]) -> None:
    """The cases reach the alarm list, one and several cards held back, and a page with no cards."""
    fast, _ = results_apps
    seen = set()
    for case in CASES:
        answers = parse_answers(state(fast).questionnaire, raw_of(load_case(case)["answers"])).answers
        client = fast.test_client()
        client.set_cookie(
            "gutcheck", seal(derive_key(SECRET), {answers_store.KEY: answers_store.encode(answers)})
        )
        html = text(client.get("/results"))
        seen.add(("alarms", 'class="alarm-list"' in html))
        seen.add(("held", "held back 1 other suggestion " in html, "other suggestions" in html))
    assert ("alarms", True) in seen and ("held", True, False) in seen and ("held", False, True) in seen


def results_both_ways(
    tmp_path: Path, yaml_text: str, answers: dict[str, Any]
) -> tuple[Flask, list[TestResponse]]:
    """GET /results with these answers in the cookie, from this questionnaire with PRERENDER on
    and off; return the pre-rendering app and both responses."""
    config: dict[str, Any] = {
        "TESTING": True,
        "SECRET_KEY": SECRET,
        "QUESTIONS_PATH": str(write_questionnaire(tmp_path, yaml_text)),
        "GUIDANCE_DIR": str(MINI_GUIDANCE),
    }
    fast, slow = create_app(config), create_app({**config, "PRERENDER": False})
    parsed = parse_answers(state(fast).questionnaire, raw_of(answers)).answers
    responses = []
    for app in (fast, slow):
        client = app.test_client()
        client.set_cookie(
            "gutcheck", seal(derive_key(SECRET), {answers_store.KEY: answers_store.encode(parsed)})
        )
        responses.append(client.get("/results"))
    return fast, responses


def test_a_score_too_wide_to_list_is_filled_in_per_request(tmp_path: Path) -> None:
    """A score with too many values to make at start-up gets its chart and row filled in instead."""
    wide = MINI.read_text(encoding="utf-8")
    for before, after in [
        ("range: [0, 100]", "range: [0, 100000]\n    decimals: 2"),
        ("{min: 0, max: 49, label: lower}", "{min: 0, max: 49.99, label: lower}"),
        ("{min: 50, max: 100, label: higher}", "{min: 50, max: 100000, label: higher}"),
    ]:
        wide = wide.replace(before, after)
    fast, responses = results_both_ways(tmp_path, wide, MINI_ANSWERS)
    pages = [text(response) for response in responses]
    assert pages[0] == pages[1]
    assert re.search(r"<strong>\d+\.\d\d</strong> out of 100000", pages[0]), "the total is not on the page"
    with fast.test_request_context("/results"):
        parts = state(fast).prerender.results_parts()
    assert parts is not None
    assert {score_id for score_id, _ in parts.score_html} == {"pain"}


def test_a_variant_that_changes_only_the_level_keeps_its_rules_message(tmp_path: Path) -> None:
    """A variant without a message of its own fires with its rule's message, on a pre-rendered card too."""
    yaml_text = MINI.read_text(encoding="utf-8").replace(
        "        message: Your daily amount is above the highest amount monographs mention.\n", ""
    )
    _, responses = results_both_ways(tmp_path, yaml_text, MINI_ANSWERS | {"dose_g": "50"})
    assert [response.status_code for response in responses] == [200, 200]
    pages = [text(response) for response in responses]
    assert pages[0] == pages[1]
    assert "above the level studied as safe for healthy adults" in pages[0]


def test_every_questions_error_link_and_change_link_reach_its_first_input(real_app: Flask) -> None:
    # The error summary takes the id from the pre-rendered markup, the review page's Change links
    # from the form: both must name the input the macro wrote first.
    from assessment.web import forms

    for qid, markup in state(real_app).prerender.questions.items():
        first = markup.first_input_id
        assert first == forms.first_input_id(markup.question), qid
        html = str(markup.render(None, ("An error.",)))
        assert html.count(f'id="{first}"') == 1, f"{qid}: no input with id {first}"
        assert re.search(rf'<(input|textarea)[^>]*\bid="{re.escape(first)}"', html), qid


def _page_token(response: TestResponse) -> str:
    found = TOKEN.search(text(response))
    assert found is not None, "the page has no CSRF input"
    return text(response)[found.end(1) : found.start(2)]


def test_a_pages_csrf_token_is_the_one_flask_wtf_signs_in_the_same_second(
    real_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(time, "time", lambda: 1_800_000_000.0)  # itsdangerous stamps whole seconds
    client = real_app.test_client()
    first = client.get("/q/" + state(real_app).questionnaire.sections[0].id)
    second = client.get("/q/" + state(real_app).questionnaire.sections[0].id)
    with client.session_transaction() as stored:
        raw = stored["csrf_token"]
    with real_app.test_request_context():
        session["csrf_token"] = raw
        expected = generate_csrf()
        validate_csrf(_page_token(second))  # raises when Flask-WTF would refuse the post
    # The first page made the session's raw token through Flask-WTF; the second signed it itself.
    assert _page_token(second) == expected
    assert _page_token(first) == expected


def test_a_post_with_the_pages_token_is_accepted_and_a_forged_one_refused(real_app: Flask) -> None:
    client = real_app.test_client()
    section = state(real_app).questionnaire.sections[0].id
    client.get(f"/q/{section}")
    token = _page_token(client.get(f"/q/{section}"))
    assert client.post(f"/q/{section}", data={"csrf_token": token}).status_code in (200, 302, 303)
    forged = URLSafeTimedSerializer("another key", salt=CSRF_SALT).dumps("0" * 40)
    assert client.post(f"/q/{section}", data={"csrf_token": forged}).status_code == 400


@pytest.mark.parametrize("name", ["csrf_token", 'odd"<name>&'])
def test_the_csrf_input_is_the_one_flask_form_writes(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "time", lambda: 1_800_000_000.0)  # itsdangerous stamps whole seconds
    app = make_app(WTF_CSRF_FIELD_NAME=name)
    with app.test_request_context("/"):
        session[name] = RAW_TOKEN  # a raw token made by an earlier page: this one signs it itself
        html = csrf_input()
        g.pop(name)  # Flask-WTF then signs it again for the form
        assert html == str(FlaskForm()[name])


def test_tokens_signed_without_the_zlib_attempt_are_the_tokens_flask_wtf_signs() -> None:
    # The page's serializer skips itsdangerous's compression attempt: for every raw token of the
    # kind Flask-WTF makes, the stock serializer never keeps the compressed form either.
    stock = URLSafeTimedSerializer(SECRET, salt=CSRF_SALT)
    ours = CsrfSerializer(SECRET, salt=CSRF_SALT)
    for _ in range(2000):
        raw = hashlib.sha1(os.urandom(64)).hexdigest()
        assert ours.dump_payload(raw) == stock.dump_payload(raw)


def test_the_signer_kept_between_tokens_signs_as_a_new_one_would(monkeypatch: pytest.MonkeyPatch) -> None:
    # The page's serializer keeps one signer, with its key derived once, for all its tokens.
    monkeypatch.setattr(time, "time", lambda: 1_800_000_000.0)  # itsdangerous stamps whole seconds
    for key in (SECRET, "another key"):
        stock = URLSafeTimedSerializer(key, salt=CSRF_SALT)
        ours = CsrfSerializer(key, salt=CSRF_SALT)
        for raw in (RAW_TOKEN, hashlib.sha1(key.encode()).hexdigest()):
            assert [ours.dumps(raw), ours.dumps(raw)] == [stock.dumps(raw)] * 2
            assert stock.loads(ours.dumps(raw)) == raw
        # A token for another purpose (another salt) is signed with that salt's key, not the kept one.
        other = URLSafeTimedSerializer(key, salt="other")
        assert ours.dumps(RAW_TOKEN, salt="other") == other.dumps(RAW_TOKEN)


@pytest.mark.parametrize("raw", ["0" * 40, "ab" * 20, "x" * 300])
def test_a_token_the_stock_serializer_would_compress_is_still_accepted(raw: str) -> None:
    # Only an odd raw token (never one Flask-WTF makes) compresses; signed plainly it still validates.
    assert URLSafeTimedSerializer(SECRET, salt=CSRF_SALT).dump_payload(raw).startswith(b".")
    app = make_app()
    with app.test_request_context("/"):
        session["csrf_token"] = raw
        token = str(csrf_input()).split('value="', 1)[1].split('"', 1)[0]
        assert not token.startswith(".")
        validate_csrf(token)  # raises when Flask-WTF would refuse the post
