"""Helpers that drive the questionnaire generically from a case file's answers.

A case's `answers` map question ids to values. On each page the form is filled by name: radios and
checkboxes by value, text and number inputs by typing. Only what the page shows is filled, so the
same answers drive the flow with JavaScript on (conditional questions appear) and off.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from playwright.sync_api import BrowserContext
from playwright.sync_api import Download
from playwright.sync_api import Locator
from playwright.sync_api import Page

from assessment.domain import Questionnaire
from assessment.domain import load_questionnaire
from tests.app_server import as_form_values as as_strings
from tests.casefiles import load_case as read_case

# The Debian package's browser, headless, with nothing running in the background (shared with
# docs/screenshots.py).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "cases"
QUESTIONS = ROOT / "questions.yaml"
MAX_PAGES = 40
SENTINEL = "SENTINEL-\u00c6\u00d8-123"

Answers = dict[str, Any]
NewContext = Callable[..., BrowserContext]


@cache
def questionnaire() -> Questionnaire:
    """The bundled questionnaire (structure only: guidance pages are the app's concern)."""
    return load_questionnaire(QUESTIONS)


def load_case(name: str) -> Answers:
    """Return the `answers` mapping of tests/cases/<name>.yaml."""
    answers = read_case(CASES / f"{name}.yaml")["answers"]
    assert isinstance(answers, dict), f"{name}.yaml: `answers` must be a mapping"
    return dict(answers)


def path_of(page: Page) -> str:
    """Return the path of the page's current URL."""
    return urlparse(page.url).path


def norm_text(page: Page) -> str:
    """Return the page's visible text with whitespace collapsed."""
    return " ".join(page.locator("body").inner_text().split())


_FIELDS_JS = """() => {
    const seen = new Map();
    for (const e of document.querySelectorAll('form [name]')) {
        const name = e.getAttribute('name');
        if (seen.has(name)) continue;
        const kind = e.tagName.toLowerCase() === 'input' ? (e.type || 'text') : e.tagName.toLowerCase();
        const box = e.getBoundingClientRect();
        const style = getComputedStyle(e);
        const visible = box.width > 0 && box.height > 0 && style.visibility !== 'hidden';
        seen.set(name, {name, kind, visible});
    }
    return [...seen.values()];
}"""


def _fields(page: Page) -> list[dict[str, Any]]:
    """Return the page's form fields (first element per name), in page order, with their kind."""
    fields: list[dict[str, Any]] = page.evaluate(_FIELDS_JS)
    return fields


def _names_in_order(page: Page) -> list[str]:
    return [f["name"] for f in _fields(page)]


def fill_visible(page: Page, answers: Mapping[str, Any]) -> list[str]:
    """Fill every answered question the page shows, in page order; return the ids filled."""
    filled: list[str] = []
    for info in _fields(page):
        qid, kind = info["name"], info["kind"]
        if qid not in answers:
            continue
        # A question hidden at first may have appeared since (JavaScript on): look again.
        if not info["visible"] and not page.locator(f'[name="{qid}"]').first.is_visible():
            continue  # hidden by a condition: the server ignores it too
        wanted = as_strings(answers[qid])
        if kind == "radio":
            assert len(wanted) == 1, f"{qid}: one value expected, got {wanted}"
            page.locator(f'input[type="radio"][name="{qid}"][value="{wanted[0]}"]').check()
        elif kind == "checkbox":
            boxes = page.locator(f'input[type="checkbox"][name="{qid}"]')
            values = boxes.evaluate_all("els => els.map(e => [e.value, e.checked])")
            missing = set(wanted) - {value for value, _ in values}
            assert not missing, f"{qid}: no checkbox for {sorted(missing)} (have {values})"
            # Untick first, so a script that clears the others when "none" is ticked cannot race.
            for value, checked in values:
                if checked and value not in wanted:
                    page.locator(f'input[type="checkbox"][name="{qid}"][value="{value}"]').uncheck()
            for value in wanted:
                page.locator(f'input[type="checkbox"][name="{qid}"][value="{value}"]').check()
        elif kind == "select":
            page.locator(f'[name="{qid}"]').first.select_option(wanted)
        else:
            assert len(wanted) == 1, f"{qid}: one value expected, got {wanted}"
            page.locator(f'[name="{qid}"]').first.fill(wanted[0])
        filled.append(qid)
    return filled


def section_form(page: Page) -> Locator:
    """Return the form that holds the section's questions (not the 'clear my answers' form)."""
    names = [n for n in _names_in_order(page) if n in questionnaire().questions]
    assert names, f"no question fields on {page.url}"
    return page.locator("form").filter(has=page.locator(f'[name="{names[0]}"]')).first


def submit_button(form: Locator) -> Locator:
    """Return the form's main submit button (Continue, Next, Save...), not a Back button."""
    buttons = form.locator('button:not([type="button"]):not([type="reset"]), input[type="submit"]')
    preferred = buttons.filter(has_text=re.compile(r"continue|next|save|review|results", re.I))
    if preferred.count():
        return preferred.first
    return buttons.last


ERRORS = '[role="alert"], .error-summary, [aria-invalid="true"]'


def has_errors(page: Page) -> bool:
    """Say whether the page shows a validation error."""
    return page.locator(ERRORS).count() > 0


def error_text(page: Page) -> str:
    """Return what the page says about errors, for a failure message."""
    alerts = page.locator(ERRORS)
    texts = [alerts.nth(i).inner_text() for i in range(min(alerts.count(), 5))]
    return " | ".join(" ".join(t.split()) for t in texts) or norm_text(page)[:500]


def start(page: Page, base_url: str) -> None:
    """Open the start page and press Start; end on the first question page."""
    page.goto(base_url + "/")
    start_control = page.locator("a, button, input[type=submit]").filter(
        has_text=re.compile(r"\bstart\b", re.I)
    )
    start_control.first.click()
    page.wait_for_load_state()
    assert path_of(page).startswith("/q/"), f"Start led to {page.url}, not a question page"


def answer_sections(
    page: Page,
    answers: Mapping[str, Any],
    *,
    on_page: Any = None,
    stop_at: tuple[str, ...] = ("/review", "/results"),
) -> list[str]:
    """Answer question pages until a path in stop_at; return the section ids seen, in order."""
    seen: list[str] = []
    for _ in range(MAX_PAGES):
        path = path_of(page)
        if path in stop_at:
            return list(dict.fromkeys(seen))
        if path == "/help-now":
            # The emergency stop page: go on as a person who has got help would.
            page.get_by_role("link", name=re.compile("safe to continue")).click()
            page.wait_for_load_state()
            continue
        assert path.startswith("/q/"), f"unexpected page {page.url}"
        section_id = path.removeprefix("/q/")
        if seen and seen[-1] == section_id:
            # The same page again: fine once without errors (a follow-up question the server now
            # shows without JavaScript), a failure when it reports errors or repeats.
            if has_errors(page) or len(seen) > 1 and seen[-2] == section_id:
                raise AssertionError(f"{path} did not accept the answers: {error_text(page)}")
        seen.append(section_id)
        if on_page is not None:
            on_page(page)
        fill_visible(page, answers)
        submit_button(section_form(page)).click()
        page.wait_for_load_state()
    raise AssertionError(f"no end after {MAX_PAGES} pages; seen {seen}")


def go_to_results(page: Page) -> None:
    """From the review page, follow the way to the results page."""
    if path_of(page) == "/results":
        return
    link = page.locator('a[href$="/results"], form[action$="/results"] button')
    if not link.count():
        link = page.locator("a, button").filter(has_text=re.compile(r"result", re.I))
    link.first.click()
    page.wait_for_load_state()
    assert path_of(page) == "/results", f"review led to {page.url}, not /results"


def complete_flow(page: Page, base_url: str, answers: Mapping[str, Any], *, on_page: Any = None) -> list[str]:
    """Start, answer every visible section, pass the review page and land on the results."""
    start(page, base_url)
    seen = answer_sections(page, answers, on_page=on_page)
    if path_of(page) == "/review" and on_page is not None:
        on_page(page)
    go_to_results(page)
    return seen


def download_pdf(page: Page, timeout_s: float = 30) -> tuple[str, bytes]:
    """Click the results page's PDF link; return the suggested file name and the bytes.

    Fails at once, with the status, if the link opens a page instead of starting a download.
    """
    link = page.locator('a[href*="report.pdf"]')
    assert link.count(), "the results page has no link to /report.pdf"
    downloads: list[Download] = []
    statuses: list[int] = []
    page.once("download", lambda d: downloads.append(d))
    page.on("response", lambda r: statuses.append(r.status) if "report.pdf" in r.url else None)
    link.first.click()
    deadline = time.monotonic() + timeout_s  # a worker's first PDF also loads WeasyPrint and fonts
    while not downloads:
        if "report.pdf" in page.url:
            raise AssertionError(f"/report.pdf opened as a page (status {statuses}), not a download")
        assert time.monotonic() < deadline, f"no download within {timeout_s:g} s"
        page.wait_for_timeout(50)
    download = downloads[0]
    data = Path(download.path()).read_bytes()  # waits for the download to finish
    failure = download.failure()
    assert failure is None, f"download failed: {failure} (status {statuses})"
    return download.suggested_filename, data


def rule_texts(rule_id: str) -> tuple[str, str]:
    """Return a rule's title and the start of its message, as a person reads them."""
    for rule in questionnaire().rules:
        if rule.id == rule_id:
            return " ".join(rule.title.split()), " ".join(rule.message.split())[:60]
    raise KeyError(rule_id)


def shows_rule(text: str, rule_id: str) -> bool:
    """Say whether page text shows a rule (by its title or its message)."""
    title, message = rule_texts(rule_id)
    return bool(title and title in text) or message in text


def visible_path_ids(answers: Mapping[str, Any]) -> list[str]:
    """Return the ids of the sections the domain says this person sees."""
    from assessment.domain import parse_answers
    from assessment.domain import visible_path

    raw = {k: as_strings(v) for k, v in answers.items()}
    parsed = parse_answers(questionnaire(), raw)
    return [s.id for s in visible_path(questionnaire(), parsed.answers).sections]


def text_question_ids() -> list[str]:
    """Return the ids of every free-text question."""
    from assessment.domain import QuestionType

    return [q.id for q in questionnaire().questions.values() if q.type is QuestionType.TEXT]
