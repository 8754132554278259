"""The questionnaire flow: start to results, steps, Back and Change, skipping, clearing, redirects."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from assessment.config import ROOT
from assessment.domain import load_questionnaire
from assessment.domain import parse_answers
from assessment.domain import visible_path
from assessment.web import answers_store
from tests.web.conftest import MINI_ANSWERS
from tests.web.conftest import Respondent
from tests.web.conftest import generic_answers
from tests.web.conftest import inputs
from tests.web.conftest import make_app
from tests.web.conftest import one_input
from tests.web.conftest import stub_guidance
from tests.web.conftest import text


def stored(app: Flask, client: FlaskClient) -> dict[str, object]:
    """Return the answers the session cookie holds, decoded as the app reads them."""
    with client.session_transaction() as session:
        raw = session.get("answers")
    decoded = answers_store.decode(raw) if raw is not None else {}
    return decoded or {}


def test_start_page_explains_the_tool_and_links_to_the_first_section(client: FlaskClient) -> None:
    html = text(client.get("/"))
    assert "If you have severe symptoms now, call your emergency number" in html
    assert "does not diagnose" in html
    assert re.search(r"It takes \d+ to \d+ minutes: \d+ to \d+ questions", " ".join(html.split()))
    assert "Nothing you enter is stored on our server" in html
    assert "60 minutes" in html
    assert re.search(r"<a class=\"button[^\"]*\" href=\"/q/about\">Start now</a>", html)


def test_walk_from_start_to_results_through_every_section(
    respondent: Respondent, client: FlaskClient
) -> None:
    seen = respondent.complete()
    assert seen == ["about", "symptoms"]

    review = text(client.get("/review"))
    for shown in ("40 years", "Female", "7 out of 10", "More than half", "None of these", "20.5 g"):
        assert shown in review

    response = client.get("/results")
    assert response.status_code == 200
    html = text(response)
    # Urgency first: no emergency or "soon" rule fired for this person, so the routine banner shows.
    assert html.index("urgency--routine") < html.index("Your scores")
    assert 'data-level="emergency"' not in html
    # Scores: a bar with band labels, the text equivalent, and the unvalidated label.
    assert '<svg class="bar"' in html and '<table class="table">' in html
    assert re.search(r"<th scope=\"row\">Pain</th>\s*<td>7\.1</td>\s*<td>high</td>", html)
    assert "Total (unvalidated)" in html and "tag--unvalidated" in html
    # Guidance cards with "why you see this" and links to the pages.
    assert "Your daily amount is above the level studied as safe for healthy adults." in html
    assert "Why you see this" in html and "Grams of glutamine per day" in html and "20.5 g" in html
    assert 'href="/guidance/dose-context?from=results"' in html
    assert 'href="/report.pdf"' in html and "Download summary for your doctor (PDF)" in html
    # The download comes straight after the action panel, before any card or score.
    assert html.index("urgency--routine") < html.index('href="/report.pdf"') < html.index("card--")
    assert html.index('href="/report.pdf"') < html.index("Your scores") < html.index('<table class="table">')
    assert re.search(r'<details class="details">\s*<summary[^>]*>Show your scores as a table', html)
    # Clearing asks first, on its own page.
    assert 'href="/clear">Clear my answers' in html and 'action="/clear"' not in html
    assert "If you feel unwell or worried, seek care whatever this tool says." in html


def test_emergency_card_comes_first_and_holds_back_self_care(
    respondent: Respondent, client: FlaskClient
) -> None:
    respondent.complete(MINI_ANSWERS | {"alarms": ["black_stool"]})
    html = text(client.get("/results"))
    assert 'data-level="emergency"' in html and "Get help now." in html
    assert 'href="tel:999"' in html
    assert "Your answers mention a sign that needs medical help." in html
    assert html.index("urgency--emergency") < html.index("Your scores")
    # R02 (info) is self-care guidance: held back while the emergency applies.
    assert "Your daily amount is above the level studied" not in html
    assert "held back 1 other suggestion" in html


def test_step_total_never_changes_when_a_section_is_hidden(
    respondent: Respondent, client: FlaskClient
) -> None:
    assert "Step 1 of 2" in text(client.get("/q/about"))
    respondent.answer("about", age="40")
    assert "Step 2 of 2" in text(client.get("/q/symptoms"))
    respondent.answer("about", age="10")  # a child: the symptoms section is hidden
    html = text(client.get("/q/about"))
    # The total counts every section that can appear: hiding one never makes it jump.
    assert "Step 1 of 2" in html and '<progress class="progress__bar" max="2" value="1"' in html
    assert "A page that does not apply to you is skipped" in html


def test_back_link_goes_to_the_previous_visible_section(respondent: Respondent, client: FlaskClient) -> None:
    assert re.search(r"class=\"back-link\" href=\"/\">Back<", text(client.get("/q/about")))
    respondent.answer("about", age="40")
    assert re.search(r"class=\"back-link\" href=\"/q/about\">Back<", text(client.get("/q/symptoms")))


def test_change_link_returns_to_the_row_on_the_review(respondent: Respondent, client: FlaskClient) -> None:
    respondent.complete()
    review = text(client.get("/review"))
    assert 'href="/q/about?return=review&amp;row=age#age"' in review
    assert 'href="/q/symptoms?return=review&amp;row=pain#pain-0"' in review
    assert '<div class="summary-list__row" id="answer-age">' in review
    page = text(client.get("/q/about?return=review&row=age"))
    assert 'action="/q/about?return=review&amp;row=age"' in page
    assert re.search(r"class=\"back-link\" href=\"/review\">Back to your answers<", page)
    response = respondent.post(
        "/q/about?return=review&row=age", {"age": "41", "sex": "female", "pregnant": "no"}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/review#answer-age"
    assert "41 years" in text(client.get("/review"))
    # A row that is not one of the page's questions is ignored: back to the top of the review.
    again = {"age": "42", "sex": "female", "pregnant": "no"}
    response = respondent.post("/q/about?return=review&row=pain", again)
    assert response.headers["Location"] == "/review"


def test_review_lists_answers_only_and_counts_the_blank_ones(
    respondent: Respondent, client: FlaskClient
) -> None:
    answers = {k: v for k, v in MINI_ANSWERS.items() if k != "notes"}
    respondent.complete(answers)
    review = text(client.get("/review"))
    assert "Not answered" not in review
    assert "1 left blank" in review and "You left 1 optional question blank on this page." in review
    assert review.count("See your results") == 2, "See your results belongs at the top and the bottom"
    assert review.count('<details class="review-section"') == 2


def test_hidden_section_is_skipped(respondent: Respondent, client: FlaskClient) -> None:
    response = respondent.answer("about", age="10")
    assert response.headers["Location"] == "/review"
    response = client.get("/q/symptoms")
    assert response.status_code == 302 and response.headers["Location"] == "/review"
    review = text(client.get("/review"))
    assert "The last 7 days" not in review and "How bad was your tummy pain?" not in review
    assert client.get("/results").status_code == 200


def test_answers_of_a_newly_hidden_section_are_dropped(
    app: Flask, respondent: Respondent, client: FlaskClient
) -> None:
    respondent.complete()
    assert stored(app, client)["pain"] == 7
    respondent.answer("about", age="10")
    kept = stored(app, client)
    assert kept == {"age": 10}, "answers to the now-hidden section must not linger in the cookie"


def test_hidden_questions_stale_answer_is_dropped(
    app: Flask, respondent: Respondent, client: FlaskClient
) -> None:
    respondent.answer("about", age="40", sex="female", pregnant="yes")
    assert stored(app, client)["pregnant"] == "yes"
    # Without JavaScript the pregnancy question is still on the page, and may still be posted.
    response = respondent.answer("about", age="40", sex="male", pregnant="yes")
    assert response.status_code == 302
    assert "pregnant" not in stored(app, client)
    respondent.answer("symptoms", pain="3")
    assert "Are you pregnant?" not in text(client.get("/review"))


def test_same_page_conditional_question_is_rendered_with_its_condition(client: FlaskClient) -> None:
    html = text(client.get("/q/about"))
    match = re.search(r"data-question=\"pregnant\" data-visible-if=\"([^\"]+)\"", html)
    assert match, "the pregnancy question must be on the page, with a condition for the script"
    condition = match.group(1).replace("&#34;", '"')
    assert condition == '{"eq":[{"answer":"sex","kind":"text"},{"value":"female"}]}'
    assert '<script src="/static/js/app.js" defer></script>' in html


def test_cold_results_and_review_redirect_to_the_start_with_a_message(client: FlaskClient) -> None:
    for path in ("/results", "/review"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"] == "/"
        assert "You have not answered any questions yet." in text(client.get("/"))


def test_results_need_every_required_visible_answer(respondent: Respondent, client: FlaskClient) -> None:
    respondent.answer("about", age="40")
    response = client.get("/results")
    assert response.status_code == 302 and response.headers["Location"] == "/q/symptoms"
    assert "Answer the questions on this page first." in text(client.get("/q/symptoms"))


def test_post_to_a_later_section_with_nothing_earlier_redirects_and_saves_nothing(
    app: Flask, respondent: Respondent, client: FlaskClient
) -> None:
    response = respondent.answer("symptoms", pain="5")
    assert response.status_code == 302 and response.headers["Location"] == "/q/about"
    assert stored(app, client) == {}
    assert client.get("/q/symptoms").headers["Location"] == "/q/about"


def test_clear_forgets_the_answers(respondent: Respondent, client: FlaskClient) -> None:
    respondent.complete()
    confirm = text(client.get("/clear"))
    assert "Clear your answers?" in confirm and 'action="/clear"' in confirm
    assert client.get("/results").status_code == 200, "showing the confirmation must not clear anything"
    response = respondent.post("/clear")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Your answers have been cleared." in text(client.get("/"))
    assert client.get("/review").headers["Location"] == "/"
    assert 'value="40"' not in text(client.get("/q/about"))


def test_start_page_offers_to_continue_once_answers_exist(
    respondent: Respondent, client: FlaskClient
) -> None:
    respondent.answer("about", age="40")
    html = text(client.get("/"))
    assert 'href="/q/symptoms">Continue where you left off' in html
    assert 'href="/clear">Clear my answers and start again' in html


def test_unknown_section_is_404(client: FlaskClient) -> None:
    response = client.get("/q/nope")
    assert response.status_code == 404
    assert "Page not found" in text(response)


def test_head_of_the_start_page(client: FlaskClient) -> None:
    response = client.head("/")
    assert response.status_code == 200
    assert response.get_data() == b""


def test_stored_values_are_shown_again_on_the_page(respondent: Respondent, client: FlaskClient) -> None:
    respondent.complete()
    about = text(client.get("/q/about"))
    assert one_input(about, id="age")["value"] == "40"
    assert "checked" in one_input(about, id="sex-0", value="female")
    symptoms = text(client.get("/q/symptoms"))
    assert [i["value"] for i in inputs(symptoms, name="loose_share") if "checked" in i] == ["gt50"]
    assert [i["value"] for i in inputs(symptoms, name="alarms") if "checked" in i] == ["none"]
    assert one_input(symptoms, id="dose_g")["value"] == "20.5"
    assert re.search(r">\s*Worse after dinner\.</textarea>", symptoms)


def test_the_shipped_questionnaire_can_be_walked_to_the_results(tmp_path: Path) -> None:
    real_path = ROOT / "questions.yaml"
    real = load_questionnaire(real_path)
    app = make_app(QUESTIONS_PATH=str(real_path), GUIDANCE_DIR=str(stub_guidance(tmp_path / "g", real)))
    client = app.test_client()
    person = Respondent(client, first_section=real.sections[0].id)
    answers = generic_answers(real)
    seen = person.complete(answers)
    assert seen == [
        s.id for s in visible_path(real, parse_answers(real, _as_lists(answers)).answers).sections
    ]
    assert client.get("/review").status_code == 200
    html = text(client.get("/results"))
    assert "Your results" in html and "If you feel unwell or worried" in html


def _as_lists(answers: dict[str, object]) -> dict[str, list[object]]:
    return {k: list(v) if isinstance(v, list) else [v] for k, v in answers.items()}
