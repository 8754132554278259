"""End-to-end in real Chromium: persona P1 (Emma) from the start page to the PDF, with and without
JavaScript; one section by keyboard alone; phone widths; a same-page conditional question."""

from __future__ import annotations

import re
import subprocess
from typing import Any

import pytest
from browser_flow import NewContext
from browser_flow import answer_sections
from browser_flow import as_strings
from browser_flow import complete_flow
from browser_flow import download_pdf
from browser_flow import load_case
from browser_flow import norm_text
from browser_flow import path_of
from browser_flow import questionnaire
from browser_flow import rule_texts
from browser_flow import shows_rule
from browser_flow import start
from browser_flow import visible_path_ids
from playwright.sync_api import Page
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

P1_GSBI = "53"
P1_BAND = "moderate"
P1_FIRES = ("R19", "R20", "R21", "R22", "R26")


def assert_p1_results(page: Page) -> None:
    """The results page shows P1's score, band and guidance, and no emergency advice."""
    assert path_of(page) == "/results"
    text = norm_text(page)
    assert re.search(rf"\b{P1_GSBI}\b", text), f"GSBI {P1_GSBI} not on the results page: {text[:400]}"
    assert P1_BAND in text.lower(), f"band '{P1_BAND}' not on the results page"
    missing = [rule for rule in P1_FIRES if not shows_rule(text, rule)]
    assert not missing, f"guidance for {missing} is missing from the results page"
    _, emergency_message = rule_texts("R01")
    assert emergency_message not in text, "P1 has no alarm feature, yet the emergency advice shows"
    # The urgency banner comes first: the first heading after the page title, before the scores.
    headings = [" ".join(h.split()) for h in page.locator("main h2").all_inner_texts()]
    assert headings, "the results page has no section headings"
    urgency = headings[0]
    assert not re.search(r"score", urgency, re.I), f"the first section is {urgency!r}, not the urgency"
    assert not re.search(r"\bnow\b|\bsoon\b|emergency", urgency, re.I), f"P1 is routine, yet: {urgency!r}"


