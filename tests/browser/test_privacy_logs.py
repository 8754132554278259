"""Nothing about a person reaches a log: a full flow with a sentinel in every free-text field, through
the results and the PDF, then the sentinel must be absent from everything gunicorn printed."""

from __future__ import annotations

import json
import subprocess

import pytest
from browser_flow import SENTINEL
from browser_flow import complete_flow
from browser_flow import download_pdf
from browser_flow import load_case
from browser_flow import norm_text
from browser_flow import path_of
from browser_flow import text_question_ids
from gunicorn_server import AppServer
from playwright.sync_api import Page

pytestmark = pytest.mark.browser

# Answers that open every conditional free-text field (probiotic, prebiotic and omega-3 details).
OPENERS = {"probiotic": "yes", "prebiotic_type": "other", "omega3": "yes"}


def test_sentinel_answers_never_reach_the_logs(page: Page, app_server: AppServer) -> None:
    answers = load_case("p1_emma") | OPENERS
    text_ids = text_question_ids()
    assert text_ids, "the questionnaire has no free-text questions"
    answers.update({qid: SENTINEL for qid in text_ids})

    shown: list[str] = []

    def on_page(p: Page) -> None:
        if path_of(p) == "/review":
            shown.append(norm_text(p))

    complete_flow(page, app_server.base_url, answers, on_page=on_page)
    # Not vacuous: the sentinel really went in, and out again on the review page and in the PDF.
    assert shown and SENTINEL in shown[0], "the review page does not show the sentinel answers"
    # The log check below runs even if the PDF step fails; that failure is reported at the end.
    pdf_problem = ""
    try:
        name, data = download_pdf(page)
        assert data.startswith(b"%PDF"), f"{name} is not a PDF"
        pdf_text = subprocess.run(
            ["pdftotext", "-", "-"], input=data, capture_output=True, check=True
        ).stdout.decode("utf-8", errors="replace")
        assert SENTINEL in "".join(pdf_text.split()), "the PDF does not carry the sentinel answers"
    except AssertionError as exc:
        pdf_problem = str(exc)

    # The JSON API too, with the same person in the body.
    body = {"answers": answers}
    response = page.request.post(
        app_server.url("/api/v1/assessments"),
        data=json.dumps(body),
        headers={"Content-Type": "application/json"},
    )
    assert response.status < 500, f"/api/v1/assessments answered {response.status}"

    for cookie in page.context.cookies():
        assert "SENTINEL" not in cookie["value"], f"cookie {cookie['name']} holds the answer in clear text"

    logs = app_server.logs()
    for needle in (SENTINEL, "SENTINEL", SENTINEL.encode("unicode_escape").decode("ascii")):
        assert needle not in logs, f"{needle!r} appears in the server's output:\n{_context(logs, needle)}"
    assert not pdf_problem, f"no sentinel in the logs, but the PDF step failed: {pdf_problem}"


def _context(logs: str, needle: str) -> str:
    at = logs.find(needle)
    return logs[max(0, at - 300) : at + 300]
