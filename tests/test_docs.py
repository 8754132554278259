"""The documentation matches the tree: every module in the README's layout table, links that
resolve inside the repository, and no pointer to design documents kept outside it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "assessment"
# Built from parts so this file does not match its own search.
OUTSIDE = re.compile(
    "|".join(re.escape(name) for name in ("DESIGN" + ".md", "SECURITY" + ".md", "../" + "shared"))
)
SKIPPED_DIRS = {".git", ".venv", ".venv-upgrade", "node_modules", "__pycache__", "build"}
TEXT_SUFFIXES = {".py", ".md", ".yaml", ".yml", ".html", ".css", ".js", ".toml", ".txt", ".cfg", ".json"}
ROW = re.compile(r"^\| `([^`]+)` \|", re.MULTILINE)
LINK = re.compile(r"\]\(([^)\s]+)\)")


def layout_paths(readme: str) -> set[str]:
    """Return the repository paths named in the first column of the README's Layout table."""
    section = readme.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    paths = set()
    for entry in ROW.findall(section):
        paths.add(
            f"assessment/{entry}"
            if entry.split("/")[0] in {"domain", "web", "prerender", "report", "contract"}
            else entry
        )
    return paths


def _tracked_text_files() -> list[Path]:
    """Return the repository's own text files (no virtual environments, caches or build output)."""
    found = []
    for path in ROOT.rglob("*"):
        parts = set(path.relative_to(ROOT).parts)
        if parts & SKIPPED_DIRS or any(p.startswith(".") and p not in {".gitignore"} for p in parts):
            continue
        if path.is_file() and (path.suffix in TEXT_SUFFIXES or path.name == "Makefile"):
            found.append(path)
    return found


def test_the_layout_table_lists_every_module_and_only_real_ones() -> None:
    listed = layout_paths((ROOT / "README.md").read_text("utf-8"))
    modules = {
        str(path.relative_to(ROOT))
        for path in PACKAGE.rglob("*")
        if path.suffix in {".py", ".css"} and "__pycache__" not in path.parts
    }
    assert len(modules) > 30, "expected the package's modules"
    assert not modules - listed, f"add these to the README's Layout table: {sorted(modules - listed)}"
    stale = sorted(p for p in listed if not (ROOT / p.rstrip("/")).exists())
    assert not stale, f"the README's Layout table names paths that do not exist: {stale}"


def test_relative_links_in_the_docs_resolve_inside_the_repository() -> None:
    broken = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in LINK.findall(doc.read_text("utf-8")):
            if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                continue  # a web address or an anchor on the same page
            resolved = (doc.parent / target.split("#", 1)[0]).resolve()
            if not resolved.is_relative_to(ROOT) or not resolved.exists():
                broken.append(f"{doc.relative_to(ROOT)}: {target}")
    assert not broken, "links that do not resolve inside the repository:\n" + "\n".join(broken)


def test_nothing_points_at_design_documents_outside_the_repository() -> None:
    hits = []
    for path in _tracked_text_files():
        for number, line in enumerate(path.read_text("utf-8", errors="replace").splitlines(), 1):
            if OUTSIDE.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not hits, "point into docs/ instead:\n" + "\n".join(hits)
