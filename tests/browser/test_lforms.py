"""Proof with a FHIR form renderer no one here wrote: NLM's LHC-Forms fills our exported Questionnaire.

The `lforms` npm package (installed by the Makefile into build/) is served to Chromium through
Playwright routing on a made-up host, so nothing leaves the machine. The test fills persona P1's
answers through LHC-Forms' own widgets, takes the QuestionnaireResponse that LHC-Forms builds, and
posts it to our API; the assessment must equal the one P1 gets through our own forms. A second
test checks that LHC-Forms hides and shows two conditional questions as our pages do: one
carried as a plain enableWhen, one as an enableWhenExpression in FHIRPath.
"""

from __future__ import annotations

import json
import mimetypes
import re
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from browser_flow import NewContext
from browser_flow import answer_sections
from browser_flow import complete_flow
from browser_flow import load_case
from browser_flow import questionnaire
from browser_flow import start
from playwright.sync_api import Page
from playwright.sync_api import Route
from playwright.sync_api import expect

from assessment.domain import QuestionType
from assessment.domain import parse_answers
from assessment.domain import visible_path
from assessment.fhir import code_system
from tests.casefiles import raw_of

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
_VERSION = re.search(r"^LFORMS_VERSION := (\S+)$", (ROOT / "Makefile").read_text("utf-8"), re.M)
LFORMS = ROOT / "build" / f"lforms-{_VERSION.group(1) if _VERSION else 'unknown'}" / "dist" / "lforms"
HOST = "http://lforms.invalid"
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>LHC-Forms</title>
<link rel="stylesheet" href="/lforms/webcomponent/styles.css">
<script src="/lforms/webcomponent/assets/lib/zone.min.js"></script>
<script src="/lforms/webcomponent/runtime.js" type="module"></script>
<script src="/lforms/webcomponent/polyfills.js" type="module"></script>
<script src="/lforms/webcomponent/main.js" type="module"></script>
</head><body><div id="form"></div></body></html>"""


def _serve(route: Route) -> None:
    """Serve the LHC-Forms page and files; refuse everything else (no network at test time)."""
    url = route.request.url
    if not url.startswith(HOST + "/"):
        route.abort()
        return
    path = url[len(HOST) :].split("?", 1)[0]
    if path == "/":
        route.fulfill(body=PAGE, content_type="text/html; charset=utf-8")
        return
    target = (LFORMS / path.removeprefix("/lforms/")).resolve()
    if not path.startswith("/lforms/") or not target.is_relative_to(LFORMS) or not target.is_file():
        route.fulfill(status=404, body="")
        return
    kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    # The FHIR library holds a parser table in non-ASCII text: it must be read as UTF-8.
    route.fulfill(body=target.read_bytes(), content_type=f"{kind}; charset=utf-8")


def http(base_url: str, path: str, body: bytes | None = None, content_type: str = "") -> tuple[int, Any]:
    """GET or POST to our app; return the status and the parsed JSON body."""
    request = urllib.request.Request(base_url + path, data=body, method="POST" if body is not None else "GET")
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def open_lforms(page: Page, base_url: str) -> dict[str, Any]:
    """Load our exported Questionnaire into LHC-Forms; return the Questionnaire."""
    assert (LFORMS / "webcomponent" / "main.js").is_file(), f"{LFORMS} is missing: run `make deps-test`"
    status, fhir_questionnaire = http(base_url, "/fhir/Questionnaire")
    assert status == 200
    page.route("**/*", _serve)
    page.goto(HOST + "/")
    page.wait_for_function("() => !!(window.LForms && LForms.Util)", timeout=30_000)
    # The FHIR support file extends the LForms object that main.js creates, so it comes after it.
    page.add_script_tag(url=HOST + "/lforms/fhir/R4/lformsFHIR.min.js")
    page.wait_for_function("() => !!(LForms.FHIR && LForms.FHIR.R4)", timeout=30_000)
    outcome = page.evaluate(
        "q => LForms.Util.addFormToPage(q, 'form', {fhirVersion: 'R4'}).then(() => 'ok', e => String(e))",
        fhir_questionnaire,
    )
    assert outcome == "ok", outcome
    expect(page.locator('[id="age/1/1"]')).to_be_visible(timeout=30_000)
    return fhir_questionnaire


def item(page: Page, qid: str) -> Any:
    """The LHC-Forms item of a question (present only while the item is enabled)."""
    return page.locator(f'[id="item-{qid}/1/1"]')


def fill(page: Page, qid: str, value: Any) -> None:
    """Answer one question through LHC-Forms' own widget for it."""
    question = questionnaire().questions[qid]
    expect(item(page, qid)).to_be_visible(timeout=5000)
    if question.type is QuestionType.YES_NO:
        page.locator(f'[id="{qid}/1/1|{"true" if value == "yes" else "false"}"]').click()
    elif question.type in (QuestionType.SINGLE, QuestionType.MULTI):
        system = code_system(questionnaire(), question)
        for code in value if isinstance(value, list) else [value]:
            page.locator(f'[id="{qid}/1/1|{system}|{code}"]').click()
    else:
        field = page.locator(f'[id="{qid}/1/1"]')
        field.fill(str(value))
        field.press("Tab")


