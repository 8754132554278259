"""PDF/UA-1 details a screen-reader user would hit (issue 19), read from the real summary PDFs.

P1's and P3's summaries are made by the app (POST /api/v1/report) and read back with pikepdf: each
TH has /Scope, each /Headers id resolves through the IDTree to a TH of its table, no marked content
lies outside the structure tree except artifacts (the running header and footer are pagination
artifacts), and the header table pairs each value with its own header. The `pdfua` and `outloud`
checkers run on the same files and report no error. The finishing step is also tried on small
tables (spans, a corner, two header rows) and must never cost the person their PDF.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import outloud
import pdfua
import pikepdf
import pydyf
import pytest
from flask import Flask
from pikepdf import Array
from pikepdf import Dictionary
from pikepdf import Name
from pikepdf import String

from assessment.domain import Answers
from assessment.domain import Questionnaire
from assessment.domain import Urgency
from assessment.domain import assess
from assessment.domain import parse_answers
from assessment.domain.answers_file import AnswerDates
from assessment.report import PdfRenderer
from assessment.report import tagging
from assessment.report.summary import build_summary
from assessment.report.tagging import PAGINATION_BDC
from assessment.report.tagging import Changes
from assessment.report.tagging import NumberedFacts
from assessment.report.tagging import facts_before_writing
from assessment.report.tagging import finish_pdf
from assessment.report.tagging import finish_pdf_with_changes
from assessment.report.tagging import rewrite_marked_content
from assessment.report.tagging import rewrite_parsed_content
from assessment.report.tagging import walk_structure
from assessment.web.state import state
from assessment.web.summary_download import renderer
from assessment.web.summary_download import summary_document
from tests.casefiles import CASES_DIR
from tests.casefiles import load_case as read_case
from tests.casefiles import raw_of
from tests.test_report_pdf import filename_date
from tests.test_report_pdf import load_case
from tests.test_report_pdf import make_app

PERSONAS = ("p1_emma", "p3_linda")


def persona_answers(questionnaire: Questionnaire, name: str) -> Answers:
    """A persona's answers, parsed by the questionnaire (no question id is named here)."""
    parsed = parse_answers(questionnaire, raw_of(read_case(CASES_DIR / f"{name}.yaml")["answers"]))
    assert parsed.ok, parsed.errors
    return parsed.answers


# Findings the checkers may report that are known to be wrong for these files, by rule id, with the
# reason. Anything else at warning level or above fails the test.
KNOWN_FALSE_WARNINGS: dict[str, str] = {}
# Rules a checker could not evaluate on these files, with the reason (not a finding either way).
KNOWN_SKIPPED: dict[str, str] = {
    # pdfua 0.1.3's as_integer() calls getattr(obj, "is_integer") on a pikepdf Array, which
    # pikepdf >= 10 answers with ValueError (a dictionary-key lookup) for any heading whose /K is
    # an array, as WeasyPrint writes them. test_every_heading_has_text makes the same check here.
    "UA-14-001": "cannot get key '/is_integer'",
}


# ---------------------------------------------------------------------------------------------
# Reading a tagged PDF: the structure tree, and the text of each marked-content sequence
# ---------------------------------------------------------------------------------------------


def kids(node: Dictionary) -> list[object]:
    """The /K of a structure element as a list."""
    found = node.get("/K")
    if found is None:
        return []
    return list(found) if isinstance(found, Array) else [found]


def elements(pdf: pikepdf.Pdf) -> Iterator[Dictionary]:
    """Every structure element reachable from the StructTreeRoot, in document order."""
    stack = list(reversed(kids(pdf.Root.StructTreeRoot)))
    while stack:
        node = stack.pop()
        if isinstance(node, Dictionary) and "/S" in node:
            yield node
            stack.extend(reversed([k for k in kids(node) if isinstance(k, Dictionary)]))


def role(element: Dictionary) -> str:
    return str(element.get("/S"))


def table_attributes(element: Dictionary) -> Dictionary:
    """The /Table-owned attributes of a cell ({} when none)."""
    attributes = element.get("/A")
    for candidate in list(attributes) if isinstance(attributes, Array) else [attributes]:
        if isinstance(candidate, Dictionary) and candidate.get("/O") == Name.Table:
            return candidate
    return Dictionary()


