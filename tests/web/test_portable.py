"""Answers the person can carry: download answers.json, and continue from it or from the summary PDF."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import json
import os
import re
import tempfile
import zlib
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from flask import Request as FlaskRequest
from flask.testing import FlaskClient
from pypdf import PdfWriter
from werkzeug.test import EnvironBuilder
from werkzeug.test import TestResponse

from assessment.domain import Answers
from assessment.domain import Questionnaire
from assessment.domain import answers_file
from assessment.domain import load_questionnaire
from assessment.report import embedded_answers as saved_file
from assessment.web import answers_store
from assessment.web import save_and_continue
from assessment.web.in_memory_request import InMemoryRequest
from assessment.web.state import state
from tests.conftest import ROOT
from tests.web.conftest import Respondent
from tests.web.conftest import csrf_token
from tests.web.conftest import one_input
from tests.web.conftest import summary_of
from tests.web.conftest import text

P1: dict[str, Any] = yaml.safe_load((ROOT / "tests" / "cases" / "p1_emma.yaml").read_text(encoding="utf-8"))[
    "answers"
]
BOUNDARY = "gutcheck-upload-7d3f0b"


@pytest.fixture
def app(real_app: Flask) -> Flask:
    """Every test here runs on the shipped questionnaire."""
    return real_app


@pytest.fixture
def real(real_app: Flask) -> Questionnaire:
    """The shipped questionnaire, as the app checked it."""
    found: Questionnaire = state(real_app).questionnaire
    return found


VERSION = load_questionnaire(ROOT / "questions.yaml").meta.version


def document(answers: dict[str, Any], qid: str = "gut-check", version: str = VERSION) -> bytes:
    """Write an answers document as GET /answers.json and the PDF attachment do."""
    body = {"questionnaire": {"id": qid, "version": version}, "date": "2026-01-31", "answers": answers}
    return json.dumps(body, indent=2).encode("utf-8")


def multipart(
    data: bytes, *, token: str | None, filename: str = "answers.json", mime: str = "application/json"
) -> bytes:
    """Build a multipart body by hand (the test client would spool a large one to a temporary file)."""
    head = b""
    if token is not None:
        head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'.encode()
        )
    part = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="saved_file"; filename="{filename}"\r\n'
        f"Content-Type: {mime}\r\n\r\n"
    ).encode()
    return head + part + data + f"\r\n--{BOUNDARY}--\r\n".encode()


def upload(
    client: FlaskClient,
    data: bytes,
    *,
    token: str | None = "page",
    filename: str = "answers.json",
    mime: str = "application/json",
) -> TestResponse:
    """Post a file to /continue as the start page's form does (with its CSRF token unless told)."""
    if token == "page":
        token = csrf_token(text(client.get("/")))
    body = multipart(data, token=token, filename=filename, mime=mime)
    return client.post("/continue", data=body, content_type=f"multipart/form-data; boundary={BOUNDARY}")


def stored(client: FlaskClient) -> dict[str, Any]:
    """Return the answers the session cookie holds, as JSON values."""
    with client.session_transaction() as session:
        raw = session.get(answers_store.KEY)
    return (answers_store.decode(raw) or {}) if raw is not None else {}


def store(client: FlaskClient, answers: dict[str, Any]) -> None:
    """Put answers straight into the session, as the forms would have."""
    with client.session_transaction() as session:
        session[answers_store.KEY] = answers_store.encode(Answers(answers))


def notices(html: str) -> list[str]:
    """Return the flashed messages a page shows, as plain text."""
    return [
        html_lib.unescape(m) for m in re.findall(r"<p class=\"notice notice--\w+\">(.*?)</p>", html, re.S)
    ]


def review_rows(html: str) -> list[tuple[str, str]]:
    """Return every (question, answer) row of the review page."""
    rows = re.findall(
        r"<dt class=\"summary-list__key\">(.*?)</dt>\s*<dd class=\"summary-list__value\">(.*?)</dd>",
        html,
        re.S,
    )
    return [(html_lib.unescape(k), html_lib.unescape(re.sub(r"<[^>]+>", "", v))) for k, v in rows]


