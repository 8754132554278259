"""Emergencies first, then stop (CONTENT 9.2): the first page, /help-now, the under-18 stop and the way on.

Through the test client on the bundled questionnaire, with CSRF on, as a person without JavaScript.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from assessment import ConfigError
from assessment import create_app
from assessment.domain import Questionnaire
from assessment.web.state import state
from tests.casefiles import CASES_DIR
from tests.casefiles import load_case
from tests.web.conftest import Respondent
from tests.web.conftest import text

SECRET = "stops-tests-secret-key-0123456789abcdef"


@pytest.fixture(scope="module")
def app() -> Flask:
    """The real app on the bundled questionnaire."""
    return create_app({"TESTING": True, "SECRET_KEY": SECRET})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def questionnaire(app: Flask) -> Questionnaire:
    found: Questionnaire = state(app).questionnaire
    return found


@pytest.fixture
def person(client: FlaskClient, questionnaire: Questionnaire) -> Respondent:
    return Respondent(client, first_section=questionnaire.sections[0].id)


def calm() -> dict[str, Any]:
    """The calm baseline adult's answers."""
    return load_case(CASES_DIR / "rule_r01.yaml")["answers"] | {"blood": "none"}


def first_page_answers(questionnaire: Questionnaire, **changes: Any) -> dict[str, Any]:
    """Answers to the first page only, from the calm baseline with changes."""
    answers = calm() | changes
    return {q.id: answers[q.id] for q in questionnaire.sections[0].questions if q.id in answers}


def test_the_first_page_asks_age_and_the_signs_that_need_help_now(
    client: FlaskClient, questionnaire: Questionnaire
) -> None:
    """Emergency signs are the first questions anyone sees, with age beside them."""
    first = questionnaire.sections[0]
    assert {"age", "alarms_now", "fever"} <= {q.id for q in first.questions}
    start = text(client.get("/"))
    assert f'href="/q/{first.id}"' in start
    page = text(client.get(f"/q/{first.id}"))
    assert "Vomited blood" in page and 'name="age"' in page


def test_vomited_blood_on_the_first_page_stops_at_the_help_now_page(
    person: Respondent, client: FlaskClient, questionnaire: Questionnaire
) -> None:
    first, second = questionnaire.sections[0].id, questionnaire.sections[1].id
    response = person.answer(first, **first_page_answers(questionnaire, alarms_now=["vomit_blood"]))
    assert response.status_code == 302
    location = response.headers["Location"]
    assert urlsplit(location).path == "/help-now"
    assert parse_qs(urlsplit(location).query)["next"] == [f"/q/{second}"]
    page = text(client.get(location))
    assert 'href="tel:999"' in page and 'href="tel:112"' in page and 'href="tel:911"' in page
    assert "Do not drive yourself" in page
    # The emergency rule's message, and no question of the next page.
    assert "needs medical help without delay" in page
    assert 'name="sex"' not in page
    # Two ways on: continue the questionnaire, or leave (clearing the answers).
    assert f'href="/q/{second}"' in page
    assert 'action="/clear"' in page


def test_continue_from_the_stop_page_reaches_the_next_section(
    person: Respondent, client: FlaskClient, questionnaire: Questionnaire
) -> None:
    first, second = questionnaire.sections[0], questionnaire.sections[1]
    answers = first_page_answers(questionnaire, alarms_now=["faint_chest"])
    location = person.answer(first.id, **answers).headers["Location"]
    page = text(client.get(location))
    link = re.search(r'<a class="button" href="([^"]+)">I have got help', page)
    assert link is not None
    following = client.get(link.group(1))
    assert following.status_code == 200
    assert f'action="/q/{second.id}"' in text(following)
    # The same emergency does not stop the person again on the next page.
    answers = calm() | {"sex": "male"}
    fields = {q.id: answers[q.id] for q in second.questions if q.id in answers}
    response = person.answer(second.id, **fields)
    assert urlsplit(response.headers["Location"]).path != "/help-now"