def parse_cmap(font: Dictionary) -> dict[bytes, str]:
    """A font's /ToUnicode CMap: character code (bytes) to text (bfchar and bfrange)."""
    mapping: dict[bytes, str] = {}
    cmap = font.ToUnicode.read_bytes().decode("latin-1")
    for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S):
        for src, dst in re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]*)>", block):
            mapping[bytes.fromhex(src)] = bytes.fromhex(dst).decode("utf-16-be")
    for block in re.findall(r"beginbfrange(.*?)endbfrange", cmap, re.S):
        for lo, hi, dst in re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
            start = int(dst, 16)
            for offset, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                mapping[code.to_bytes(len(lo) // 2, "big")] = chr(start + offset)
    return mapping


@dataclass
class PageContent:
    """What one page's content stream paints, by marked-content sequence."""

    text_by_mcid: dict[int, str] = field(default_factory=dict)
    pagination_text: list[str] = field(default_factory=list)
    """Text inside /Artifact <</Type /Pagination>> sequences."""
    untagged_text: list[str] = field(default_factory=list)
    """Text painted outside any marked-content sequence (must stay empty)."""
    mcids: list[int] = field(default_factory=list)


def read_page(page: pikepdf.Page) -> PageContent:
    """Walk a page's content stream, decoding shown text with each font's ToUnicode map."""
    fonts = {str(name): parse_cmap(font) for name, font in page.Resources.Font.items()}
    content = PageContent()
    marks: list[tuple[str, int | None, bool]] = []  # (tag, mcid, pagination artifact)
    cmap: dict[bytes, str] = {}
    for operands, operator in pikepdf.parse_content_stream(page):
        op = str(operator)
        if op == "BDC":
            properties = operands[1] if isinstance(operands[1], Dictionary) else Dictionary()
            mcid = int(properties.MCID) if "/MCID" in properties else None
            pagination = properties.get("/Type") == Name.Pagination
            marks.append((str(operands[0]), mcid, pagination))
            if mcid is not None:
                content.mcids.append(mcid)
        elif op == "BMC":
            marks.append((str(operands[0]), None, False))
        elif op == "EMC":
            marks.pop()
        elif op == "Tf":
            cmap = fonts[str(operands[0])]
        elif op in ("Tj", "TJ", "'", '"'):
            shown = operands[-1]
            strings = [s for s in shown if isinstance(s, String)] if isinstance(shown, Array) else [shown]
            text = "".join(
                cmap.get(bytes(s)[i : i + 2], "\ufffd") for s in strings for i in range(0, len(bytes(s)), 2)
            )
            if not marks:
                content.untagged_text.append(text)
                continue
            tag, mcid, pagination = marks[-1]
            if mcid is not None:
                content.text_by_mcid[mcid] = content.text_by_mcid.get(mcid, "") + text
            elif pagination:
                content.pagination_text.append(text)
            else:
                assert tag == "/Artifact", f"text in an untagged {tag} sequence"
    return content


@dataclass
class Tagged:
    """One persona's finished summary PDF, opened with pikepdf and read once."""

    name: str
    pdf: pikepdf.Pdf
    path: Path
    completed: dt.date
    pages: list[PageContent]
    page_index: dict[tuple[int, int], int]

    def text(self, element: Dictionary) -> str:
        """What a screen reader reads for an element: the text of every MCID under it, in order."""
        out: list[str] = []

        def visit(node: Dictionary, page: int | None) -> None:
            if "/Pg" in node:
                page = self.page_index[node.Pg.objgen]
            for kid in kids(node):
                if isinstance(kid, int):
                    assert page is not None
                    out.append(self.pages[page].text_by_mcid.get(kid, ""))
                elif isinstance(kid, Dictionary) and "/S" in kid:
                    visit(kid, page)

        visit(element, None)
        return " ".join("".join(out).split())

    def reached_mcids(self) -> dict[int, list[tuple[int, Dictionary]]]:
        """(mcid, element) pairs the structure tree reaches, by page index."""
        found: dict[int, list[tuple[int, Dictionary]]] = {}
        for element in elements(self.pdf):
            for kid in kids(element):
                if isinstance(kid, int):
                    found.setdefault(self.page_index[element.Pg.objgen], []).append((kid, element))
        return found


def open_tagged(name: str, path: Path, completed: dt.date) -> Tagged:
    """Open a PDF and read every page's marked content once."""
    pdf = pikepdf.open(path)
    return Tagged(
        name=name,
        pdf=pdf,
        path=path,
        completed=completed,
        pages=[read_page(page) for page in pdf.pages],
        page_index={page.obj.objgen: i for i, page in enumerate(pdf.pages)},
    )


@pytest.fixture(scope="module")
def app() -> Flask:
    return make_app()


@pytest.fixture(scope="module")
def questionnaire(app: Flask) -> Questionnaire:
    found: Questionnaire = state(app).questionnaire
    return found


@pytest.fixture(scope="module")
def tagged(app: Flask, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Tagged]]:
    """P1's and P3's summaries through POST /api/v1/report, once per module."""
    client = app.test_client()
    folder = tmp_path_factory.mktemp("pdf-ua")
    out: dict[str, Tagged] = {}
    for name in PERSONAS:
        response = client.post("/api/v1/report", json={"answers": load_case(name)["answers"]})
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        path = folder / f"{name}.pdf"
        path.write_bytes(response.get_data())
        out[name] = open_tagged(name, path, filename_date(response))
    yield out
    for found in out.values():
        found.pdf.close()


def tables(t: Tagged) -> list[Dictionary]:
    return [e for e in elements(t.pdf) if role(e) == "/Table"]


def grid(table: Dictionary) -> dict[tuple[int, int], Dictionary]:
    """The table's cells by (row, column), spans counted (every summary table is span-free but one)."""
    cells: dict[tuple[int, int], Dictionary] = {}

    def rows(node: Dictionary) -> Iterator[Dictionary]:
        for kid in kids(node):
            if isinstance(kid, Dictionary) and role(kid) == "/TR":
                yield kid
            elif isinstance(kid, Dictionary) and role(kid) in ("/THead", "/TBody", "/TFoot", "/NonStruct"):
                yield from rows(kid)

    for r, tr in enumerate(rows(table)):
        c = 0
        for cell in (k for k in kids(tr) if isinstance(k, Dictionary) and role(k) in ("/TH", "/TD")):
            while (r, c) in cells:
                c += 1
            attributes = table_attributes(cell)
            for dr in range(int(attributes.get("/RowSpan", 1))):
                for dc in range(int(attributes.get("/ColSpan", 1))):
                    cells[r + dr, c + dc] = cell
            c += int(attributes.get("/ColSpan", 1))
    return cells


def anchors(cells: dict[tuple[int, int], Dictionary]) -> dict[tuple[int, int], tuple[int, int]]:
    """Each cell's top-left (row, column), by its object number."""
    found: dict[tuple[int, int], tuple[int, int]] = {}
    for rc in sorted(cells):
        found.setdefault(cells[rc].objgen, rc)
    return found


def columns(cells: dict[tuple[int, int], Dictionary], cell: Dictionary) -> set[int]:
    """The columns a cell spans."""
    return {c for (_, c), found in cells.items() if found.objgen == cell.objgen}


def id_tree(t: Tagged) -> dict[bytes, Dictionary]:
    """The StructTreeRoot's /IDTree as a dict (pikepdf reads leaves and kids alike)."""
    tree = t.pdf.Root.StructTreeRoot.get("/IDTree")
    assert tree is not None, "the StructTreeRoot has no /IDTree"
    return {key.encode("latin-1"): value for key, value in pikepdf.NameTree(tree).items()}


def headers_of(cell: Dictionary) -> list[bytes]:
    """The ids a cell's /Headers names."""
    return [bytes(h) for h in table_attributes(cell).get("/Headers", Array())]


# ---------------------------------------------------------------------------------------------
# 1. The header table: each value with its own header
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PERSONAS)
def test_header_table_pairs_each_value_with_its_own_header(
    tagged: dict[str, Tagged], questionnaire: Questionnaire, name: str
) -> None:
    t = tagged[name]
    summary = build_summary(
        assess(questionnaire, persona_answers(questionnaire, name)),
        AnswerDates(t.completed),
        dict.fromkeys(Urgency, ""),
    )
    header_table = tables(t)[0]  # the first table of page 1: name, age and sex
    ids = id_tree(t)
    heard: dict[str, str] = {}
    for cell in grid(header_table).values():
        if role(cell) != "/TD":
            continue
        headers = [ids[h] for h in headers_of(cell)]
        assert len(headers) == 1, f"{t.text(cell)!r} is announced under {[t.text(h) for h in headers]}"
        heard[t.text(headers[0])] = t.text(cell)
    assert heard == {"Name": summary.name or "not given", "Age": summary.age, "Sex": summary.sex}
    assert summary.sex != "not given" and summary.age != "not given"


