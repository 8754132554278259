"""Every worked case on the results page: the banner's level is the highest among the cards shown, its
time frame is that level's sentence, and the "nothing urgent" wording shows only when it is true.

Each case's answers are restored through "Continue from a saved file" (one request, the real path a
person takes with a saved answers file), then GET /results is read as HTML.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from flask import Flask

from assessment import create_app
from assessment.domain import ACT_SOON
from assessment.domain import Questionnaire
from assessment.domain import Urgency
from assessment.domain import alarm_report
from assessment.domain import assess
from assessment.domain import parse_answers
from assessment.web.state import state
from tests.casefiles import CASES
from tests.casefiles import load_case
from tests.casefiles import raw_of
from tests.web.test_portable import upload

NOTHING_URGENT = "Nothing in your answers needs urgent care"
MENTION = "None of your answers needs urgent care, but mention these at your next appointment"
BANNER = re.compile(r'<section class="urgency urgency--(\w+)" data-level="(\w+)"(.*?)</section>', re.S)
CARD = re.compile(r'<article class="card card--(\w+)" data-level="(\w+)"(.*?)</article>', re.S)


@pytest.fixture(scope="module")
def app() -> Flask:
    return create_app({"TESTING": True, "SECRET_KEY": "results-levels-secret-0123456789abcdef"})


def plain(fragment: str) -> str:
    """Text of an HTML fragment, tags removed and spaces folded."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_banner_names_the_highest_level_among_the_cards(app: Flask, path: Path) -> None:
    questionnaire: Questionnaire = state(app).questionnaire
    case = load_case(path)
    client = app.test_client()
    meta = questionnaire.meta
    document = {"questionnaire": {"id": meta.id, "version": meta.version}, "answers": case["answers"]}
    assert upload(client, json.dumps(document).encode()).status_code == 302
    page = client.get("/results")
    assert page.status_code == 200, path.stem
    body = page.get_data(as_text=True)

    banners = BANNER.findall(body)
    assert len(banners) == 1, "one banner, above everything else"
    banner_class, banner_level, banner_html = banners[0]
    assert banner_class == banner_level == case["urgency"]
    cards = [(level, inner) for _, level, inner in CARD.findall(body)]
    assert cards or banner_level == Urgency.INFO.value
    highest = min((Urgency(level) for level, _ in cards), key=lambda u: u.rank, default=Urgency.INFO)
    assert Urgency(banner_level) is highest, "no card may ask for a shorter wait than the banner"
    level = questionnaire.levels[highest]
    assert level.time_frame in plain(banner_html)
    for card_level, inner in cards:
        assert questionnaire.levels[Urgency(card_level)].time_frame in plain(inner)

    result = assess(questionnaire, parse_answers(questionnaire, raw_of(case["answers"])).answers)
    features = alarm_report(result).features
    calm = result.urgency not in ACT_SOON
    assert (NOTHING_URGENT in body) == (calm and not features)
    assert (MENTION in body) == (calm and bool(features))
    assert meta.safety_net.split(",")[0] in plain(body), "the safety net shows on every results page"
    assert 'href="tel:999"' in body and 'href="tel:111"' in body, "with tap-to-call for now and today"
