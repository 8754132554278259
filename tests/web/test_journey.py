"""Issue 14's details on the real questionnaire: specific errors, honest length, optional labels,
no-script cues, "None of these" last, the grid of side effects, guidance Back and source links."""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from assessment.config import ROOT
from assessment.domain import QuestionType
from assessment.domain import display_value
from assessment.domain import load_questionnaire
from assessment.domain import visible_path
from assessment.domain.answers import required_message
from assessment.domain.lengths import candidates
from assessment.domain.lengths import path_length_range
from assessment.domain.lengths import walk
from tests.web.conftest import Respondent
from tests.web.conftest import generic_answers
from tests.web.conftest import inputs
from tests.web.conftest import make_app
from tests.web.conftest import summary_of
from tests.web.conftest import text

QUESTIONS = ROOT / "questions.yaml"
GUIDANCE = ROOT / "templates" / "guidance"
REAL = load_questionnaire(QUESTIONS, GUIDANCE)


@pytest.fixture
def real_app() -> Flask:
    """The app on the bundled questionnaire and guidance pages."""
    return make_app(QUESTIONS_PATH=str(QUESTIONS), GUIDANCE_DIR=str(GUIDANCE))


@pytest.fixture
def real_client(real_app: Flask) -> FlaskClient:
    return real_app.test_client()


def flat(html: str) -> str:
    return " ".join(html.split())


@pytest.mark.parametrize("section", REAL.sections, ids=[s.id for s in REAL.sections])
def test_no_two_questions_on_a_page_share_an_error_message(section: Any) -> None:
    messages = [required_message(q) for q in section.questions if q.required]
    repeated = [m for m, n in Counter(messages).items() if n > 1]
    assert not repeated, f"{section.id}: the same message for several questions: {repeated}"
    assert not [m for m in messages if "please" in m.lower()]


def test_an_empty_page_lists_one_specific_message_per_question(real_client: FlaskClient) -> None:
    person = Respondent(real_client, first_section=REAL.sections[0].id)
    html = text(person.answer(REAL.sections[0].id))
    summary = summary_of(html)
    required = [q for q in REAL.sections[0].questions if q.required]
    assert summary == [required_message(q) for q in required]
    assert "Enter your age in whole years" in summary  # the author's own message (questions.yaml)
    assert len(set(summary)) == len(summary) == len(required)


def test_the_length_range_is_walked_by_its_own_answers_and_bounds_random_walks() -> None:
    found = path_length_range(REAL)
    for extreme in (found.shortest, found.longest):
        again = walk(REAL, extreme.answers)
        assert again is not None and again.questions == extreme.questions
        assert again.questions == len(visible_path(REAL, extreme.answers).questions)
    assert found.shortest.questions < found.longest.questions
    # Any answers to the questions that change the path give a walk inside the range.
    drivers = [q for q in REAL.questions.values() if candidates(q) and q.id in found.longest.answers]
    rng = random.Random(14)
    for _ in range(300):
        answers = {}
        for question in drivers:
            value = rng.choice(candidates(question))
            if value is not None:
                answers[question.id] = value
        one = walk(REAL, answers)
        if one is not None:
            assert found.shortest.questions <= one.questions <= found.longest.questions


def test_the_start_page_states_the_computed_range(real_client: FlaskClient) -> None:
    found = path_length_range(REAL)
    low = math.ceil(found.shortest.questions * found.seconds_per_question / 60)
    high = math.ceil(found.longest.questions * found.seconds_per_question / 60)
    html = flat(text(real_client.get("/")))
    expected = (
        f"It takes {low} to {high} minutes: {found.shortest.questions} to {found.longest.questions} questions"
    )
    assert expected in html
    assert "about 10 minutes" not in html


def _page(real_client: FlaskClient, section_id: str, answers: dict[str, Any]) -> str:
    """Answer every page (generic answers, with these on top) and return one section's page."""
    person = Respondent(real_client, first_section=REAL.sections[0].id)
    person.complete(generic_answers(REAL) | answers)
    return text(real_client.get(f"/q/{section_id}"))


ADULT = {
    "age": "40",
    "alarms_now": ["none"],
    "other_signs": ["none"],
    "fever": "no",
    "sex": "female",
    "pregnancy": "neither",
    "duration": "months_3_to_6",
    "glutamine_status": "now",
}