@pytest.mark.parametrize("name", PERSONAS)
def test_every_data_cell_names_only_its_own_row_header_and_the_headers_above_it(
    tagged: dict[str, Tagged], name: str
) -> None:
    """No value is announced under another pair's header, in any table of the summary."""
    t = tagged[name]
    ids = id_tree(t)
    for table in tables(t):
        cells = grid(table)
        position = anchors(cells)
        for (r, c), cell in cells.items():
            if role(cell) != "/TD" or position[cell.objgen] != (r, c):
                continue
            row_headers = [cells[r, x] for x in range(c) if role(cells[r, x]) == "/TH"]
            for header_id in headers_of(cell):
                header = ids[header_id]
                hr = position[header.objgen][0]
                if hr == r:  # a row header: the nearest one to its left, not another pair's
                    assert row_headers and header.objgen == row_headers[-1].objgen, t.text(cell)
                else:  # a column header: above it, over a column it spans
                    assert hr < r and columns(cells, header) & columns(cells, cell), t.text(cell)
            if row_headers:  # and a value beside a row header is announced with it
                assert bytes(row_headers[-1].ID) in headers_of(cell), t.text(cell)


# ---------------------------------------------------------------------------------------------
# 2-5. Scope, IDTree, pagination artifacts
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PERSONAS)
def test_every_th_has_a_scope_that_matches_the_cells_it_heads(tagged: dict[str, Tagged], name: str) -> None:
    t = tagged[name]
    ids = id_tree(t)
    headed: dict[tuple[int, int], set[str]] = {}  # TH objgen -> {"Row", "Column"} from the TDs' /Headers
    th_count = 0
    for table in tables(t):
        cells = grid(table)
        position = anchors(cells)
        for cell in {c.objgen: c for c in cells.values()}.values():
            if role(cell) == "/TH":
                th_count += 1
                scope = table_attributes(cell).get("/Scope")
                assert scope in (Name.Row, Name.Column, Name.Both), t.text(cell)
            for header_id in headers_of(cell):
                header = ids[header_id]
                same_row = position[header.objgen][0] == position[cell.objgen][0]
                headed.setdefault(header.objgen, set()).add("Row" if same_row else "Column")
    # The header table's 3, plus the medicines table's when something with a dose was named.
    assert th_count >= 3
    for element in elements(t.pdf):
        if role(element) == "/TH" and element.objgen in headed:
            scope = str(table_attributes(element).Scope)[1:]
            allowed = {"Row", "Column"} if scope == "Both" else {scope}
            assert headed[element.objgen] <= allowed, t.text(element)
    # The scores table's corner is a plain cell: every TH of the summary heads some data.
    every_th = [e for e in elements(t.pdf) if role(e) == "/TH"]
    assert not [t.text(th) for th in every_th if th.objgen not in headed]


