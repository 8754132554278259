"""The question page's fast paths give what the slow ways give: stored answers checked without the
parser, base85, the CSRF token, the pre-rendered section pages and the missing-answers check."""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from assessment import create_app
from assessment.config import ROOT
from assessment.domain import Answers
from assessment.domain import QuestionType
from assessment.domain import parse_answers
from assessment.domain import visible_path
from assessment.web import answers_store
from assessment.web import flow
from assessment.web import questionnaire as questionnaire_views
from assessment.web import results as results_views
from tests.casefiles import load_case
from tests.conftest import MINI_GUIDANCE
from tests.web.conftest import SECRET
from tests.web.conftest import Respondent
from tests.web.conftest import generic_answers
from tests.web.conftest import stored_form
from tests.web.conftest import text
from tests.web.conftest import write_questionnaire

B85_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~"
TOKEN = re.compile(r'(name="csrf_token" type="hidden" value=")[^"]+(")')
ODD_VALUES: list[Any] = [
    None, True, False, 0, -1, 7, 11, 999_999, 1_000_000, 2.5, 7.0, 1e-5, "", " ", "7", " 7", "yes", "no",
    "none", [], [""], ["none"], ["none", "none"], {}, "a\u200bb", "e\u0301", "caf\u00e9", "x" * 300,
    "line\nline", "tab\tx", " pad", "pad ", "\ud800", "<b>&</b>", "\r\n", "ok\x00", "\u00a0nbsp",
]  # fmt: skip


@pytest.fixture(scope="module")
def real_app() -> Flask:
    """The app on the bundled questionnaire (every question type, conditions across pages)."""
    return create_app({"TESTING": True, "SECRET_KEY": SECRET})


def _reference(app: Flask, data: dict[str, Any]) -> Answers:
    """What loading stored answers gave before the fast path: everything through parse_answers."""
    questionnaire = app.extensions["questionnaire"]
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
    questions = list(real_app.extensions["questionnaire"].questions.values())
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
        answers = _reference(real_app, generic_answers(real_app.extensions["questionnaire"]))
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
    """Every section page, with and without return=review, is the same with and without shells."""
    used: list[object] = []
    shell = questionnaire_views._shell

    def spy(*args: Any) -> Any:
        found = shell(*args)
        used.append(found)
        return found

    monkeypatch.setattr(questionnaire_views, "_shell", spy)
    config: dict[str, Any] = {"TESTING": True, "SECRET_KEY": SECRET}
    if case == "cross-page":
        config["QUESTIONS_PATH"] = str(write_questionnaire(tmp_path, CROSS_PAGE))
        config["GUIDANCE_DIR"] = str(MINI_GUIDANCE)
    fast = create_app(config)
    slow = create_app({**config, "SECTION_PAGE_SHELLS": False})
    questionnaire = fast.extensions["questionnaire"]
    client = fast.test_client()
    if case != "real-empty":
        answers = CROSS_ANSWERS if case == "cross-page" else generic_answers(questionnaire)
        Respondent(client, first_section=questionnaire.sections[0].id).complete(answers)
    cookie = client.get_cookie("gutcheck")
    other = slow.test_client()
    pages = 0
    for current in questionnaire.sections:
        for suffix in ("", "?return=review"):
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
    shells = fast.extensions[questionnaire_views._SHELLS]
    assert shells, "no section page was pre-rendered"
    assert not slow.extensions[questionnaire_views._SHELLS]
    if case == "cross-page":
        assert ("second", False, True) in shells
        assert "data-known=" in text(client.get("/q/second"))


def test_a_flashed_message_is_shown_on_a_pre_rendered_page(real_app: Flask) -> None:
    client = real_app.test_client()
    first = real_app.extensions["questionnaire"].sections[0].id
    client.get(f"/q/{first}")
    client.set_cookie("gutcheck", "not-a-valid-cookie")
    html = text(client.get(f"/q/{first}"))
    assert answers_store.EXPIRED_MESSAGE in html
    assert 'class="notice notice--info"' in html


