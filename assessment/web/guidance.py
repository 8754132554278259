"""Educational guidance pages: Markdown rendered once at start-up, looked up by slug."""

from __future__ import annotations

import re

from flask import Blueprint
from flask import abort
from flask import render_template
from flask import request
from flask import url_for
from markdown_it import MarkdownIt
from markupsafe import Markup

from assessment.domain import GuidancePage
from assessment.domain import Questionnaire
from assessment.web.state import state

bp = Blueprint("guidance", __name__, url_prefix="/guidance")
# Source links come from an author's file; only web links become clickable.
SAFE_SCHEMES = ("https://", "http://")


# A citation in the text: one tag or several, like [GLN-1] or [GLN-6, GLN-12] (after Markdown, so
# the brackets are plain text; a Markdown link is already an <a> by then).
CITATION = re.compile(r"\[([A-Z][A-Za-z0-9-]*(?:, ?[A-Z][A-Za-z0-9-]*)*)\]")
# Where a guidance page's Back link may return to: the page the person came from (?from=...).
RETURNS = {
    "results": ("results.results", "Back to your results"),
    "review": ("questionnaire.review", "Back to your answers"),
}


def render_pages(questionnaire: Questionnaire) -> dict[str, Markup]:
    """Render every page's Markdown once; "js-default" turns raw HTML and javascript: links off."""
    markdown = MarkdownIt("js-default")
    # Markup is safe here: the HTML comes from our own Markdown with raw HTML disabled, and the
    # citation links are built from the page's own source list.
    return {
        slug: Markup(link_citations(markdown.render(page.body), source_numbers(questionnaire, page)))
        for slug, page in questionnaire.guidance.items()
    }


def source_numbers(questionnaire: Questionnaire, page: GuidancePage) -> dict[str, int]:
    """Number a page's sources 1, 2, ... in the order its Sources list shows them."""
    listed = [tag for tag in page.sources if tag in questionnaire.sources]
    return {tag: number for number, tag in enumerate(listed, start=1)}


def link_citations(html: str, numbers: dict[str, int]) -> str:
    """Turn each citation of a listed source into its number, linked to the Sources list."""

    def replace(match: re.Match[str]) -> str:
        tags = [tag.strip() for tag in match.group(1).split(",")]
        if not all(tag in numbers for tag in tags):
            return match.group(0)  # not (all) our sources: leave the text as written
        links = ", ".join(
            f'<a class="citation" href="#source-{numbers[tag]}">'
            f'<span class="visually-hidden">source </span>{numbers[tag]}</a>'
            for tag in tags
        )
        return f"[{links}]"

    return CITATION.sub(replace, html)


def came_from() -> tuple[str, str] | None:
    """Return the Back link (URL, text) to the page the person came from, if it is one we know."""
    found = RETURNS.get(request.args.get("from", ""))
    return (url_for(found[0]), found[1]) if found else None


@bp.get("/")
def index() -> str:
    """List every guidance page in its set order, with its summary and evidence grade."""
    pages = state().questionnaire.guidance.values()
    ordered = sorted(pages, key=lambda page: (page.order, page.title.lower()))
    back = came_from()
    return render_template(
        "guidance/index.html", pages=ordered, back=back, origin=request.args.get("from") if back else None
    )


@bp.get("/<slug>")
def page(slug: str) -> str:
    """Show one guidance page; the slug is only ever a dictionary key, never a path."""
    questionnaire = state().questionnaire
    found = questionnaire.guidance.get(slug)
    if found is None:
        abort(404)
    sources = [
        {"title": source.title, "url": source.url if source.url.startswith(SAFE_SCHEMES) else ""}
        for source in (questionnaire.sources[tag] for tag in found.sources if tag in questionnaire.sources)
    ]
    back = came_from() or (url_for("guidance.index"), "All guidance pages")
    return render_template(
        "guidance/_page.html",
        page=found,
        body=state().guidance_html[slug],
        sources=sources,
        back=back,
    )