@pytest.mark.parametrize("name", PERSONAS)
def test_every_headers_id_resolves_through_the_id_tree_to_a_th_of_its_table(
    tagged: dict[str, Tagged], name: str
) -> None:
    t = tagged[name]
    ids = id_tree(t)
    keys = list(pikepdf.NameTree(t.pdf.Root.StructTreeRoot.IDTree).keys())
    assert keys == sorted(keys), "name tree keys must be in lexical order"
    with_id = [e for e in elements(t.pdf) if "/ID" in e]
    assert len(with_id) == len(ids) >= 3, "each /ID once in the tree, and unique"
    for element in with_id:
        assert ids[bytes(element.ID)].objgen == element.objgen
    resolved = 0
    for table in tables(t):
        in_table = {c.objgen for c in grid(table).values()}
        for cell in grid(table).values():
            for header_id in headers_of(cell):
                header = ids[header_id]
                assert role(header) == "/TH" and header.objgen in in_table
                resolved += 1
    assert resolved >= 3


@pytest.mark.parametrize("name", PERSONAS)
def test_no_marked_content_outside_the_structure_tree_except_artifacts(
    tagged: dict[str, Tagged], name: str
) -> None:
    t = tagged[name]
    reached = t.reached_mcids()
    parent_tree = pikepdf.NumberTree(t.pdf.Root.StructTreeRoot.ParentTree)
    for index, (page, content) in enumerate(zip(t.pdf.pages, t.pages, strict=True)):
        assert not content.untagged_text, f"page {index + 1}: text outside marked content"
        reached_here = {mcid: element for mcid, element in reached.get(index, [])}
        assert sorted(content.mcids) == sorted(reached_here), f"page {index + 1}"
        parents = parent_tree[int(page.obj.StructParents)]
        for mcid, element in reached_here.items():
            assert parents[mcid].objgen == element.objgen, f"page {index + 1}, MCID {mcid}: ParentTree"
        # What is left in the ParentTree for this page is what the tree reaches (nulls elsewhere).
        assert {i for i, p in enumerate(parents) if p is not None} == set(reached_here)