def start_error(response: TestResponse) -> str:
    """Return the upload error a start page shows, after checking it is shown the accessible way."""
    html = text(response)
    assert "<h1>Check your gut symptoms" in html
    [message] = summary_of(html)
    assert '<a href="#saved_file">' in html, "the error summary links to the file input"
    field = one_input(html, id="saved_file")
    assert field["aria-invalid"] == "true"
    assert field["aria-describedby"] == "saved_file-hint saved_file-error"
    assert html_lib.unescape(message) in html_lib.unescape(html.split('id="saved_file-error"')[1])
    assert "<title>Error: " in html
    return html_lib.unescape(message)


def minimal_pdf() -> bytes:
    """Return a one-page PDF with nothing embedded."""
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_with_attachment(content: bytes, *, compress: bool = False) -> bytes:
    """Return a small PDF, written by hand, with `content` embedded as answers.json."""
    stream = zlib.compress(content, 9) if compress else content
    flate = b" /Filter /FlateDecode" if compress else b""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles << /Names [(answers.json) 4 0 R] >> >> >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        b"<< /Type /Filespec /F (answers.json) /EF << /F 5 0 R >> >>",
        b"<< /Type /EmbeddedFile%s /Length %d >>\nstream\n%s\nendstream" % (flate, len(stream), stream),
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


# Download


