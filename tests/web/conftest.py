"""Web fixtures: the app on the small questionnaire with CSRF on, and a Respondent that fills pages."""

from __future__ import annotations

import base64
import json
import re
import zlib
from collections.abc import Iterable
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict
from werkzeug.test import TestResponse

from assessment import create_app
from assessment.config import ROOT
from assessment.domain import Questionnaire
from assessment.domain import QuestionType
from tests.conftest import MINI
from tests.conftest import MINI_GUIDANCE

SECRET = "web-tests-secret-key-0123456789abcdef"
COOKIE = "gutcheck"
_TOKEN_INPUT = re.compile(r"<input[^>]*name=\"csrf_token\"[^>]*>")
_VALUE = re.compile(r"value=\"([^\"]*)\"")

# A complete, valid answer set for tests/data/mini.yaml (an adult, so both sections show).
MINI_ANSWERS: dict[str, Any] = {
    "age": "40",
    "sex": "female",
    "pregnant": "no",
    "pain": "7",
    "pain_days": "5",
    "loose_share": "gt50",
    "alarms": ["none"],
    "dose_g": "20.5",
    "notes": "Worse after dinner.",
}


def make_app(**overrides: Any) -> Flask:
    """Create the app on the mini questionnaire (CSRF on), with config overrides."""
    config: dict[str, Any] = {
        "TESTING": True,
        "SECRET_KEY": SECRET,
        "QUESTIONS_PATH": str(MINI),
        "GUIDANCE_DIR": str(MINI_GUIDANCE),
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture(scope="module")
def real_app() -> Flask:
    """The app on the shipped questionnaire and guidance, made once per module (its PDF renderer is
    slow to make)."""
    return make_app(
        QUESTIONS_PATH=str(ROOT / "questions.yaml"), GUIDANCE_DIR=str(ROOT / "templates" / "guidance")
    )


@pytest.fixture
def app() -> Flask:
    """The app on tests/data/mini.yaml, CSRF on."""
    return make_app()


@pytest.fixture
def respondent(client: FlaskClient) -> Respondent:
    """A person filling in the questionnaire through the test client."""
    return Respondent(client)


def csrf_token(html: str) -> str:
    """Return the CSRF token of the first form on a page."""
    match = _TOKEN_INPUT.search(html)
    assert match, "the page has no csrf_token input"
    value = _VALUE.search(match.group(0))
    assert value, "the csrf_token input has no value"
    return value.group(1)


def text(response: TestResponse) -> str:
    """Return a response body as text."""
    return response.get_data(as_text=True)


def field_names(html: str) -> list[str]:
    """Return the form field names on a page, in order, without the CSRF token."""
    names = re.findall(r"<(?:input|textarea|select)[^>]*\bname=\"([^\"]+)\"", html)
    return [n for n in dict.fromkeys(names) if n != "csrf_token"]


class Respondent:
    """Fills in pages like a person: fetch the page, take its CSRF token, post, follow the redirect."""

    def __init__(self, client: FlaskClient, first_section: str = "about") -> None:
        self.client = client
        self.first_section = first_section

    def token(self) -> str:
        """Return a valid CSRF token for this session (the first section page always has a form)."""
        return csrf_token(text(self.client.get(f"/q/{self.first_section}", follow_redirects=True)))

    def post(
        self, path: str, data: Mapping[str, Any] | Iterable[tuple[str, str]] = (), **kw: Any
    ) -> TestResponse:
        """Post form fields with a CSRF token (lists become repeated fields)."""
        pairs = [("csrf_token", self.token())]
        items = data.items() if isinstance(data, Mapping) else data
        for key, value in items:
            if isinstance(value, (list, tuple)):
                pairs.extend((key, str(v)) for v in value)
            else:
                pairs.append((key, str(value)))
        return self.client.post(path, data=MultiDict(pairs), **kw)

    def answer(self, section_id: str, review: bool = False, **fields: Any) -> TestResponse:
        """Post answers to one section page."""
        path = f"/q/{section_id}" + ("?return=review" if review else "")
        return self.post(path, fields)

    def complete(self, answers: Mapping[str, Any] | None = None, limit: int = 40) -> list[str]:
        """Answer every page from the start, using only the fields each page shows; return the sections."""
        answers = dict(MINI_ANSWERS if answers is None else answers)
        start = text(self.client.get("/"))
        match = re.search(r"href=\"(/q/[^\"]+)\"", start)
        assert match, "the start page has no link to a question page"
        path, seen = match.group(1), []
        for _ in range(limit):
            if path.startswith("/help-now"):
                # The emergency stop page: carry on as a person who has got help would.
                path = parse_qs(urlsplit(path).query)["next"][0]
            if not path.startswith("/q/"):
                break
            page = text(self.client.get(path))
            seen.append(path.removeprefix("/q/").split("?")[0])
            fields = {n: answers[n] for n in field_names(page) if n in answers}
            response = self.post(path, fields)
            assert response.status_code == 302, (
                f"{path} did not accept {fields}: {summary_of(text(response))}"
            )
            path = response.headers["Location"]
        return seen


def summary_of(html: str) -> list[str]:
    """Return the messages of a page's error summary."""
    block = re.search(r"<div class=\"error-summary\".*?</div>", html, re.S)
    return re.findall(r"<a href=\"#[^\"]+\">([^<]+)</a>", block.group(0)) if block else []


def generic_answers(questionnaire: Questionnaire) -> dict[str, Any]:
    """Return a valid answer for every question of any questionnaire: enough to walk it end to end."""
    answers: dict[str, Any] = {}
    for qid, question in questionnaire.questions.items():
        if question.type is QuestionType.TEXT:
            answers[qid] = "Some words"
        elif question.type is QuestionType.MULTI:
            answers[qid] = [question.options[-1].value]
        elif question.type.has_options:
            answers[qid] = question.options[-1].value
        elif question.minimum is not None and question.maximum is not None:
            answers[qid] = str(int((question.minimum + question.maximum) / 2))
        else:
            answers[qid] = "5"
    return answers


def write_questionnaire(tmp_path: Path, yaml_text: str) -> Path:
    """Write a questionnaire file for one test and return its path."""
    path = tmp_path / "questions.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    return path


def stub_guidance(directory: Path, questionnaire: Questionnaire) -> Path:
    """Write a minimal page for every slug the rules use, so the real questionnaire can start."""
    directory.mkdir()
    (directory / "sources.yaml").write_text("S1:\n  title: A source.\n", encoding="utf-8")
    page = (
        "---\ntitle: T\nsummary: S\nevidence: low\nsources: [S1]\n---\nBody.\n\n## When to get help\nNow.\n"
    )
    for slug in {rule.guidance for rule in questionnaire.rules}:
        (directory / f"{slug}.md").write_text(page, encoding="utf-8")
    return directory


_TAG = re.compile(r"<(input|textarea)\b([^>]*)>")
_ATTR = re.compile(r"([a-zA-Z][\w-]*)(?:=\"([^\"]*)\")?")


def inputs(html: str, **wanted: str) -> list[dict[str, str]]:
    """Return the attributes of every input or textarea whose attributes include all of `wanted`."""
    found = []
    for tag, body in _TAG.findall(html):
        attrs = {key: value for key, value in _ATTR.findall(body)}
        attrs["tag"] = tag
        if all(attrs.get(key.rstrip("_")) == value for key, value in wanted.items()):
            found.append(attrs)
    return found


def one_input(html: str, **wanted: str) -> dict[str, str]:
    """Return the attributes of the one input that matches."""
    found = inputs(html, **wanted)
    assert len(found) == 1, f"expected one input matching {wanted}, found {len(found)}"
    return found[0]


def stored_form(data: object = None, *, raw: bytes | None = None) -> str:
    """Return any JSON value (or raw bytes) compressed and encoded as the answers store writes them."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    blob = packer.compress(raw if raw is not None else json.dumps(data).encode("utf-8")) + packer.flush()
    return "z2:" + base64.urlsafe_b64encode(blob).decode("ascii")