@pytest.mark.parametrize("name", PERSONAS)
def test_running_header_footer_and_page_numbers_are_pagination_artifacts(
    tagged: dict[str, Tagged], questionnaire: Questionnaire, name: str
) -> None:
    """A screen reader does not read "Page 2 of 4" or the footer in the middle of the content."""
    t = tagged[name]
    total = len(t.pages)
    for number, content in enumerate(t.pages, start=1):
        furniture = " ".join(" ".join(content.pagination_text).split())
        assert f"Page {number} of {total}" in furniture
        assert f"{questionnaire.meta.id} v{questionnaire.meta.version}" in furniture
        tagged_text = " ".join(" ".join(content.text_by_mcid.values()).split())
        assert not re.search(r"Page \d+ of \d+", tagged_text), number
        if number > 1:  # the running title, from page 2 on
            assert "Gut symptom and supplement summary" in furniture
            assert "Gut symptom and supplement summary" not in tagged_text
    # Page 1 keeps its footer note paragraph and heading as content, read once.
    first = " ".join(" ".join(t.pages[0].text_by_mcid.values()).split())
    assert first.count("Gut symptom and supplement summary") == 1


@pytest.mark.parametrize("name", PERSONAS)
def test_every_heading_has_text(tagged: dict[str, Tagged], name: str) -> None:
    """What pdfua's UA-14-001 would check, had it not failed on these files (see KNOWN_SKIPPED)."""
    t = tagged[name]
    headings = [e for e in elements(t.pdf) if re.fullmatch(r"/H[1-6]", role(e))]
    assert len(headings) >= 5
    assert all(t.text(h) for h in headings)


@pytest.mark.parametrize("name", PERSONAS)
def test_document_level_pdf_ua_entries_survive_the_finishing_step(
    tagged: dict[str, Tagged], name: str
) -> None:
    t = tagged[name]
    root = t.pdf.Root
    assert bool(root.MarkInfo.Marked)
    assert str(root.Lang) == "en"
    assert bool(root.ViewerPreferences.DisplayDocTitle)
    with t.pdf.open_metadata() as xmp:
        assert xmp.get("pdfuaid:part") == "1"
    files = pikepdf.NameTree(root.Names.EmbeddedFiles)
    # answers.json, and the same answers as a FHIR QuestionnaireResponse (issue 17).
    assert list(files.keys()) == ["answers.json", "questionnaire-response.fhir.json"]
    for name_, spec in files.items():
        assert str(spec.F) == str(spec.UF) == name_
    assert t.path.read_bytes().startswith(b"%PDF-1.7")


# ---------------------------------------------------------------------------------------------
# The checkers
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PERSONAS)
def test_outloud_reports_no_error_and_no_unexplained_warning(tagged: dict[str, Tagged], name: str) -> None:
    result = outloud.check(str(tagged[name].path))
    assert result.error is None, result.error
    assert not [r for r in result.runs if r.status == "crashed"], [(r.rule, r.reason) for r in result.runs]
    findings = [(f.rule, f.severity, f.message) for f in result.findings]
    assert not [f for f in findings if f[1] == "error"], findings
    assert not [f for f in findings if f[1] == "warning" and f[0] not in KNOWN_FALSE_WARNINGS], findings


