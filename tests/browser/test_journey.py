"""Issue 14 in real Chromium at phone size: the action and the PDF above the fold, a step total
that never changes, Change returning to its row, the 0-10 scale on one row at 320 px, cues."""

from __future__ import annotations

import re

import pytest
from browser_flow import NewContext
from browser_flow import answer_sections
from browser_flow import complete_flow
from browser_flow import load_case
from browser_flow import path_of
from browser_flow import questionnaire
from browser_flow import start
from playwright.sync_api import Page

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def in_first_viewport(page: Page, selector: str) -> bool:
    """Say whether an element lies wholly inside the first screen (the page not scrolled)."""
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not shown"
    return box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]


@pytest.mark.parametrize("case", ["p1_emma", "p2_raj", "p3_linda"])
def test_action_panel_and_pdf_button_are_on_the_first_phone_screen(
    new_context: NewContext, base_url: str, case: str
) -> None:
    page = new_context(viewport=PHONE).new_page()
    complete_flow(page, base_url, load_case(case))
    page.evaluate("window.scrollTo(0, 0)")
    assert page.locator("section.urgency[data-level]").count() == 1
    assert in_first_viewport(page, "section.urgency"), f"{case}: the action panel runs below the fold"
    assert in_first_viewport(page, 'a[href="/report.pdf"]'), f"{case}: the PDF button is below the fold"


def test_the_step_total_stays_the_same_when_the_side_effects_page_appears(page: Page, base_url: str) -> None:
    answers = load_case("p1_emma") | {
        "glutamine_status": "now",
        "glutamine_form": "powder",
        "glutamine_dose_g": "5",
        "glutamine_weeks": "4",
    }
    steps: list[tuple[int, int]] = []

    def note(p: Page) -> None:
        found = re.search(r"Step (\d+) of (\d+)", p.locator(".progress__text").inner_text())
        assert found, f"no step count on {p.url}"
        steps.append((int(found.group(1)), int(found.group(2))))

    start(page, base_url)
    seen = answer_sections(page, answers, on_page=note)
    assert "side_effects" in seen, "the walk should have added the side-effects page"
    totals = {total for _, total in steps}
    assert totals == {len(questionnaire().sections)}, f"the total changed during the walk: {steps}"
    numbers = [k for k, _ in steps]
    assert numbers == sorted(numbers), f"the step number went backwards: {steps}"


def test_change_returns_to_the_changed_row_in_view(new_context: NewContext, base_url: str) -> None:
    page = new_context(viewport=PHONE).new_page()
    start(page, base_url)
    answer_sections(page, load_case("p1_emma"))
    assert path_of(page) == "/review"
    row = page.locator("#answer-gas")
    row.locator("a", has_text="Change").click()
    page.wait_for_load_state()
    assert path_of(page) == "/q/symptoms"
    page.locator('input[name="gas"][value="2"]').check()
    page.get_by_role("button", name=re.compile("Save and go back")).click()
    page.wait_for_load_state()
    assert page.url.endswith("/review#answer-gas"), page.url
    box = page.locator("#answer-gas").bounding_box()
    assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= PHONE["height"], box
    assert "2 out of 10" in page.locator("#answer-gas").inner_text()


def test_the_0_to_10_scale_fits_one_row_at_320px(new_context: NewContext, base_url: str) -> None:
    page = new_context(viewport={"width": 320, "height": 640}).new_page()
    start(page, base_url)
    answer_sections(page, load_case("p1_emma"), stop_at=("/q/symptoms",))
    page.get_by_role("button", name="Continue").click()  # show the page with its errors, too
    page.wait_for_load_state()
    assert path_of(page) == "/q/symptoms"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"the page scrolls sideways at 320 px ({width} px wide)"
    tops = page.locator('[data-question="pain"] .choice').evaluate_all(
        "els => els.map(e => Math.round(e.getBoundingClientRect().top))"
    )
    assert len(tops) == 11 and len(set(tops)) == 1, f"the scale wraps: {tops}"


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
def test_conditional_questions_are_cued_without_script(
    new_context: NewContext, base_url: str, javascript: bool
) -> None:
    page = new_context(java_script_enabled=javascript).new_page()
    start(page, base_url)
    answer_sections(page, load_case("p1_emma"), stop_at=("/q/supplements",))
    cue = page.locator("#probiotic_product-cue")
    if javascript:
        assert not cue.is_visible(), "with the script the question appears when it applies: no cue needed"
    else:
        assert cue.is_visible() and cue.inner_text().startswith("Answer only if")
