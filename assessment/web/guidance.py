"""Educational guidance pages: Markdown rendered once at start-up, looked up by slug."""

from __future__ import annotations

from flask import Blueprint
from flask import Flask
from flask import abort
from flask import current_app
from flask import render_template
from markdown_it import MarkdownIt
from markupsafe import Markup

from assessment.web import answers_store

bp = Blueprint("guidance", __name__, url_prefix="/guidance")
# Source links come from an author's file; only web links become clickable.
SAFE_SCHEMES = ("https://", "http://")


def init_app(app: Flask) -> None:
    """Render every page's Markdown once; "js-default" turns raw HTML and javascript: links off."""
    markdown = MarkdownIt("js-default")
    pages = app.extensions["questionnaire"].guidance
    # Markup is safe here: the HTML comes from our own Markdown with raw HTML disabled.
    app.extensions["guidance_html"] = {
        slug: Markup(markdown.render(page.body)) for slug, page in pages.items()
    }


@bp.get("/")
def index() -> str:
    """List every guidance page in its set order, with its summary and evidence grade."""
    pages = answers_store.questionnaire().guidance.values()
    ordered = sorted(pages, key=lambda page: (page.order, page.title.lower()))
    return render_template("guidance/index.html", pages=ordered)


@bp.get("/<slug>")
def page(slug: str) -> str:
    """Show one guidance page; the slug is only ever a dictionary key, never a path."""
    questionnaire = answers_store.questionnaire()
    found = questionnaire.guidance.get(slug)
    if found is None:
        abort(404)
    sources = [
        {"title": source.title, "url": source.url if source.url.startswith(SAFE_SCHEMES) else ""}
        for source in (questionnaire.sources[tag] for tag in found.sources if tag in questionnaire.sources)
    ]
    return render_template(
        "guidance/_page.html",
        page=found,
        body=current_app.extensions["guidance_html"][slug],
        sources=sources,
    )