def test_download_gives_the_session_answers_as_a_document(
    respondent: Respondent, client: FlaskClient
) -> None:
    respondent.complete(P1)
    response = client.get("/answers.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    today = dt.date.today().isoformat()
    assert response.headers["Content-Disposition"] == f'attachment; filename="gut-check-answers-{today}.json"'
    assert response.headers["Cache-Control"] == "no-store"
    body = json.loads(response.get_data())
    assert body == {
        "questionnaire": {"id": "gut-check", "version": VERSION},
        "answered_at": today,
        "exported_at": today,
        "answers": P1,
    }


def test_download_leaves_out_answers_to_hidden_questions(client: FlaskClient) -> None:
    # P1 is only considering glutamine, so the dose question is not on her path.
    store(client, {**P1, "glutamine_dose_g": 5, "probiotic_product": "Brand X"})
    body = json.loads(client.get("/answers.json").get_data())
    assert body["answers"] == P1


def test_download_without_answers_goes_to_the_start_with_a_message(client: FlaskClient) -> None:
    response = client.get("/answers.json")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert save_and_continue.NOTHING_TO_SAVE in notices(text(client.get("/")))


def test_review_and_results_offer_the_download(respondent: Respondent, client: FlaskClient) -> None:
    respondent.complete(P1)
    for page in ("/review", "/results"):
        html = text(client.get(page))
        link = re.search(r"<a href=\"/answers.json\" aria-describedby=\"([^\"]+)\">Download my answers", html)
        assert link, f"{page} has no download link"
        assert f'id="{link.group(1)}"' in html, f"{page}: the link's hint is missing"


# The start page form


def test_start_page_has_an_accessible_upload_form(client: FlaskClient) -> None:
    html = text(client.get("/"))
    form = re.search(r"<form[^>]*action=\"/continue\"[^>]*>(.*?)</form>", html, re.S)
    assert form, "no form posts to /continue"
    assert 'method="post"' in form.group(0) and 'enctype="multipart/form-data"' in form.group(0)
    assert re.search(r"name=\"csrf_token\" value=\"[^\"]+\"", form.group(1))
    field = one_input(html, id="saved_file")
    assert field["type"] == "file" and field["name"] == "saved_file"
    assert field["accept"] == ".json,.pdf,application/json,application/pdf"
    assert field["aria-describedby"] == "saved_file-hint"
    assert '<label class="label" for="saved_file">' in html
    hint = re.search(r"id=\"saved_file-hint\">(.*?)</p>", html, re.S)
    assert hint and "replace any answers" in hint.group(1), "the hint states the merge policy"
    assert "aria-invalid" not in str(field) and "error-summary" not in html


# Upload


def test_complete_json_restores_the_answers_and_lands_on_review(
    respondent: Respondent, client: FlaskClient
) -> None:
    respondent.answer("about", age="70", sex="male")  # earlier answers are replaced, not merged
    response = upload(client, document(P1))
    assert response.status_code == 302 and response.headers["Location"] == "/review"
    assert stored(client) == P1
    review = client.get("/review")
    assert review.status_code == 200
    assert save_and_continue.LOADED in notices(text(review))


def test_partial_json_lands_on_the_first_section_with_a_missing_answer(
    client: FlaskClient, real: Questionnaire
) -> None:
    section = real.questions["pain"].section_id
    partial = {k: v for k, v in P1.items() if real.questions[k].section_id != section}
    response = upload(client, document(partial))
    assert response.status_code == 302 and response.headers["Location"] == f"/q/{section}"
    assert stored(client) == partial


def test_unknown_ids_and_invalid_values_are_listed_and_the_rest_kept(
    client: FlaskClient, real: Questionnaire
) -> None:
    answers = {**P1, "pain": 99, "made_up_question": "yes"}
    response = upload(client, document(answers))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/q/{real.questions['pain'].section_id}"
    assert stored(client) == {k: v for k, v in P1.items() if k != "pain"}
    shown = notices(text(client.get(response.headers["Location"])))
    [dropped] = [n for n in shown if n.startswith("Some answers in the file could not be used")]
    assert f"\u201c{real.questions['pain'].label}\u201d (answer not valid)" in dropped
    assert "\u201cmade_up_question\u201d (no such question)" in dropped


def test_answers_to_hidden_questions_are_dropped_without_a_message(client: FlaskClient) -> None:
    response = upload(client, document({**P1, "glutamine_dose_g": 5}))
    assert response.headers["Location"] == "/review"
    assert stored(client) == P1
    assert not any("could not be used" in n for n in notices(text(client.get("/review"))))


def test_an_older_version_restores_what_still_fits_and_says_so(client: FlaskClient) -> None:
    older = {**P1, "retired_question": 3}
    response = upload(client, document(older, version="0.9.0"))
    assert response.status_code == 302 and response.headers["Location"] == "/review"
    assert stored(client) == P1
    shown = notices(text(client.get("/review")))
    assert "This file was made with version 0.9.0; we kept the answers that still fit." in shown
    assert any("\u201cretired_question\u201d (no such question)" in n for n in shown)


def test_the_same_version_has_no_version_note(client: FlaskClient) -> None:
    upload(client, document(P1))
    assert not any("was made with version" in n for n in notices(text(client.get("/review"))))


def test_another_questionnaire_is_refused(respondent: Respondent, client: FlaskClient) -> None:
    respondent.answer("about", age="70", sex="male")
    before = stored(client)
    response = upload(client, document(P1, qid="other-tool"))
    assert response.status_code == 400
    message = start_error(response)
    assert message == save_and_continue.OTHER_QUESTIONNAIRE.format(id="other-tool")
    assert stored(client) == before


def test_a_file_with_no_usable_answer_changes_nothing(respondent: Respondent, client: FlaskClient) -> None:
    respondent.answer("about", age="70", sex="male")
    before = stored(client)
    response = upload(client, document({"age": "old", "nonsense": 1}))
    assert response.status_code == 400
    assert start_error(response) == save_and_continue.NOTHING_USABLE
    assert stored(client) == before


BAD_FILES = {
    "broken pdf": (
        b"%PDF-1.7\n1 0 obj <</Type /Catalog>> endobj\ntrailer <<>>\n%%EOF\n" + bytes(range(256)) * 8,
        "summary.pdf",
        "application/pdf",
        saved_file.BROKEN_PDF,
    ),
    "truncated summary pdf": (None, "summary.pdf", "application/pdf", saved_file.BROKEN_PDF),
    "pdf without answers": (minimal_pdf(), "other.pdf", "application/pdf", saved_file.NO_ANSWERS_IN_PDF),
    "pdf with a broken attachment": (
        pdf_with_attachment(b"not json"),
        "x.pdf",
        "application/pdf",
        answers_file.NOT_READABLE,
    ),
    "text file": (b"Dear doctor, my tummy hurts.\n", "notes.txt", "text/plain", answers_file.NOT_READABLE),
    "binary file": (bytes(range(256)) * 4, "photo.jpg", "image/jpeg", answers_file.NOT_READABLE),
    "empty file": (b"", "answers.json", "application/json", saved_file.EMPTY),
    "json list": (b"[1, 2, 3]", "answers.json", "application/json", answers_file.WRONG_SHAPE),
    "json without questionnaire": (
        b'{"answers": {"age": 30}}',
        "a.json",
        "application/json",
        answers_file.WRONG_SHAPE,
    ),
    "json answers as a list": (
        b'{"questionnaire": {"id": "gut-check", "version": "1.0.0"}, "answers": [1]}',
        "a.json",
        "application/json",
        answers_file.WRONG_SHAPE,
    ),
    "deeply nested json": (
        b"[" * 100_000 + b"]" * 100_000,
        "a.json",
        "application/json",
        answers_file.NOT_READABLE,
    ),
    "no file chosen": (b"", "", "application/octet-stream", save_and_continue.NO_FILE),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_a_file_that_cannot_be_used_gives_a_clear_message(
    name: str, respondent: Respondent, client: FlaskClient
) -> None:
    data, filename, mime, expected = BAD_FILES[name]
    if data is None:  # a real summary cut short, as by an interrupted download
        respondent.complete(P1)
        whole = client.get("/report.pdf").get_data()
        data = whole[: len(whole) // 2]
    respondent.answer("about", age="70", sex="male")
    before = stored(client)
    response = upload(client, data, filename=filename, mime=mime)
    assert response.status_code == 400
    assert start_error(response) == expected
    assert stored(client) == before


def test_a_pdf_whose_attachment_inflates_past_the_limit_is_refused(client: FlaskClient) -> None:
    inflated = 3 * saved_file.PDF_LIMITS["zlib_maximum_output_length"]
    bomb = pdf_with_attachment(document(P1)[:-1] + b" " * inflated + b"}", compress=True)
    assert len(bomb) < 100_000, "the bomb itself is small"
    response = upload(client, bomb, filename="x.pdf", mime="application/pdf")
    assert response.status_code == 400
    assert start_error(response) == saved_file.BROKEN_PDF


def test_a_file_over_the_upload_limit_is_refused_with_a_message(client: FlaskClient, real_app: Flask) -> None:
    limit = real_app.config["MAX_UPLOAD_BYTES"]
    assert limit < real_app.config["MAX_CONTENT_LENGTH"]
    padded = document(P1)[:-1] + b" " * limit + b"}"
    response = upload(client, padded)
    assert response.status_code == 413
    assert "This file is larger than 1 MB" in start_error(response)
    assert stored(client) == {}


def test_a_body_over_the_request_limit_gives_the_413_page(client: FlaskClient, real_app: Flask) -> None:
    huge = b" " * (real_app.config["MAX_CONTENT_LENGTH"] + 1)
    response = upload(client, huge)
    assert response.status_code == 413
    assert "That was too much to send" in text(response)


@pytest.mark.parametrize("token", [None, "made-up-token"])
def test_continue_needs_the_csrf_token(
    token: str | None, respondent: Respondent, client: FlaskClient
) -> None:
    respondent.answer("about", age="70", sex="male")
    before = stored(client)
    response = upload(client, document(P1), token=token)
    assert response.status_code == 400
    assert "Your page timed out" in text(response)
    assert stored(client) == before


def test_continue_is_post_only(client: FlaskClient) -> None:
    assert client.get("/continue").status_code == 405


def test_the_notes_shrink_when_the_full_list_would_not_fit_in_the_cookie(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_save = answers_store.save_answers
    calls: list[int] = []

    def save_once_too_large(answers: Any, dates: Any = None) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise answers_store.AnswersTooLarge
        real_save(answers, dates)

    monkeypatch.setattr(answers_store, "save_answers", save_once_too_large)
    response = upload(client, document({**P1, "made_up_question": "yes"}))
    assert response.headers["Location"] == "/review" and len(calls) == 2
    assert stored(client) == P1
    shown = notices(text(client.get("/review")))
    assert save_and_continue.DROPPED_SHORT in shown
    assert not any("made_up_question" in n for n in shown)


# The round trip: forms -> PDF -> upload -> review


def test_round_trip_from_the_forms_through_the_pdf_back_to_the_review(real_app: Flask) -> None:
    first = real_app.test_client()
    Respondent(first).complete(P1)
    before = review_rows(text(first.get("/review")))
    assert len(before) > 40 and any(value == "32 years" for _, value in before)
    pdf = first.get("/report.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"

    later = real_app.test_client()  # another browser, another day: no session
    response = upload(later, pdf.get_data(), filename="gut-check-summary.pdf", mime="application/pdf")
    assert response.status_code == 302 and response.headers["Location"] == "/review"
    after = review_rows(text(later.get("/review")))
    assert after == before
    assert stored(later) == P1


# Nothing touches the disk


@pytest.fixture
def watched_tempdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, list[str]]]:
    """Point tempfile at a fresh directory and record every file opened in it.

    Linux creates an unnamed O_TMPFILE (no directory entry ever appears), so listing the directory
    alone would miss a spooled upload: os.open is watched as well.
    """
    watched = tmp_path / "tmp"
    watched.mkdir()
    opened: list[str] = []
    real_open = os.open

    def spy(path: Any, *args: Any, **kwargs: Any) -> int:
        if str(path).startswith(str(watched)):
            opened.append(str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(tempfile, "tempdir", str(watched))
    monkeypatch.setattr(os, "open", spy)
    yield watched, opened


def test_an_upload_is_never_written_to_the_temp_directory(
    client: FlaskClient, watched_tempdir: tuple[Path, list[str]]
) -> None:
    watched, opened = watched_tempdir
    # Past Werkzeug's 500 KB in-memory threshold, under the upload limit: valid JSON padded with spaces.
    padded = document(P1)[:-1] + b" " * (700 * 1024) + b"}"
    response = upload(client, padded)
    assert response.status_code == 302 and response.headers["Location"] == "/review"
    assert stored(client) == P1
    assert opened == [], f"temporary files were opened: {opened}"
    assert list(watched.iterdir()) == []


def test_the_watcher_sees_a_spooled_upload(watched_tempdir: tuple[Path, list[str]]) -> None:
    """The check above can fail: Flask's own request class spools this upload to the temp dir."""
    _, opened = watched_tempdir
    padded = b" " * (700 * 1024)

    def environ() -> dict[str, Any]:
        body = multipart(padded, token="x")
        return EnvironBuilder(
            "/continue", method="POST", data=body, content_type=f"multipart/form-data; boundary={BOUNDARY}"
        ).get_environ()

    ours = InMemoryRequest(environ()).files["saved_file"]
    assert ours.stream.read() == padded and opened == []
    theirs = FlaskRequest(environ()).files["saved_file"]
    try:
        assert theirs.stream.read() == padded
        assert opened, "the default request class should have opened a temporary file"
    finally:
        theirs.close()


def test_a_file_from_before_crohns_and_colitis_were_split_asks_which(
    client: FlaskClient, real: Questionnaire
) -> None:
    """An old file's "ibd" is not dropped in silence: the other answers are kept, the person is told
    to choose which, and is taken to the page that asks."""
    old = P1 | {"conditions": ["ibd", "liver"]}
    response = upload(client, document(old, version="1.0.0"))
    assert response.status_code == 302
    health = real.questions["conditions"].section_id
    assert response.headers["Location"] == f"/q/{health}"
    assert stored(client)["conditions"] == ["liver"]
    page = text(client.get(response.headers["Location"]))
    said = " ".join(notices(page))
    assert "Crohn's disease and ulcerative colitis are now two separate answers" in said
    assert "Please choose which" in said


def test_the_api_names_the_split_answer_too(client: FlaskClient) -> None:
    """Through the API an old value gets the same plain message, not a generic one."""
    response = client.post("/api/v1/assessments", json={"answers": P1 | {"conditions": ["ibd"]}})
    assert response.status_code == 422
    assert "two separate answers" in " ".join(response.get_json()["errors"]["conditions"])