@pytest.mark.parametrize("name", PERSONAS)
def test_pdfua_reports_no_error_and_no_unexplained_warning(tagged: dict[str, Tagged], name: str) -> None:
    report = pdfua.validate(str(tagged[name].path))
    findings = [(f.rule_id, f.severity, f.message) for f in report.findings]
    serious = [f for f in findings if f[1] >= pdfua.Severity.WARNING]
    assert not [f for f in serious if f[0] not in KNOWN_FALSE_WARNINGS], findings
    for outcome in report.skipped:
        known = KNOWN_SKIPPED.get(outcome.rule_id)
        assert known is not None and known in (outcome.skipped_reason or ""), outcome


def test_checkers_find_the_gaps_in_weasyprints_own_output(
    app: Flask, questionnaire: Questionnaire, tmp_path: Path
) -> None:
    """Positive control: without the finishing step both checkers see what issue 19 describes."""
    plain = PdfRenderer(renderer(app).stylesheet_css, finish=False)
    with app.test_request_context():
        document = summary_document(
            assess(questionnaire, persona_answers(questionnaire, "p1_emma")), AnswerDates(dt.date.today())
        )
    path = tmp_path / "plain.pdf"
    path.write_bytes(plain.render(document.html, attachments=[document.attachment]))
    assert "PAG-001" in {f.rule for f in outloud.check(str(path)).findings}
    assert "UA-15-003" in {f.rule_id for f in pdfua.validate(str(path)).findings}
    with pikepdf.open(path) as pdf:
        assert "/IDTree" not in pdf.Root.StructTreeRoot


# ---------------------------------------------------------------------------------------------
# The finishing step on other tables, and when it cannot run
# ---------------------------------------------------------------------------------------------

SHAPES = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Tables</title></head><body>
<p class="footer-note">Footer</p>
<table><tr><th>Corner</th><th>Col A</th><th>Col B</th></tr>
  <tr><th>Row 1</th><td>a1</td><td>b1</td></tr></table>
<table><thead><tr><th colspan="2">Group</th></tr><tr><th>Sub x</th><th>Sub y</th></tr></thead>
  <tbody><tr><td>x1</td><td>y1</td></tr></tbody></table>
<table><tr><th>Both ways</th><td>right</td></tr><tr><td>below</td><td>diagonal</td></tr></table>
<table><tr><th rowspan="2">Two rows</th><td>first</td></tr><tr><td>second</td></tr></table>
<table><tr><th>Pair one</th><td>v1</td><th>Pair two</th><td>v2</td></tr></table>
</body></html>"""

EXPECTED_SCOPES = {
    "Corner": "Column",  # heads no data cell: the first row's usual meaning
    "Col A": "Column",
    "Col B": "Column",
    "Row 1": "Row",
    "Group": "Column",  # spans two columns over a second header row
    "Sub x": "Column",
    "Sub y": "Column",
    "Both ways": "Both",
    "Two rows": "Row",  # spans two rows of data
    "Pair one": "Row",
    "Pair two": "Row",  # a header after data in its row still heads the value after it
}


def test_scope_comes_from_the_table_grid_for_spans_corners_and_header_rows(tmp_path: Path) -> None:
    path = tmp_path / "shapes.pdf"
    path.write_bytes(PdfRenderer().render(SHAPES))
    t = open_tagged("shapes", path, dt.date.today())
    try:
        found = {t.text(e): str(table_attributes(e).Scope)[1:] for e in elements(t.pdf) if role(e) == "/TH"}
        assert found == EXPECTED_SCOPES
        # The running footer of this document is an artifact too: nothing here knows our template.
        assert "Page 1 of 1" in " ".join(t.pages[0].pagination_text)
    finally:
        t.pdf.close()


def test_finishing_twice_changes_nothing_more(tagged: dict[str, Tagged]) -> None:
    once = tagged["p1_emma"].path.read_bytes()
    twice, changes = finish_pdf_with_changes(once)
    assert changes == Changes(artifacts=0, ids=0, scopes={})
    with pikepdf.open(io.BytesIO(twice)) as pdf:
        assert len(pikepdf.NameTree(pdf.Root.StructTreeRoot.IDTree).keys()) == len(id_tree(tagged["p1_emma"]))


def test_an_untagged_pdf_is_returned_as_it_came() -> None:
    blank = pikepdf.new()
    blank.add_blank_page()
    out = io.BytesIO()
    blank.save(out)
    assert finish_pdf(out.getvalue()) == out.getvalue()


def test_a_failing_finishing_step_still_serves_the_summary(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The person gets WeasyPrint's PDF rather than an error; the log names no document content."""
    secret = "Sentinel-Answer-4711"
    document = SHAPES.replace("Footer", secret)
    pdf_renderer = PdfRenderer()

    def broken(data: bytes, known: object) -> bytes:
        raise pikepdf.PdfError(f"cannot read {secret}")

    monkeypatch.setattr(pdf_renderer, "_finish", broken)
    with caplog.at_level(logging.ERROR, logger="assessment.report.pdf"):
        pdf = pdf_renderer.render(document)
    assert pdf.startswith(b"%PDF-")
    with pikepdf.open(io.BytesIO(pdf)) as opened:
        assert "/IDTree" not in opened.Root.StructTreeRoot  # WeasyPrint's own output
    assert "PdfError" in caplog.text and secret not in caplog.text