def assert_pdf(name: str, data: bytes) -> None:
    assert data.startswith(b"%PDF"), f"the download is not a PDF: {data[:40]!r}"
    assert name.lower().endswith(".pdf"), f"suggested file name {name!r} does not end in .pdf"
    text = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout
    assert re.search(rf"\b{P1_GSBI}\b", text.decode("utf-8", errors="replace")), "P1's GSBI is not in the PDF"


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
def test_p1_completes_the_flow_and_downloads_the_pdf(
    new_context: NewContext, base_url: str, javascript: bool
) -> None:
    answers = load_case("p1_emma")
    page = new_context(java_script_enabled=javascript).new_page()
    csp_errors: list[str] = []
    page.on("console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None)

    seen = complete_flow(page, base_url, answers)

    assert seen == visible_path_ids(answers), "the sections shown differ from the person's visible path"
    assert_p1_results(page)
    name, data = download_pdf(page)
    assert_pdf(name, data)
    assert not csp_errors, f"the page broke its own Content Security Policy: {csp_errors}"


def _focused(page: Page) -> dict[str, Any]:
    info: dict[str, Any] = page.evaluate(
        """() => {
            const e = document.activeElement;
            if (!e || e === document.body) return {tag: 'body', type: '', name: '', value: ''};
            return {
                tag: e.tagName.toLowerCase(),
                type: (e.type || '').toLowerCase(),
                name: e.getAttribute('name') || '',
                value: e.value || '',
                checked: !!e.checked,
                text: (e.innerText || e.value || '').trim(),
                inSectionForm: !!(e.form && e.form.querySelector('[name="age"]')),
            };
        }"""
    )
    return info


def _keyboard_answer(page: Page, answers: dict[str, Any]) -> None:
    """Tab through the page; answer each field by keyboard; press Enter on the section's button."""
    done: set[str] = set()
    for _ in range(120):
        page.keyboard.press("Tab")
        el = _focused(page)
        name, kind = el["name"], el["type"]
        if name in answers and name not in done:
            wanted = as_strings(answers[name])[0]
            if kind == "radio":
                # Arrow keys move through a radio group and select; Space selects the focused one.
                for _ in range(20):
                    if _focused(page)["value"] == wanted:
                        page.keyboard.press("Space")
                        break
                    page.keyboard.press("ArrowDown")
                assert _focused(page)["checked"], f"could not choose {wanted!r} for {name} by keyboard"
            elif kind == "checkbox":
                if el["value"] in as_strings(answers[name]) and not el["checked"]:
                    page.keyboard.press("Space")
                continue  # every box is its own tab stop
            else:
                page.keyboard.type(wanted)
            done.add(name)
        elif (
            el["inSectionForm"]
            and (el["tag"] == "button" or kind == "submit")
            and not re.search(r"back", el["text"], re.I)
        ):
            with page.expect_event("load"):
                page.keyboard.press("Enter")
            return
    raise AssertionError(f"never reached the section's submit button by Tab; answered {sorted(done)}")


def test_one_section_by_keyboard_alone(page: Page, base_url: str) -> None:
    p1 = load_case("p1_emma")
    first, second = (s.id for s in questionnaire().sections[:2])
    on_first = [q.id for q in questionnaire().sections[0].questions]
    answers = {qid: p1[qid] for qid in on_first if qid in p1}
    assert {"age", "alarms_now", "fever"} <= set(answers), "P1 should answer age, signs now and fever"

    page.goto(base_url + "/")
    for _ in range(40):  # Tab to the Start control and press Enter: no clicks anywhere
        page.keyboard.press("Tab")
        if re.search(r"\bstart\b", _focused(page)["text"], re.I):
            with page.expect_event("load"):
                page.keyboard.press("Enter")
            break
    assert path_of(page) == f"/q/{first}", f"Start (by keyboard) led to {page.url}"

    _keyboard_answer(page, answers)
    assert path_of(page) == f"/q/{second}", f"the keyboard-completed section led to {page.url}"

    page.goto(base_url + f"/q/{first}")  # the answers were stored
    assert page.locator('[name="age"]').input_value() == str(answers["age"])
    expect(page.locator('input[name="fever"][value="no"]')).to_be_checked()
    expect(page.locator('input[name="alarms_now"][value="none"]')).to_be_checked()


def _overflow(page: Page, width: int) -> dict[str, Any]:
    info: dict[str, Any] = page.evaluate(
        """(width) => ({
            scrollWidth: document.documentElement.scrollWidth,
            innerWidth: window.innerWidth,
            // The elements that stick out of a parent that itself fits: where to fix it.
            wide: [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > width + 0.5
                        && e.parentElement.getBoundingClientRect().right <= width + 0.5)
                .slice(0, 5)
                .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                     + (typeof e.className === 'string' && e.className
                        ? '.' + e.className.trim().split(/\\s+/).join('.') : '')
                     + ' (' + Math.round(e.getBoundingClientRect().right) + 'px)'),
        })""",
        width,
    )
    return info


def test_phone_viewport_has_no_horizontal_scrolling(new_context: NewContext, base_url: str) -> None:
    """At 320 px every page of the flow fits; at 375 px the start, question and results pages do."""
    context = new_context(viewport={"width": 320, "height": 568}, is_mobile=True, has_touch=True)
    page = context.new_page()
    problems: list[str] = []

    def check(p: Page, width: int = 320) -> None:
        info = _overflow(p, width)
        where = f"{width}px {path_of(p)}"
        # A mobile browser widens the layout to fit content that overflows, so check both.
        if info["innerWidth"] != width:
            problems.append(f"{where}: layout is {info['innerWidth']}px wide; too wide: {info['wide']}")
        elif info["scrollWidth"] > info["innerWidth"]:
            problems.append(
                f"{where}: scrollWidth {info['scrollWidth']} > {info['innerWidth']}; too wide: {info['wide']}"
            )

    page.goto(base_url + "/")
    check(page)
    complete_flow(page, base_url, load_case("p1_emma"), on_page=check)  # every question page and review
    check(page)  # results

    page.set_viewport_size({"width": 375, "height": 667})
    check(page, 375)  # results
    for path in ("/", "/q/about", "/q/symptoms"):
        page.goto(base_url + path)
        check(page, 375)
    assert not problems, "horizontal scrolling on a phone:\n" + "\n".join(problems)


def test_same_page_conditional_question_appears_at_once(page: Page, base_url: str) -> None:
    start(page, base_url)
    answer_sections(page, load_case("p1_emma"), stop_at=("/q/about",))
    assert path_of(page) == "/q/about"
    requests: list[str] = []
    # The browser fetches the favicon on its own schedule; it has nothing to do with the question.
    page.on("request", lambda r: None if "favicon" in r.url else requests.append(r.url))
    # Pregnancy is asked unless the answer is "male" (CONTENT 9.3), so it shows before any choice.
    pregnancy = page.locator('[name="pregnancy"]').first
    expect(pregnancy).to_be_visible(timeout=1000)
    page.locator('input[name="sex"][value="male"]').check()
    expect(pregnancy).to_be_hidden(timeout=1000)
    page.locator('input[name="sex"][value="prefer_not"]').check()
    expect(pregnancy).to_be_visible(timeout=1000)
    assert not requests, f"showing the question should need no request to the server: {requests}"