def test_the_missing_answers_check_agrees_with_flow(real_app: Flask) -> None:
    questionnaire = real_app.extensions["questionnaire"]
    full = _reference(real_app, generic_answers(questionnaire))
    rng = random.Random(3)
    for _ in range(300):
        answers = dict(full.only([qid for qid in full if rng.random() < 0.7]).data)
        path = visible_path(questionnaire, answers)
        blocker = flow.first_missing(path, answers)
        for current in path.sections:
            before = flow.position(path, blocker.id) < flow.position(path, current.id) if blocker else False
            expected = blocker if before else None
            assert questionnaire_views._missing_before(questionnaire, path, current, answers) is expected


RESULT_CASES = [
    "p1_emma", "p2_raj", "p3_linda", "rule_r02_worsening", "rule_r16_over_40", "rule_r29_chemo",
    "rule_r08_routine_with_r28",  # an alarm feature at a routine level: the list under the headline
    "rule_r02_boundary",  # nothing to act on, no card
]  # fmt: skip


@pytest.mark.parametrize("restored", [False, True])
@pytest.mark.parametrize("case", RESULT_CASES)
def test_pre_rendered_results_equal_the_templates(case: str, restored: bool) -> None:
    """The results page from its pre-rendered shape, cards and charts is the page the template makes
    (answers given today, or restored from a file saved on an earlier day)."""
    config: dict[str, Any] = {"TESTING": True, "SECRET_KEY": SECRET}
    fast = create_app(config)
    slow = create_app({**config, "RESULTS_PARTS": False})
    questionnaire = fast.extensions["questionnaire"]
    answers = load_case(ROOT / "tests" / "cases" / f"{case}.yaml")["answers"]
    client = fast.test_client()
    # Answer every page as a person would, so the cookie holds exactly what the pages accepted.
    Respondent(client, first_section=questionnaire.sections[0].id).complete(
        {k: [str(x) for x in v] if isinstance(v, list) else str(v) for k, v in answers.items()}
    )
    if restored:
        with client.session_transaction() as stored:
            stored[answers_store.DATES_KEY] = "2026-03-04 2026-04-05"
    cookie = client.get_cookie("gutcheck")
    assert cookie is not None
    other = slow.test_client()
    other.set_cookie("gutcheck", cookie.value)
    for _ in range(2):  # the first request renders the page's shape, the second reuses it
        got, expected = client.get("/results"), other.get("/results")
        assert got.status_code == expected.status_code == 200
        assert text(got) == text(expected)
    assert "card--" in text(got) or case in ("rule_r16_over_40", "rule_r02_boundary")
    assert ("4 March 2026" in text(got)) is restored
    assert fast.extensions.get(results_views._PARTS_KEY) is not None, "the fast path was not used"
    shapes = fast.extensions.get(results_views._SHAPES_KEY, {})
    assert len(shapes) == 1 and None not in shapes.values(), "the page's shape was not used"
    assert slow.extensions.get(results_views._PARTS_KEY) is None
    assert slow.extensions.get(results_views._SHAPES_KEY) is None


def test_results_with_a_message_take_the_template_path() -> None:
    """A flashed message shows on the results page; the pre-rendered shape has no place for it."""
    fast = create_app({"TESTING": True, "SECRET_KEY": SECRET})
    questionnaire = fast.extensions["questionnaire"]
    answers = load_case(ROOT / "tests" / "cases" / "p1_emma.yaml")["answers"]
    client = fast.test_client()
    Respondent(client, first_section=questionnaire.sections[0].id).complete(
        {k: [str(x) for x in v] if isinstance(v, list) else str(v) for k, v in answers.items()}
    )
    with client.session_transaction() as stored:
        stored["_flashes"] = [("info", "Sentinel message 4711")]
    assert "Sentinel message 4711" in text(client.get("/results"))
    assert "Sentinel message 4711" not in text(client.get("/results"))