def test_optional_questions_say_so_and_required_ones_do_not(real_client: FlaskClient) -> None:
    html = _page(real_client, "about", ADULT)
    doctor = REAL.questions["doctor_checked"]
    assert not doctor.required
    assert f'{doctor.label} <span class="optional">(optional)</span></legend>' in html
    assert f'<legend class="legend">{REAL.questions["duration"].label}</legend>' in html


def test_same_page_conditions_have_a_cue_for_pages_without_script(real_client: FlaskClient) -> None:
    html = _page(real_client, "supplements", ADULT)
    cue = re.search(r'<p class="hint condition-cue" id="probiotic_product-cue">([^<]+)</p>', html)
    assert cue, "the probiotic follow-up has no cue"
    label = REAL.questions["probiotic"].label
    assert cue.group(1) == f"Answer only if you answered &#8220;Yes&#8221; to &#8220;{label}&#8221;." or (
        cue.group(1) == f"Answer only if you answered \u201cYes\u201d to \u201c{label}\u201d."
    )
    assert re.search(r'aria-describedby="probiotic_product-cue', html)
    assert "probiotic-cue" not in html, "a question that is always asked needs no cue"


def test_none_of_these_comes_last_after_an_or(real_client: FlaskClient) -> None:
    html = _page(real_client, "food", ADULT)
    question = REAL.questions["foods_cut"]
    exclusive = question.exclusive[0]
    assert question.options[0].value == exclusive, "the file lists it first; the page must not"
    values = [i["value"] for i in inputs(html, name="foods_cut")]
    assert values[-1] == exclusive and sorted(values) == sorted(o.value for o in question.options)
    block = html[html.index('data-question="foods_cut"') :]
    divider = r'<p class="choices__or">or</p>\s*<div class="choice">\s*<input[^>]*value="'
    assert re.search(divider + exclusive, block)


def test_side_effects_are_rows_of_one_grid(real_client: FlaskClient) -> None:
    html = _page(real_client, "side_effects", ADULT)
    rows = re.findall(r'class="question question--row" id="(se_[a-z]+)-question"', html)
    graded = [q.id for q in REAL.section("side_effects").questions if q.type is QuestionType.SINGLE]
    assert rows == graded
    assert html.count('<fieldset class="fieldset"') == len(REAL.section("side_effects").questions)
    assert 'id="se_stopped-question"' in html and 'question--row" id="se_stopped' not in html


def test_plural_units_read_correctly() -> None:
    days = REAL.questions["pain_days"]
    assert display_value(days, 1) == "1 day"
    assert display_value(days, 2) == "2 days"
    assert display_value(days, 0) == "0 days"


def test_guidance_back_link_returns_to_the_results(real_client: FlaskClient) -> None:
    page = flat(text(real_client.get("/guidance/about-glutamine?from=results")))
    assert '<a class="back-link" href="/results">Back to your results</a>' in page
    plain = flat(text(real_client.get("/guidance/about-glutamine")))
    assert '<a class="back-link" href="/guidance/">All guidance pages</a>' in plain
    odd = flat(text(real_client.get("/guidance/about-glutamine?from=https://evil.example")))
    assert 'href="/guidance/">All guidance pages' in odd and "evil" not in odd
    index = flat(text(real_client.get("/guidance/?from=results")))
    assert '<a class="back-link" href="/results">Back to your results</a>' in index
    assert 'href="/guidance/about-glutamine?from=results"' in index


def test_source_tags_become_numbered_links_to_the_source_list(real_client: FlaskClient) -> None:
    page = REAL.guidance["about-glutamine"]
    html = flat(text(real_client.get("/guidance/about-glutamine")))
    listed = [tag for tag in page.sources if tag in REAL.sources]
    assert "[GLN-1]" not in html and "[Z-1" not in html
    number = listed.index("GLN-1") + 1
    hidden = '<span class="visually-hidden">source </span>'
    link = f'<a class="citation" href="#source-{number}">{hidden}{number}</a>'
    assert link in html
    assert f'<li id="source-{number}">' in html
    title = REAL.sources["GLN-1"].title
    item = re.search(rf'<li id="source-{number}">(.*?)</li>', html)
    assert item and title.split(".")[0] in item.group(1)


def test_favicon(real_client: FlaskClient) -> None:
    response = real_client.get("/favicon.ico")
    data = response.get_data()
    response.close()
    assert response.status_code == 200 and data[:4] == b"\x00\x00\x01\x00"
    assert '<link rel="icon" href="/static/favicon.svg"' in text(real_client.get("/"))
