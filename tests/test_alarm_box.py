"""The summary's alarm box (CONTENT 9.6 item 3), read from page 1 of the real PDF with pdftotext.

Every alarm answer declared in questions.yaml is listed with its level and time frame whether or not
a rule fired on it; "No alarm features reported" only when every alarm question was answered and
none was an alarm; otherwise the unanswered alarm questions are named.
"""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
from flask import Flask

from assessment import create_app
from assessment.domain import Questionnaire
from assessment.domain import Urgency
from assessment.web.state import state
from tests.casefiles import CASES_DIR
from tests.casefiles import load_case

NONE_REPORTED = "No alarm features reported"
NOT_ANSWERED = "Alarm questions not answered"


@pytest.fixture(scope="module")
def app() -> Flask:
    return create_app({"TESTING": True, "SECRET_KEY": "alarm-box-secret-0123456789abcdef"})


def calm() -> dict[str, Any]:
    return load_case(CASES_DIR / "rule_r01.yaml")["answers"] | {"blood": "none"}


def page_one(app: Flask, answers: dict[str, Any], tmp_path: Any) -> str:
    """POST /api/v1/report and return page 1's text, whitespace folded."""
    response = app.test_client().post("/api/v1/report", json={"answers": answers})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    path = tmp_path / "summary.pdf"
    path.write_bytes(response.get_data())
    out = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(path), "-"], capture_output=True, text=True, check=True
    )
    return " ".join(out.stdout.split())


def alarm_box(text: str) -> str:
    """Page 1 from the alarm heading to the overall level."""
    start = text.index("Alarm features")
    return text[start : text.index("Overall:", start)]


def words(questionnaire: Questionnaire, urgency: Urgency) -> str:
    level = questionnaire.levels[urgency]
    return f"{level.name}: {level.time_frame}"


def test_family_history_alone_is_named_in_the_alarm_box(app: Flask, tmp_path: Any) -> None:
    questionnaire: Questionnaire = state(app).questionnaire
    box = alarm_box(page_one(app, calm() | {"family_history": ["bowel_cancer"]}, tmp_path))
    assert NONE_REPORTED not in box
    label = questionnaire.questions["family_history"].summary_label
    assert f"{words(questionnaire, Urgency.ROUTINE)} {label}: Bowel cancer" in box


def test_each_alarm_answer_is_listed_with_its_own_level(app: Flask, tmp_path: Any) -> None:
    questionnaire: Questionnaire = state(app).questionnaire
    answers = calm() | {"night_symptoms": "yes", "other_signs": ["jaundice", "lump"]}
    box = alarm_box(page_one(app, answers, tmp_path))
    signs = questionnaire.questions["other_signs"].summary_label
    assert f"{words(questionnaire, Urgency.URGENT)} {signs}: Yellow skin" in box
    assert f"{words(questionnaire, Urgency.SOON)} {signs}: A lump in my tummy" in box
    night = questionnaire.questions["night_symptoms"].summary_label
    assert f"{words(questionnaire, Urgency.ROUTINE)} {night}: Yes" in box
    # Most urgent first.
    assert box.index("Yellow skin") < box.index("A lump") < box.index(night)


def test_no_alarm_answer_with_every_alarm_question_answered_says_none_reported(
    app: Flask, tmp_path: Any
) -> None:
    box = alarm_box(page_one(app, calm(), tmp_path))
    assert NONE_REPORTED in box and NOT_ANSWERED not in box


def test_unanswered_alarm_questions_are_named_and_never_called_none(app: Flask, tmp_path: Any) -> None:
    questionnaire: Questionnaire = state(app).questionnaire
    answers = calm()
    optional = [q for q in questionnaire.questions.values() if q.alarm is not None and not q.required]
    assert optional, "some alarm questions can be left blank"
    for question in optional:
        answers.pop(question.id, None)
    box = alarm_box(page_one(app, answers, tmp_path))
    assert NONE_REPORTED not in box
    assert NOT_ANSWERED in box
    shown = [q for q in optional if q.id in {"weight_loss_kg", "other_signs", "family_history"}]
    for question in shown:
        # pdftotext joins a hyphenated word broken at a line end: compare without hyphens.
        assert question.summary_label.replace("-", "") in box.replace("-", ""), question.id


def test_a_combination_rule_is_listed_beside_the_answers(app: Flask, tmp_path: Any) -> None:
    """R28 (bowel symptoms for 3 weeks, 45) reads no alarm question: it is listed by its title."""
    questionnaire: Questionnaire = state(app).questionnaire
    box = alarm_box(page_one(app, calm() | {"age": 45, "loose_share": "quarter_to_half"}, tmp_path))
    title = next(r.title for r in questionnaire.rules if r.id == "R28")
    assert f"{words(questionnaire, Urgency.SOON)} {title}" in box
    assert NONE_REPORTED in box, "no alarm answer, every alarm question answered"
