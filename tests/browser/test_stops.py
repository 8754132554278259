"""Emergencies first, in a real browser (CONTENT 9.2): with and without JavaScript the first page's
"vomited blood" leads to the help-now page, age 16 to the under-18 page, and "continue" goes on."""

from __future__ import annotations

import re

import pytest
from browser_flow import NewContext
from browser_flow import fill_visible
from browser_flow import load_case
from browser_flow import path_of
from browser_flow import questionnaire
from browser_flow import section_form
from browser_flow import start
from browser_flow import submit_button
from playwright.sync_api import Page
from playwright.sync_api import expect
from test_accessibility import Audit

pytestmark = pytest.mark.browser


def first_page(page: Page, base_url: str, **changes: object) -> None:
    """Start, answer the first page as P1 would with changes, and press Continue."""
    start(page, base_url)
    assert path_of(page) == f"/q/{questionnaire().sections[0].id}"
    fill_visible(page, load_case("p1_emma") | changes)
    submit_button(section_form(page)).click()
    page.wait_for_load_state()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_vomited_blood_shows_the_help_now_page_before_any_other_question(
    new_context: NewContext, base_url: str, javascript: bool
) -> None:
    page = new_context(java_script_enabled=javascript).new_page()
    first_page(page, base_url, alarms_now=["vomit_blood"])
    assert path_of(page) == "/help-now"
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("help now", re.I))
    call = page.locator('a[href="tel:999"]').first
    expect(call).to_be_visible()
    assert page.locator('input[name="sex"]').count() == 0, "no other question before the advice"
    # "Continue" reaches the next section of the questionnaire.
    page.get_by_role("link", name=re.compile("safe to continue")).click()
    page.wait_for_load_state()
    assert path_of(page) == f"/q/{questionnaire().sections[1].id}"
    expect(page.locator('input[name="sex"]').first).to_be_visible()


def test_age_16_shows_the_under_18_page_after_the_first_page(page: Page, base_url: str) -> None:
    first_page(page, base_url, age=16)
    assert path_of(page) == "/stop/U18"
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("adults", re.I))
    expect(page.get_by_text(re.compile("aged 18 and over"))).to_be_visible()


def test_stop_pages_have_no_accessibility_violations(axe_page: Page, base_url: str) -> None:
    audit = Audit()
    first_page(axe_page, base_url, alarms_now=["vomit_blood"], age=16)
    assert path_of(axe_page) == "/help-now"
    audit.check(axe_page, "help-now page")
    axe_page.get_by_role("link", name=re.compile("safe to continue")).click()
    axe_page.wait_for_load_state()
    assert path_of(axe_page) == "/stop/U18"
    audit.check(axe_page, "under-18 page")
    audit.done()