def test_an_emergency_given_later_also_stops_the_flow(
    person: Respondent, questionnaire: Questionnaire
) -> None:
    """A lot of blood, asked on the warning-signs page, leads to the help-now page there too."""
    answers = calm() | {"blood": "a_lot"}
    for section in questionnaire.sections:
        fields = {q.id: answers[q.id] for q in section.questions if q.id in answers}
        response = person.answer(section.id, **fields)
        if any(q.id == "blood" for q in section.questions):
            break
        assert urlsplit(response.headers["Location"]).path != "/help-now", section.id
    assert urlsplit(response.headers["Location"]).path == "/help-now"


def test_no_sign_goes_straight_on(person: Respondent, questionnaire: Questionnaire) -> None:
    response = person.answer(questionnaire.sections[0].id, **first_page_answers(questionnaire))
    assert response.headers["Location"] == f"/q/{questionnaire.sections[1].id}"


def test_age_16_shows_the_under_18_page_after_the_first_page(
    person: Respondent, client: FlaskClient, questionnaire: Questionnaire
) -> None:
    response = person.answer(questionnaire.sections[0].id, **first_page_answers(questionnaire, age=16))
    assert response.headers["Location"] == "/stop/U18"
    page = text(client.get("/stop/U18"))
    assert "This tool is for adults" in page
    assert "aged 18 and over" in page
    assert 'href="tel:999"' in page
    assert 'name="sex"' not in page
    # Nothing after the first page is asked: the results say the same.
    assert client.get("/q/about").headers["Location"] != "/q/about"


def test_under_18_with_an_emergency_sees_the_emergency_first(
    person: Respondent, client: FlaskClient, questionnaire: Questionnaire
) -> None:
    answers = first_page_answers(questionnaire, age=15, alarms_now=["vomit_blood"])
    location = person.answer(questionnaire.sections[0].id, **answers).headers["Location"]
    assert urlsplit(location).path == "/help-now"
    assert parse_qs(urlsplit(location).query)["next"] == ["/stop/U18"]


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\t/evil.example", "javascript:x"]
)
def test_the_continue_link_never_leaves_the_site(client: FlaskClient, target: str) -> None:
    page = text(client.get("/help-now", query_string={"next": target}))
    link = re.search(r'<a class="button" href="([^"]+)">I have got help', page)
    assert link is not None and link.group(1) == "/"


def test_a_stop_page_exists_only_for_a_rule_that_stops(client: FlaskClient) -> None:
    assert client.get("/stop/R01").status_code == 404
    assert client.get("/stop/nothing").status_code == 404


def test_emergency_numbers_come_from_the_configuration() -> None:
    app = create_app(
        {"TESTING": True, "SECRET_KEY": SECRET, "EMERGENCY_NUMBERS": "AU 000", "URGENT_CARE": "healthdirect"}
    )
    page = text(app.test_client().get("/help-now"))
    assert 'href="tel:000"' in page and "tel:999" not in page


def test_unreadable_emergency_numbers_stop_start_up_with_a_clear_message() -> None:
    with pytest.raises(ConfigError, match="GUTCHECK_EMERGENCY_NUMBERS"):
        create_app({"TESTING": True, "SECRET_KEY": SECRET, "EMERGENCY_NUMBERS": "UK nine-nine-nine"})


def test_an_emergency_sign_comes_before_the_page_s_own_mistakes(
    person: Respondent, client: FlaskClient, questionnaire: Questionnaire
) -> None:
    """Vomited blood ticked but the age left out: the help-now page first, not "enter your age"; the
    sign is kept, and "continue" comes back to the first page to finish it."""
    first = questionnaire.sections[0].id
    answers = first_page_answers(questionnaire, alarms_now=["vomit_blood"])
    del answers["age"]
    response = person.answer(first, **answers)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert urlsplit(location).path == "/help-now"
    assert parse_qs(urlsplit(location).query)["next"] == [f"/q/{first}"]
    assert "needs medical help without delay" in text(client.get(location))
    page = text(client.get(f"/q/{first}"))
    assert re.search(r'value="vomit_blood"[^>]*checked|checked[^>]*value="vomit_blood"', page)
    # Finishing the page now goes on, without a second stop for the same sign.
    answers["age"] = 40
    assert person.answer(first, **answers).headers["Location"] == f"/q/{questionnaire.sections[1].id}"
