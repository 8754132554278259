"""Validation through the domain parser: the error summary, ARIA, kept values, odd and hostile input."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from assessment.web import answers_store
from tests.conftest import MINI_GUIDANCE
from tests.web.conftest import MINI_ANSWERS
from tests.web.conftest import Respondent
from tests.web.conftest import inputs
from tests.web.conftest import make_app
from tests.web.conftest import one_input
from tests.web.conftest import summary_of
from tests.web.conftest import text
from tests.web.conftest import write_questionnaire

CONDITIONAL = """
meta: {id: cond, version: "1", title: Conditional check}
sections:
  - id: about
    title: About you
    questions:
      - id: sex
        type: single
        label: Sex at birth
        options:
          - {value: female, label: Female}
          - {value: male, label: Male}
      - id: pregnant
        type: yes_no
        label: Are you pregnant?
        required: true
        visible_if: answers.sex == 'female'
      - id: weeks
        type: integer
        label: How many weeks pregnant are you?
        required: true
        min: 1
        max: 42
        visible_if: answers.pregnant == 'yes'
"""


def stored(client: FlaskClient) -> dict[str, object]:
    """Return the answers held in the session cookie."""
    with client.session_transaction() as session:
        return answers_store.decode(session.get("answers")) or {}


def test_errors_show_a_summary_mark_the_field_and_keep_the_values(respondent: Respondent) -> None:
    response = respondent.answer("about", age="abc", sex="female")
    assert response.status_code == 200
    html = text(response)
    assert re.search(r"<title>Error: About you \(step 1 of 2\)", html)
    assert re.search(
        r"<div class=\"error-summary\" role=\"alert\"[^>]*>\s*<h2[^>]*>There is a problem</h2>", html
    )
    assert summary_of(html) == [
        "How old are you? \u2013 Enter a whole number from 1 to 120 years, using digits only."
    ]
    assert '<a href="#age">' in html
    age = one_input(html, id="age")
    assert age["aria-invalid"] == "true"
    assert age["value"] == "abc", "the person's value is kept"
    assert "age-error" in age["aria-describedby"].split()
    assert re.search(r"<p class=\"error-message\" id=\"age-error\">", html)
    sex = one_input(html, id="sex-0")
    assert "checked" in sex, "the valid answer is kept too"
    assert "aria-invalid" not in sex


def test_nothing_is_saved_when_a_page_has_errors(respondent: Respondent, client: FlaskClient) -> None:
    respondent.answer("about", age="abc", sex="female")
    assert stored(client) == {}


def test_missing_required_answer(respondent: Respondent) -> None:
    html = text(respondent.answer("about", sex="male"))
    assert summary_of(html) == ["Enter a whole number for \u201cHow old are you?\u201d"]


def test_a_radio_group_with_an_error_marks_every_radio(respondent: Respondent) -> None:
    respondent.answer("about", age="40")
    html = text(respondent.answer("symptoms", pain="11"))
    assert '<a href="#pain-0">' in html
    radios = inputs(html, name="pain")
    assert len(radios) == 11 and all(r["aria-invalid"] == "true" for r in radios)
    assert re.search(r"<fieldset class=\"fieldset\" aria-describedby=\"[^\"]*pain-error", html)


def test_repeated_single_value_is_an_error(respondent: Respondent, client: FlaskClient) -> None:
    token = respondent.token()
    data = MultiDict([("csrf_token", token), ("age", "40"), ("sex", "female"), ("sex", "male")])
    response = client.post("/q/about", data=data)
    assert response.status_code == 200
    assert summary_of(text(response)) == ["Sex at birth \u2013 Choose only one answer."]
    data = MultiDict([("csrf_token", token), ("age", "40"), ("age", "41")])
    assert summary_of(text(client.post("/q/about", data=data))) == [
        "How old are you? \u2013 Give one answer."
    ]


@pytest.mark.parametrize("value", ["zzz", "Female", "female ", "<b>"])
def test_unknown_option_is_an_error(respondent: Respondent, value: str) -> None:
    html = text(respondent.answer("about", age="40", sex=value))
    assert summary_of(html) == ["Sex at birth \u2013 Choose one of the answers shown."]


def test_unknown_or_conflicting_ticks_are_errors(respondent: Respondent) -> None:
    respondent.answer("about", age="40")
    html = text(respondent.answer("symptoms", pain="3", alarms=["none", "black_stool"]))
    assert summary_of(html) == [
        "Any of these now? \u2013 \u201cNone of these\u201d cannot be ticked together with other answers."
    ]
    html = text(respondent.answer("symptoms", pain="3", alarms=["zzz"]))
    assert summary_of(html) == ["Any of these now? \u2013 Choose from the answers shown."]


@pytest.mark.parametrize(
    "value", ["1_0", "+3", "\u0667", " 7 x", "nan", "snan", "inf", "1e999", "-1", "0x1", "121"]
)
def test_odd_integers_are_field_errors(respondent: Respondent, value: str) -> None:
    response = respondent.answer("about", age=value)
    assert response.status_code == 200
    assert summary_of(text(response)) == [
        "How old are you? \u2013 Enter a whole number from 1 to 120 years, using digits only."
        if value != "121"
        else "How old are you? \u2013 Enter a number from 1 to 120 years."
    ]


@pytest.mark.parametrize(
    "value", ["1_0", "+3", "\u0667", "nan", "snan", "-inf", "1e999", "-1", "2.55", "101"]
)
def test_odd_decimals_are_field_errors(respondent: Respondent, value: str) -> None:
    respondent.answer("about", age="40")
    response = respondent.answer("symptoms", pain="3", dose_g=value)
    assert response.status_code == 200
    messages = summary_of(text(response))
    assert len(messages) == 1 and messages[0].startswith("Grams of glutamine per day \u2013 ")


def test_text_over_its_maximum_length_is_an_error(respondent: Respondent) -> None:
    respondent.answer("about", age="40")
    html = text(respondent.answer("symptoms", pain="3", notes="x" * 201))
    assert summary_of(html) == ["Anything else? \u2013 Keep this to 200 characters or fewer."]
    assert one_input(html, name="notes")["maxlength"] == "200"


def without_csrf(html: str) -> str:
    """Drop CSRF token values: they carry a timestamp and change from one second to the next."""
    return re.sub(r'name="csrf_token"[^>]*value="[^"]*"', 'name="csrf_token"', html)


def test_extra_fields_are_ignored(respondent: Respondent, client: FlaskClient) -> None:
    """Fields that are not questions on the page (score=99, admin=1) change nothing."""
    respondent.complete()
    baseline = without_csrf(text(client.get("/results")))
    response = respondent.answer(
        "about", age="40", sex="female", pregnant="no", score="99", admin="1", pain="0"
    )
    assert response.status_code == 302
    assert set(stored(client)) == set(MINI_ANSWERS), "fields that are not on the page are never stored"
    assert without_csrf(text(client.get("/results"))) == baseline


def test_script_text_is_escaped_on_the_review(respondent: Respondent, client: FlaskClient) -> None:
    hostile = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    respondent.complete(MINI_ANSWERS | {"notes": hostile})
    html = text(client.get("/review"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in html
    assert "<script>alert(1)" not in html and "<img src=x" not in html


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"age": "40"}', "application/json"),
        ("[1, 2]", "application/json"),
        ("age=40", "text/plain"),
        ("age=40", None),
        ("--xx\r\nbroken", "multipart/form-data; boundary=xx"),
    ],
)
def test_odd_bodies_never_fail_with_500(
    respondent: Respondent, client: FlaskClient, body: str, content_type: str | None
) -> None:
    token = respondent.token()
    headers = {"X-CSRFToken": token}
    if content_type:
        headers["Content-Type"] = content_type
    response = client.post("/q/about", data=body.encode(), headers=headers)
    assert response.status_code in (200, 400)
    assert stored(client) == {}


@pytest.fixture
def conditional_app(tmp_path: Path) -> Flask:
    """An app whose questions depend on answers on the same page, two levels deep."""
    path = write_questionnaire(tmp_path, CONDITIONAL)
    return make_app(QUESTIONS_PATH=str(path), GUIDANCE_DIR=str(MINI_GUIDANCE))


def test_a_newly_visible_required_question_must_be_answered(conditional_app: Flask) -> None:
    client = conditional_app.test_client()
    person = Respondent(client)
    html = text(person.answer("about", sex="female"))
    assert summary_of(html) == ["Select an answer for \u201cAre you pregnant?\u201d"]
    html = text(person.answer("about", sex="female", pregnant="yes"))
    assert summary_of(html) == ["Enter a whole number for \u201cHow many weeks pregnant are you?\u201d"]
    response = person.answer("about", sex="female", pregnant="yes", weeks="12")
    assert response.status_code == 302
    assert stored(client) == {"sex": "female", "pregnant": "yes", "weeks": 12}


def test_answers_and_errors_of_now_hidden_questions_are_dropped(conditional_app: Flask) -> None:
    client = conditional_app.test_client()
    person = Respondent(client)
    person.answer("about", sex="female", pregnant="yes", weeks="12")
    # Now male: the pregnancy questions are hidden, so their (even invalid) values do not count.
    response = person.answer("about", sex="male", pregnant="maybe", weeks="abc")
    assert response.status_code == 302
    assert stored(client) == {"sex": "male"}


def test_every_dependent_question_is_rendered_with_a_condition(conditional_app: Flask) -> None:
    html = text(conditional_app.test_client().get("/q/about"))
    assert re.search(r"data-question=\"pregnant\" data-visible-if=", html)
    assert re.search(r"data-question=\"weeks\" data-visible-if=", html)
    assert not re.search(r"data-question=\"sex\" data-visible-if=", html)