def test_fast_content_rewrite_gives_the_parsers_stream_and_steps_aside_when_unsure() -> None:
    """The byte-level rewrite of the content streams matches pikepdf's parser on real pages."""
    raw = PdfRenderer(finish=False).render(SHAPES)
    with pikepdf.open(io.BytesIO(raw)) as pdf:
        facts = walk_structure(pdf.Root.StructTreeRoot)
        for page in pdf.pages:
            reached = facts.marked[page.obj.objgen]
            fast = rewrite_marked_content(page.obj.Contents.read_bytes(), reached)
            assert fast is not None, "WeasyPrint's streams take the fast path"
            parsed_bytes, parsed_dropped = rewrite_parsed_content(page, reached)
            assert fast[1] == parsed_dropped and len(parsed_dropped) >= 1
            fast_stream = pikepdf.Stream(pdf, fast[0])
            assert pikepdf.unparse_content_stream(pikepdf.parse_content_stream(fast_stream)) == parsed_bytes
    # A literal string could hold look-alike bytes: then only the parser decides.
    hidden = b"/P <</MCID 0>> BDC BT /F1 9 Tf (/P <</MCID 1>> BDC) Tj ET EMC"
    assert rewrite_marked_content(hidden, {0}) is None
    # A BDC in another form than <</MCID n>>: the parser again.
    assert rewrite_marked_content(b"/P /Props1 BDC EMC /Span <</MCID 2>> BDC EMC", set()) is None
    assert rewrite_marked_content(b"/Span <</MCID 2>> BDC EMC", set()) == (PAGINATION_BDC + b" EMC", [2])


def test_the_finished_pdf_is_compressed_and_its_metadata_stays_plain() -> None:
    """WeasyPrint writes uncompressed; the finishing step deflates every stream and packs objects
    into object streams, leaving the XMP metadata unfiltered as PDF/UA checkers read it."""
    pdf = PdfRenderer().render(SHAPES)
    raw = PdfRenderer(finish=False).render(SHAPES)  # compressed by WeasyPrint: the size to match
    with pikepdf.open(io.BytesIO(pdf)) as opened:
        streams = [obj for obj in opened.objects if isinstance(obj, pikepdf.Stream)]
        metadata = opened.Root.Metadata
        others = [s for s in streams if s.objgen != metadata.objgen and s.get("/Type") != Name.ObjStm]
        assert others and all("/Filter" in s for s in others)
        assert "/Filter" not in metadata
        assert any(s.get("/Type") == Name.ObjStm for s in streams)
    assert len(pdf) < 1.2 * len(raw)


# ---------------------------------------------------------------------------------------------
# The structure tree read from WeasyPrint's objects before it writes the file
# ---------------------------------------------------------------------------------------------


def written_with_facts(html: str) -> tuple[bytes, NumberedFacts | None]:
    """WeasyPrint's file as the finishing step gets it, and the facts read before it was written."""
    pdf_renderer = PdfRenderer()
    seen: list[tuple[bytes, NumberedFacts | None]] = []

    def keep(data: bytes, known: NumberedFacts | None) -> bytes:
        seen.append((data, known))
        return data

    pdf_renderer._finish = keep
    pdf_renderer.render(html)
    return seen[0]


