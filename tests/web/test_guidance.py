"""Guidance pages: the index in order, one page with its sources, Markdown without raw HTML."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import Markup

from assessment.web.state import state
from tests.conftest import MINI_GUIDANCE
from tests.web.conftest import make_app
from tests.web.conftest import text

HOSTILE_PAGE = """---
title: About this tool
summary: What the tool does.
evidence: not applicable
sources: [NHS-1, OSL]
order: 1
---
Plain **bold** words and a [safe link](/guidance/emergency).

<script>alert(1)</script>
<img src=x onerror=alert(2)>

[bad link](javascript:alert(3))

## When to get help
Any time.
"""


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    """The mini app with one more page, written to test ordering and raw-HTML handling."""
    guidance = tmp_path / "guidance"
    shutil.copytree(MINI_GUIDANCE, guidance)
    (guidance / "about-this-tool.md").write_text(HOSTILE_PAGE, encoding="utf-8")
    return make_app(GUIDANCE_DIR=str(guidance))


def test_index_lists_pages_in_order_with_summary_and_evidence(client: FlaskClient) -> None:
    html = text(client.get("/guidance/"))
    titles = re.findall(r"<h2 class=\"page-list__title\"><a href=\"/guidance/([a-z-]+)\">", html)
    # about-this-tool has order 1; the others default to 100 and then go by title.
    assert titles == ["about-this-tool", "dose-context", "emergency"]
    assert "How your amount compares with amounts in studies." in html
    assert re.search(r"Evidence: <span class=\"evidence__grade\">not applicable</span>", html)


def test_page_shows_title_summary_evidence_body_and_sources(client: FlaskClient) -> None:
    html = text(client.get("/guidance/emergency"))
    assert "<h1>Get help now</h1>" in html
    assert "Some signs need emergency care." in html
    assert "<p>Call your emergency number.</p>" in html
    assert "<h2>When to get help</h2>" in html
    assert re.search(r"<a href=\"https://example.org/nhs-1\" rel=\"noopener noreferrer\">NHS-derived", html)


def test_markdown_raw_html_and_script_links_are_not_rendered(client: FlaskClient) -> None:
    html = text(client.get("/guidance/about-this-tool"))
    assert "<strong>bold</strong>" in html and '<a href="/guidance/emergency">safe link</a>' in html
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html
    assert "javascript:" not in html.replace("[bad link](javascript:alert(3))", "")
    assert "Shao and Hathcock" in html  # a source without a URL is listed as text


def test_footer_links_to_the_about_page_when_there_is_one(client: FlaskClient) -> None:
    assert 'href="/guidance/about-this-tool">About this tool</a>' in text(client.get("/"))


def test_markdown_is_rendered_once_at_start_up(app: Flask, client: FlaskClient) -> None:
    cached = state(app).guidance_html
    assert set(cached) == {"about-this-tool", "dose-context", "emergency"}
    cached["emergency"] = Markup("<p>from the cache</p>")
    assert "<p>from the cache</p>" in text(client.get("/guidance/emergency"))


def test_unknown_slug_is_404(client: FlaskClient) -> None:
    response = client.get("/guidance/not-a-page")
    assert response.status_code == 404 and "Page not found" in text(response)


def test_real_guidance_pages_render(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    client = make_app(
        QUESTIONS_PATH=str(root / "questions.yaml"), GUIDANCE_DIR=str(root / "templates" / "guidance")
    ).test_client()
    index = text(client.get("/guidance/"))
    slugs = re.findall(r"<a href=\"/guidance/([a-z0-9-]+)\">", index)
    assert slugs
    for slug in slugs:
        assert client.get(f"/guidance/{slug}").status_code == 200
