"""The answers' true date (issue 13): a restored file keeps the day its answers were given.

Through the forms: restore a file dated in the past, then read the results page, the summary PDF
(page 1 and its embedded answers.json) and the downloaded answers.json; change an answer and the
date becomes today; walk the pages unchanged and it stays.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader

from assessment.web.state import state
from tests.conftest import ROOT
from tests.web.conftest import Respondent
from tests.web.conftest import csrf_token
from tests.web.conftest import field_names
from tests.web.conftest import text

P1: dict[str, Any] = yaml.safe_load((ROOT / "tests" / "cases" / "p1_emma.yaml").read_text("utf-8"))["answers"]
GIVEN = dt.date(2026, 6, 1)
BOUNDARY = "gutcheck-dates-5c1e"


@pytest.fixture
def app(real_app: Flask) -> Flask:
    """Every test here runs on the shipped questionnaire."""
    return real_app


def long_date(day: dt.date) -> str:
    """Return "1 June 2026"."""
    return f"{day.day} {day:%B %Y}"


def restore(client: FlaskClient, document: dict[str, Any]) -> None:
    """Upload an answers file to /continue as the start page's form does."""
    version = state(client.application).questionnaire.meta.version
    body = {"questionnaire": {"id": "gut-check", "version": version}, "answers": P1, **document}
    token = csrf_token(text(client.get("/")))
    data = json.dumps(body).encode()
    form = (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="saved_file"; filename="answers.json"\r\n'
            "Content-Type: application/json\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    response = client.post("/continue", data=form, content_type=f"multipart/form-data; boundary={BOUNDARY}")
    assert response.status_code == 302, text(response)


def page_one(pdf: bytes, tmp_path: Path) -> str:
    """Return page 1's text (poppler), whitespace collapsed."""
    path = tmp_path / "summary.pdf"
    path.write_bytes(pdf)
    tool = shutil.which("pdftotext")
    assert tool, "pdftotext is missing: install poppler-utils"
    out = subprocess.run(
        [tool, "-enc", "UTF-8", "-f", "1", "-l", "1", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return " ".join(out.split())


def embedded(pdf: bytes) -> dict[str, Any]:
    """Return the answers.json inside the PDF."""
    found = PdfReader(io.BytesIO(pdf)).attachments["answers.json"]
    document: dict[str, Any] = json.loads(found[0])
    return document


def post_section_unchanged(client: FlaskClient, section: str, **changes: Any) -> None:
    """Post one section page with P1's answers (and any changes), as a person pressing Continue."""
    respondent = Respondent(client, first_section="help_now")
    fields = {n: P1[n] for n in field_names(text(client.get(f"/q/{section}"))) if n in P1}
    fields.update(changes)
    response = respondent.answer(section, **fields)
    assert response.status_code == 302, text(response)


def test_a_restored_file_prints_its_own_date_on_the_pdf_the_results_page_and_the_saved_file(
    client: FlaskClient, tmp_path: Path
) -> None:
    today = dt.date.today()
    restore(client, {"answered_at": GIVEN.isoformat(), "exported_at": "2026-06-02"})
    said = f"Answers given on {long_date(GIVEN)} (restored {long_date(today)})"

    results = " ".join(text(client.get("/results")).split())
    assert said in results
    assert "check those answers" in results and f"the days before {long_date(GIVEN)}" in results

    pdf = client.get("/report.pdf").get_data()
    first = page_one(pdf, tmp_path)
    assert said in first
    assert f"Symptom scores, the last 7 days to {long_date(GIVEN)}" in first
    assert embedded(pdf)["answered_at"] == GIVEN.isoformat()
    assert embedded(pdf)["exported_at"] == today.isoformat()

    saved = json.loads(client.get("/answers.json").get_data())
    assert (saved["answered_at"], saved["exported_at"]) == (GIVEN.isoformat(), today.isoformat())
    assert "date" not in saved


def test_an_older_file_with_only_date_keeps_that_date(client: FlaskClient, tmp_path: Path) -> None:
    restore(client, {"date": "2026-01-31"})
    first = page_one(client.get("/report.pdf").get_data(), tmp_path)
    assert "Answers given on 31 January 2026 (restored" in first


@pytest.mark.parametrize("odd", ["2999-01-01", "31/01/2026", "2026-02-30", 20260131, None])
def test_a_future_or_unreadable_date_counts_as_today(client: FlaskClient, odd: object) -> None:
    restore(client, {"answered_at": odd})
    results = " ".join(text(client.get("/results")).split())
    assert f"Answers given on {long_date(dt.date.today())}." in results
    assert "restored" not in results.split("Answers given on", 1)[1][:60]


def test_walking_the_pages_unchanged_keeps_the_date_and_a_change_makes_it_today(
    client: FlaskClient, tmp_path: Path
) -> None:
    restore(client, {"answered_at": GIVEN.isoformat()})
    post_section_unchanged(client, "symptoms")
    assert f"Answers given on {long_date(GIVEN)} (restored" in page_one(
        client.get("/report.pdf").get_data(), tmp_path
    )

    post_section_unchanged(client, "symptoms", pain=P1["pain"] - 1 if P1["pain"] else 1)
    first = page_one(client.get("/report.pdf").get_data(), tmp_path)
    assert f"Answers given on {long_date(dt.date.today())}." in first
    assert "restored" not in first
    assert embedded(client.get("/report.pdf").get_data())["answered_at"] == dt.date.today().isoformat()


def test_answers_given_today_say_so_without_a_restore_note(client: FlaskClient) -> None:
    Respondent(client, first_section="help_now").complete(P1)
    results = " ".join(text(client.get("/results")).split())
    assert f"Answers given on {long_date(dt.date.today())}." in results
    assert "check those answers" not in results