def file_facts(data: bytes) -> tuple[object, ...]:
    """The facts of a walk of the written file, by object number, for comparison."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        facts = walk_structure(pdf.Root.StructTreeRoot)
        ids = {key: element.objgen[0] for key, element in facts.ids.items()}
        return (
            {page[0]: mcids for page, mcids in facts.marked.items()},
            ids,
            [t.objgen[0] for t in facts.tables],
        )


def test_a_document_finished_in_another_second_is_the_same_file() -> None:
    # qpdf makes the /ID's second half from the clock unless told to use the contents; two
    # finishes a second apart then differed in 16 bytes (and the test below failed by chance).
    data, known = written_with_facts(SHAPES)
    first = finish_pdf(data, known)
    time.sleep(1.05)
    assert finish_pdf(data, known) == first


@pytest.mark.parametrize("name", PERSONAS)
def test_the_tree_read_before_writing_is_the_tree_the_file_holds(app: Flask, name: str) -> None:
    with app.test_request_context():
        questionnaire = state(app).questionnaire
        html = summary_document(
            assess(questionnaire, persona_answers(questionnaire, name)), AnswerDates(dt.date(2026, 6, 1))
        ).html
    for document in (html, SHAPES):
        data, known = written_with_facts(document)
        assert known is not None, "WeasyPrint's own tree is read before writing"
        assert (known.marked, known.ids, known.tables) == file_facts(data)
        assert known.tables and known.ids and known.marked
        # The finished file is the same whichever way the facts came.
        assert finish_pdf(data, known) == finish_pdf(data)


def written_tree(*elements: pydyf.Dictionary, role_map: bool = False) -> tuple[pydyf.PDF, int]:
    """A pydyf PDF whose structure tree root has these elements as children, and its page's number."""
    pdf = pydyf.PDF()
    page = pydyf.Dictionary({"Type": "/Page"})
    pdf.add_object(page)
    for element in elements:
        element.setdefault("Pg", page.reference)
        pdf.add_object(element)
    root = pydyf.Dictionary({"Type": "/StructTreeRoot", "K": pydyf.Array([e.reference for e in elements])})
    if role_map:
        root["RoleMap"] = pydyf.Dictionary({"Custom": "/P"})
    pdf.add_object(root)
    pdf.catalog["StructTreeRoot"] = root.reference
    return pdf, page.number


def element(kind: str, **entries: object) -> pydyf.Dictionary:
    return pydyf.Dictionary({"Type": "/StructElem", "S": kind, **entries})


def test_a_tree_weasyprint_would_not_write_is_left_to_the_file_walk() -> None:
    pdf, page = written_tree(element("/P", K=pydyf.Array([0, 1])))
    facts = facts_before_writing(pdf)
    assert facts is not None and facts.marked == {page: {0, 1}}
    assert facts_before_writing(written_tree(element("/P"), role_map=True)[0]) is None
    assert facts_before_writing(written_tree(element("/TH", ID=pydyf.String("caf\u00e9")))[0]) is None
    inline = element("/P", K=pydyf.Array([element("/Span")]))
    assert facts_before_writing(written_tree(inline)[0]) is None
    # A marked-content reference: WeasyPrint links MCIDs directly.
    holder = element("/P")
    pdf, _ = written_tree(holder)
    reference = pydyf.Dictionary({"Type": "/MCR", "MCID": 0})
    pdf.add_object(reference)
    holder["K"] = pydyf.Array([reference.reference])
    assert facts_before_writing(pdf) is None


def test_a_failing_tree_read_still_gives_the_finished_summary(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "Sentinel-Answer-4711"

    def broken(pdf: object) -> None:
        raise ValueError(f"cannot read {secret}")

    monkeypatch.setattr(tagging, "facts_before_writing", broken)
    with caplog.at_level(logging.ERROR, logger="assessment.report.pdf"):
        pdf = PdfRenderer().render(SHAPES.replace("Footer", secret))
    with pikepdf.open(io.BytesIO(pdf)) as opened:
        assert "/IDTree" in opened.Root.StructTreeRoot  # finished, from a walk of the file
    assert "ValueError" in caplog.text and secret not in caplog.text
