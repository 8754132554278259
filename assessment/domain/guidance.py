"""Load guidance pages (Markdown with front matter) and the sources they cite."""

from __future__ import annotations

import re
from pathlib import Path

from assessment.domain.errors import Problem
from assessment.domain.mapping_reader import Reader
from assessment.domain.model import GuidancePage
from assessment.domain.model import Source
from assessment.domain.model import SourcePos
from assessment.domain.yamlsource import LineList
from assessment.domain.yamlsource import LineMap
from assessment.domain.yamlsource import load_yaml

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
EVIDENCE_GRADES = (
    "strong",
    "moderate",
    "low",
    "very low",
    "insufficient",
    "theoretical",
    "mixed",
    "not applicable",
)
PAGE_KEYS = ("title", "summary", "evidence", "sources", "order")
SOURCE_KEYS = ("title", "url")
HELP_HEADING = re.compile(r"^##\s+When to get help\s*$", re.MULTILINE | re.IGNORECASE)
SOURCES_FILE = "sources.yaml"


def load_guidance(
    directory: Path,
) -> tuple[dict[str, GuidancePage], dict[str, Source], list[Problem]]:
    """Read every page and the sources file; return pages by slug, sources by tag, and problems."""
    problems: list[Problem] = []
    sources = _load_sources(directory / SOURCES_FILE, problems)
    pages: dict[str, GuidancePage] = {}
    for path in sorted(directory.glob("*.md")):
        page = _load_page(path, sources, problems)
        if page is not None:
            pages[page.slug] = page
    return pages, sources, problems


def _load_sources(path: Path, problems: list[Problem]) -> dict[str, Source]:
    reader = Reader(f"guidance/{path.name}")
    text = _read_utf8(path, reader, "the sources file is missing or unreadable")
    if text is None:
        problems.extend(reader.problems)
        return {}
    tree, yaml_problems = load_yaml(text, reader.filename)
    problems.extend(yaml_problems)
    if not isinstance(tree, LineMap):
        if tree is not None:
            problems.append(Problem(reader.filename, 1, "expected a mapping of tag to reference"))
        return {}
    sources: dict[str, Source] = {}
    for tag in tree:
        m = reader.mapping(
            tree[tag], tree.line_of(tag), f"source '{tag}'", allowed=SOURCE_KEYS, required=("title",)
        )
        if m is not None:
            sources[tag] = Source(
                tag,
                reader.text(m, "title", f"source '{tag}'"),
                reader.text(m, "url", f"source '{tag}'", default=""),
            )
    problems.extend(reader.problems)
    return sources


def _load_page(path: Path, sources: dict[str, Source], problems: list[Problem]) -> GuidancePage | None:
    """Read one guidance page, adding its problems to problems; None when it cannot be built."""
    reader = Reader(f"guidance/{path.name}")
    slug = path.stem
    if not SLUG.fullmatch(slug):
        reader.report(1, f"page name '{slug}' must use lower-case letters, digits and hyphens")
    page = _read_page(path, slug, sources, reader)
    problems.extend(reader.problems)
    return page


def _read_page(path: Path, slug: str, sources: dict[str, Source], reader: Reader) -> GuidancePage | None:
    """The page itself, its problems left in reader; None when it cannot be built."""
    text = _read_utf8(path, reader, "the page cannot be read")
    if text is None:
        return None
    split = _split_front_matter(text, reader)
    if split is None:
        return None
    front, body, end = split
    tree, yaml_problems = load_yaml(front, reader.filename)
    reader.problems.extend(yaml_problems)
    m = reader.mapping(
        tree, 2, "front matter", allowed=PAGE_KEYS, required=("title", "summary", "evidence", "sources")
    )
    if m is None:
        return None
    evidence = reader.text(m, "evidence", "front matter")
    if evidence and evidence not in EVIDENCE_GRADES:
        reader.report(
            m.line_of("evidence"),
            f"unknown evidence grade '{evidence}'; use one of {', '.join(EVIDENCE_GRADES)}",
        )
    tags = _cited_sources(m, sources, reader)
    if not HELP_HEADING.search(body):
        reader.report(end + 2, "the page needs a '## When to get help' section")
    # Read every field before handing the problems over: a mistake found later would be lost.
    return GuidancePage(
        slug=slug,
        title=reader.text(m, "title", "front matter"),
        summary=reader.text(m, "summary", "front matter"),
        evidence=evidence,
        sources=tuple(t for t in tags if isinstance(t, str)),
        body=body,
        pos=SourcePos(reader.filename, 1),
        order=reader.integer(m, "order", "front matter", default=100),
    )


def _split_front_matter(text: str, reader: Reader) -> tuple[str, str, int] | None:
    """Return the front matter (for YAML), the body and the closing '---' line's index; else None."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---" or "---" not in [ln.strip() for ln in lines[1:]]:
        reader.report(1, "a guidance page starts with front matter between two '---' lines")
        return None
    end = [ln.strip() for ln in lines[1:]].index("---") + 1
    # Blank lines in place of the opening '---' keep YAML's line numbers equal to the file's.
    front = "\n" + "\n".join(lines[1:end])
    body = "\n".join(lines[end + 1 :]).strip()
    return front, body, end


def _cited_sources(m: LineMap, sources: dict[str, Source], reader: Reader) -> LineList:
    """The page's 'sources' list, each tag reported unless sources.yaml defines it."""
    tags = reader.sequence(m, "sources", "front matter")
    if not tags and "sources" in m:
        reader.report(m.line_of("sources"), "a page must cite at least one source")
    for tag in tags:
        if not isinstance(tag, str) or tag not in sources:
            reader.report(m.line_of("sources"), f"unknown source '{tag}' (add it to {SOURCES_FILE})")
    return tags


def _read_utf8(path: Path, reader: Reader, unreadable: str) -> str | None:
    """Return the file's text, or None after reporting why it cannot be used (bad bytes with their line)."""
    try:
        data = path.read_bytes()
    except OSError:
        reader.report(1, unreadable)
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        reader.report(line, f"the file is not UTF-8 text (byte {data[exc.start]:#04x}); save it as UTF-8")
        return None