def test_lforms_fills_p1_and_our_api_gives_the_assessment_of_our_own_forms(
    new_context: NewContext, base_url: str
) -> None:
    p1 = load_case("p1_emma")
    parsed = parse_answers(questionnaire(), raw_of(p1))
    assert not parsed.errors
    on_path = visible_path(questionnaire(), parsed.answers).question_ids

    page = new_context().new_page()
    open_lforms(page, base_url)
    for qid in on_path:  # in questionnaire order, so each answer enables what follows it
        if qid in p1:
            fill(page, qid, p1[qid])
    response = page.evaluate("() => LForms.Util.getFormFHIRData('QuestionnaireResponse', 'R4')")
    assert response["resourceType"] == "QuestionnaireResponse"

    # LHC-Forms worked out our scores itself, from the calculatedExpressions (rounding included).
    calculated = {
        i["linkId"].removeprefix("score."): Decimal(str(next(iter(i["answer"][0].values()))))
        for group in response["item"]
        for i in group.get("item", [])
        if i["linkId"].startswith("score.")
    }

    status, from_lforms = http(
        base_url, "/api/v1/assessments", json.dumps(response).encode(), "application/fhir+json"
    )
    assert status == 200, from_lforms

    # The same person through our own forms, then the results page's "Download my answers as FHIR".
    ours = new_context().new_page()
    complete_flow(ours, base_url, p1)
    with ours.expect_download() as download:
        ours.get_by_role("link", name="Download my answers as FHIR").click()
    our_response = json.loads(Path(download.value.path()).read_bytes())
    status, from_our_forms = http(
        base_url, "/api/v1/assessments", json.dumps(our_response).encode(), "application/fhir+json"
    )
    assert status == 200, from_our_forms

    assert from_lforms == from_our_forms
    assert from_lforms["urgency"] == "routine"
    assert {s["id"]: s["value"] for s in from_lforms["scores"]}["gsbi"] == 53
    assert {r["id"] for r in from_lforms["rules"]} == {"R19", "R20", "R21", "R22", "R26", "R28"}
    assert calculated == {s["id"]: Decimal(str(s["value"])) for s in from_lforms["scores"]}


def test_lforms_hides_and_shows_conditional_questions_as_our_pages_do(
    new_context: NewContext, base_url: str
) -> None:
    p1 = load_case("p1_emma")
    lforms = new_context().new_page()
    fhir_questionnaire = open_lforms(lforms, base_url)
    items = {i["linkId"]: i for g in fhir_questionnaire["item"] for i in g.get("item", [])}
    assert "enableWhen" in items["pregnancy"]
    assert "enableWhen" not in items["foods_cut_weeks"] and "extension" in items["foods_cut_weeks"]
    fill(lforms, "age", 32)

    ours = new_context().new_page()
    start(ours, base_url)
    answer_sections(ours, p1, stop_at=("/q/about",))
    pregnancy = ours.locator('[name="pregnancy"]').first

    # Pregnancy: asked unless the answer is "male" (a plain enableWhen with !=).
    expect(pregnancy).to_be_visible(timeout=2000)
    expect(item(lforms, "pregnancy")).to_be_visible()
    for choice, shown in (("male", False), ("prefer_not", True), ("female", True), ("male", False)):
        ours.locator(f'input[name="sex"][value="{choice}"]').check()
        fill(lforms, "sex", choice)
        if shown:
            expect(pregnancy).to_be_visible(timeout=2000)
            expect(item(lforms, "pregnancy")).to_be_visible(timeout=5000)
        else:
            expect(pregnancy).to_be_hidden(timeout=2000)
            expect(item(lforms, "pregnancy")).to_have_count(0, timeout=5000)

    # Weeks since cutting foods: asked when a food was cut, not for "none" (an enableWhenExpression).
    answer_sections(ours, p1, stop_at=("/q/food",))  # on with P1's answers (she is female)
    weeks = ours.locator('[name="foods_cut_weeks"]').first
    box = {code: ours.locator(f'input[name="foods_cut"][value="{code}"]') for code in ("wheat", "none")}

    expect(weeks).to_be_hidden(timeout=2000)
    expect(item(lforms, "foods_cut_weeks")).to_have_count(0)
    for code, tick, shown in (("wheat", True, True), ("wheat", False, False), ("none", True, False)):
        box[code].set_checked(tick)
        fill(lforms, "foods_cut", [code])  # a click toggles the LHC-Forms box the same way
        if shown:
            expect(weeks).to_be_visible(timeout=2000)
            expect(item(lforms, "foods_cut_weeks")).to_be_visible(timeout=5000)
        else:
            expect(weeks).to_be_hidden(timeout=2000)
            expect(item(lforms, "foods_cut_weeks")).to_have_count(0, timeout=5000)
