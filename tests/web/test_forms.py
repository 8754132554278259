"""Forms built from the model: one builder per question type, accessible markup, odd question ids."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from assessment.domain import QuestionType
from assessment.domain import load_questionnaire
from assessment.web import forms
from tests.conftest import MINI
from tests.conftest import MINI_GUIDANCE
from tests.web.conftest import Respondent
from tests.web.conftest import inputs
from tests.web.conftest import make_app
from tests.web.conftest import one_input
from tests.web.conftest import text
from tests.web.conftest import write_questionnaire

HINTS_AND_ODD_IDS = """
meta: {id: odd, version: "1", title: Odd ids}
sections:
  - id: about
    title: About you
    questions:
      - id: data
        type: single
        label: Pick one
        hint: A hint for the group.
        required: true
        options:
          - {value: a, label: First, hint: Said about the first option.}
          - {value: b, label: Second}
      - id: meta
        type: integer
        label: A number
        hint: Whole numbers only.
        unit: days
        min: 0
        max: 30
      - id: process
        type: text
        label: Some words
        max_length: 40
      - id: validate
        type: multi
        label: Tick some
        exclusive: [none]
        options:
          - {value: none, label: None}
          - {value: x, label: X}
      - id: errors
        type: scale
        label: How much
        min_label: Not at all
        max_label: Very much
"""


def test_there_is_one_builder_for_every_question_type() -> None:
    assert set(forms.FIELD_BUILDERS) == set(QuestionType)


def test_form_classes_are_built_once_per_section() -> None:
    questionnaire = load_questionnaire(MINI)
    section = questionnaire.sections[0]
    assert forms.form_for(section) is forms.form_for(section)
    assert forms.form_for(section) is not forms.form_for(questionnaire.sections[1])


def test_fields_render_by_type(respondent: Respondent, client: FlaskClient) -> None:
    respondent.answer("about", age="40")
    about = text(client.get("/q/about"))
    age = one_input(about, name="age")
    assert age["type"] == "text" and age["inputmode"] == "numeric" and age["autocomplete"] == "off"
    legend = r"<legend class=\"legend\">Sex at birth <span class=\"optional\">\(optional\)</span></legend>"
    assert re.search(r"<fieldset class=\"fieldset\">\s*" + legend, about)
    assert [i["type"] for i in inputs(about, name="sex")] == ["radio", "radio"]
    symptoms = text(client.get("/q/symptoms"))
    dose = one_input(symptoms, name="dose_g")
    assert dose["type"] == "text" and dose["inputmode"] == "decimal"
    assert 'type="number"' not in symptoms
    pain = inputs(symptoms, name="pain")
    assert [i["value"] for i in pain] == [str(n) for n in range(11)] and pain[0]["type"] == "radio"
    assert re.search(r"<p class=\"scale-ends\" id=\"pain-ends\"><span>0 = No pain</span>", symptoms)
    assert re.search(r"<fieldset class=\"fieldset\" aria-describedby=\"pain-ends\">", symptoms)
    boxes = inputs(symptoms, name="alarms")
    assert [b["type"] for b in boxes] == ["checkbox"] * 3
    # The exclusive "None of these" comes last on the page, whatever its place in the file.
    assert boxes[-1].get("data-exclusive") == "true" and "data-exclusive" not in boxes[0]
    notes = one_input(symptoms, name="notes")
    assert notes["tag"] == "textarea" and notes["maxlength"] == "200"


@pytest.fixture
def odd_app(tmp_path: Path) -> Flask:
    """An app whose question ids are also names of WTForms attributes."""
    return make_app(
        QUESTIONS_PATH=str(write_questionnaire(tmp_path, HINTS_AND_ODD_IDS)), GUIDANCE_DIR=str(MINI_GUIDANCE)
    )


def test_hints_are_tied_to_their_fields(odd_app: Flask) -> None:
    html = text(odd_app.test_client().get("/q/about"))
    assert re.search(r"<fieldset class=\"fieldset\" aria-describedby=\"data-hint\">", html)
    assert '<p class="hint" id="data-hint">A hint for the group.</p>' in html
    assert one_input(html, id="data-0")["aria-describedby"] == "data-0-hint"
    assert "aria-describedby" not in one_input(html, id="data-1")
    assert '<p class="hint choice__hint" id="data-0-hint">Said about the first option.</p>' in html
    assert one_input(html, name="meta")["aria-describedby"] == "meta-hint meta-unit"
    words = one_input(html, name="process")
    assert words["maxlength"] == "40" and words["aria-describedby"] == "process-limit"


def test_question_ids_that_are_wtforms_names_work(odd_app: Flask) -> None:
    client = odd_app.test_client()
    response = Respondent(client).answer(
        "about", data="a", meta="3", process="words", validate=["x"], errors="4"
    )
    assert response.status_code == 302, text(response)
    review = text(client.get("/review"))
    for shown in ("First", "3 days", "words", "X", "4 out of 10"):
        assert shown in review


def test_a_question_named_csrf_token_is_refused_at_start_up(tmp_path: Path) -> None:
    yaml_text = HINTS_AND_ODD_IDS.replace("id: process", "id: csrf_token")
    with pytest.raises(ValueError, match="csrf_token"):
        make_app(QUESTIONS_PATH=str(write_questionnaire(tmp_path, yaml_text)))
