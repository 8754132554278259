"""axe-core (bundled with axe-playwright-python, no CDN) on every kind of page: zero WCAG A/AA violations.

A failure lists each violation's id, impact, help text and the target nodes, so it can be fixed
from the test output alone.
"""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from browser_flow import answer_sections
from browser_flow import go_to_results
from browser_flow import has_errors
from browser_flow import load_case
from browser_flow import norm_text
from browser_flow import path_of
from browser_flow import questionnaire
from browser_flow import rule_texts
from browser_flow import section_form
from browser_flow import start
from browser_flow import submit_button
from playwright.sync_api import Page

pytestmark = pytest.mark.browser

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
OPTIONS = {"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]}
AXE = Axe()


def violations(page: Page) -> list[dict[str, Any]]:
    """Run axe-core on the page as it is now; return its violations."""
    found: list[dict[str, Any]] = AXE.run(page, options=OPTIONS).response["violations"]
    return found


def describe(where: str, found: list[dict[str, Any]]) -> str:
    """Write violations as plain lines: id, impact, help, then each target node."""
    lines = [f"{where}: {len(found)} axe violation(s)"]
    for v in found:
        lines.append(f"  {v['id']} ({v.get('impact')}): {v.get('help')} [{v.get('helpUrl', '')}]")
        for node in v.get("nodes", [])[:10]:
            target = " ".join(str(t) for t in node.get("target", []))
            summary = " ".join(str(node.get("failureSummary", "")).split())
            lines.append(f"    - {target}: {summary[:300]}")
            lines.append(f"      {' '.join(str(node.get('html', '')).split())[:200]}")
    return "\n".join(lines)


class Audit:
    """Collects violations from several pages of one test and fails once, listing them all."""

    def __init__(self) -> None:
        self.reports: list[str] = []

    def check(self, page: Page, where: str) -> None:
        found = violations(page)
        if found:
            self.reports.append(describe(f"{where} ({path_of(page)})", found))

    def done(self) -> None:
        report = "\n".join(self.reports)
        if report:
            print(report)
        assert not self.reports, report


def test_start_and_question_page(axe_page: Page, base_url: str) -> None:
    audit = Audit()
    axe_page.goto(base_url + "/")
    audit.check(axe_page, "start page")
    start(axe_page, base_url)
    audit.check(axe_page, "question page")
    audit.done()


def test_question_page_with_errors(axe_page: Page, base_url: str) -> None:
    start(axe_page, base_url)
    form = section_form(axe_page)
    # Reach the server's own error page even if the form also validates in the browser.
    form.evaluate("f => { f.noValidate = true; }")
    submit_button(form).click()
    axe_page.wait_for_load_state()
    first = f"/q/{questionnaire().sections[0].id}"
    assert path_of(axe_page) == first, "an empty required answer should keep the person on the page"
    assert has_errors(axe_page), "the page shows no error for the empty required answers"
    audit = Audit()
    audit.check(axe_page, "question page with errors")
    audit.done()


def test_review_and_routine_results(axe_page: Page, base_url: str) -> None:
    audit = Audit()
    start(axe_page, base_url)
    answer_sections(axe_page, load_case("p1_emma"))
    assert path_of(axe_page) == "/review"
    audit.check(axe_page, "review page")
    go_to_results(axe_page)
    audit.check(axe_page, "results page (routine, P1)")
    audit.done()


def test_emergency_results(axe_page: Page, base_url: str) -> None:
    answers = load_case("p1_emma")
    alarms = questionnaire().questions["alarms_now"]
    assert alarms.option("tarry_stool"), "alarms_now should offer tarry_stool"
    answers["alarms_now"] = ["tarry_stool"]
    start(axe_page, base_url)
    answer_sections(axe_page, answers)
    go_to_results(axe_page)
    _, message = rule_texts("R01")
    text = norm_text(axe_page)
    assert message in text, "the emergency advice (R01) is not on the results page"
    gsbi = next(score.label for score in questionnaire().scores if score.id == "gsbi")
    if gsbi in text:
        assert text.index(message) < text.index(gsbi), "the emergency advice should come before the scores"
    audit = Audit()
    audit.check(axe_page, "results page (emergency)")
    audit.done()


def test_guidance_pages_and_404(axe_page: Page, base_url: str) -> None:
    audit = Audit()
    axe_page.goto(base_url + "/guidance/")
    audit.check(axe_page, "guidance index")
    slug = next(rule.guidance for rule in questionnaire().rules if rule.id == "R19")
    response = axe_page.goto(f"{base_url}/guidance/{slug}")
    assert response is not None and response.status == 200, f"/guidance/{slug} did not answer 200"
    audit.check(axe_page, "guidance page")
    response = axe_page.goto(base_url + "/guidance/no-such-page")
    assert response is not None and response.status == 404
    audit.check(axe_page, "404 page")
    audit.done()


def test_stop_pages_and_the_clear_confirmation(axe_page: Page, base_url: str) -> None:
    audit = Audit()
    answers = load_case("p1_emma")
    # An emergency answer on the first page leads to the help-now page.
    start(axe_page, base_url)
    answer_sections(axe_page, answers | {"alarms_now": ["tarry_stool"]}, stop_at=("/help-now",))
    assert path_of(axe_page) == "/help-now"
    audit.check(axe_page, "help-now stop page")
    # An age under 18 stops the questionnaire on the under-18 page.
    axe_page.context.clear_cookies()
    start(axe_page, base_url)
    answer_sections(axe_page, answers | {"age": "15"}, stop_at=("/stop/U18",))
    assert path_of(axe_page) == "/stop/U18"
    audit.check(axe_page, "under-18 stop page")
    axe_page.goto(base_url + "/clear")
    assert "Clear your answers?" in norm_text(axe_page)
    audit.check(axe_page, "clear confirmation page")
    audit.done()


def test_side_effects_grid_on_a_wide_screen(new_context: Any, base_url: str) -> None:
    page = new_context(bypass_csp=True, viewport={"width": 1280, "height": 900}).new_page()
    start(page, base_url)
    answers = load_case("p2_raj")
    answer_sections(page, answers, stop_at=("/q/side_effects",))
    assert path_of(page) == "/q/side_effects"
    # One grid: every graded side effect's answers line up in the same columns.
    lefts = page.locator(".question--row").evaluate_all(
        "rows => rows.map(r => [...r.querySelectorAll('.choice__input')]"
        ".map(i => Math.round(i.getBoundingClientRect().left)))"
    )
    assert len(lefts) >= 3 and all(row == lefts[0] for row in lefts), lefts
    tops = (
        page.locator(".question--row")
        .first.locator(".choice")
        .evaluate_all("els => els.map(e => Math.round(e.getBoundingClientRect().top))")
    )
    assert len(set(tops)) == 1, f"a row's answers should sit side by side: {tops}"
    audit = Audit()
    audit.check(page, "side effects grid (wide)")
    audit.done()
