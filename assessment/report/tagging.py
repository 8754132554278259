"""PDF/UA-1 finishing step on WeasyPrint 70's tagged PDF, with pikepdf (issue 19).

WeasyPrint writes a structure tree that a screen reader can use, but leaves three gaps that this
step closes from the PDF's own structure, knowing nothing about our templates:

1. Pagination artifacts (PDF/UA-1 7.8). WeasyPrint gives the text of page margin boxes (running
   header, footer note, "Page X of Y") marked-content ids and structure elements that it never links
   into the tree. Every ``BDC`` whose ``/MCID`` no structure element reaches becomes
   ``/Artifact <</Type /Pagination>>``, and its ParentTree entry becomes null.
2. ``/IDTree`` (ISO 32000-1 14.7.2): a name tree of every structure element carrying ``/ID``, so
   readers can follow the ``/Headers`` of table cells.
3. ``/Scope`` on every TH (ISO 32000-1 14.8.5.7), from the table's grid (spans counted):
   - a TH with only TH above it in its columns and a TD below heads a column: ``/Column``;
   - a TH with only TH to its left in its rows and a TD to its right heads a row: ``/Row``;
   - both: ``/Both``. Otherwise a TH among the data heads what follows it: ``/Row`` with a TD to
     its right, else ``/Column`` with a TD below; a TH over no data at all (a corner) gets
     ``/Column`` in the first row and ``/Row`` below it. A ``/Scope`` already written is kept.

The renderer reads the tree's facts (the MCIDs it reaches, elements with /ID, tables) from
WeasyPrint's own objects just before they are written (``facts_before_writing``), so this step
need not walk the written tree through pikepdf; any tree unlike WeasyPrint's is walked in the file.

The content streams are rewritten by a byte-level fast path when nothing in them can be mistaken
for an operator (no literal strings, comments or inline images, as WeasyPrint writes them), and by
pikepdf's parser otherwise; tests check that both give the same stream.

Limits: marked content inside form XObjects is left alone (WeasyPrint puts none there for our
documents); content sequences whose properties are a named resource are left alone too.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import pikepdf
from pikepdf import Array
from pikepdf import Dictionary
from pikepdf import Name
from pikepdf import Object
from pikepdf import Operator
from pikepdf import String

_BDC = Operator("BDC")
_S, _K, _PG, _ID, _TYPE, _STM, _MCID = (Name(n) for n in ("/S", "/K", "/Pg", "/ID", "/Type", "/Stm", "/MCID"))
_ROW_GROUPS = frozenset({"/THead", "/TBody", "/TFoot"})
_MAX_ROLE_HOPS = 8

ObjGen = tuple[int, int]


@dataclass
class TreeFacts:
    """What one walk of the structure tree found."""

    marked: dict[ObjGen, set[int]] = field(default_factory=dict)
    """MCIDs the tree reaches, by page object (objgen)."""
    ids: dict[bytes, Object] = field(default_factory=dict)
    """Structure elements by ``/ID`` (the first one when an id repeats)."""
    tables: list[Dictionary] = field(default_factory=list)
    """``/Table`` structure elements, in document order."""


@dataclass
class Changes:
    """What :func:`finish_pdf` changed, for tests and the benchmark."""

    artifacts: int = 0
    """Marked-content sequences turned into pagination artifacts."""
    ids: int = 0
    """Entries in the IDTree written."""
    scopes: dict[str, int] = field(default_factory=dict)
    """``/Scope`` values written, counted by value (``Column``, ``Row``, ``Both``)."""


@dataclass
class NumberedFacts:
    """What :class:`TreeFacts` holds, by object number, read before WeasyPrint writes the file."""

    marked: dict[int, set[int]] = field(default_factory=dict)
    """MCIDs the tree reaches, by page object number."""
    ids: dict[bytes, int] = field(default_factory=dict)
    """Numbers of the structure elements by ``/ID`` (the first one when an id repeats)."""
    tables: list[int] = field(default_factory=list)
    """Numbers of the ``/Table`` structure elements, in document order."""


def finish_pdf(data: bytes, known: NumberedFacts | None = None) -> bytes:
    """Return ``data`` (a tagged PDF from WeasyPrint) with the three gaps above closed.

    ``known``: the tree's facts as :func:`facts_before_writing` read them from the objects ``data``
    was written from; the file's tree is then not walked again.
    """
    return finish_pdf_with_changes(data, known)[0]


def finish_pdf_with_changes(data: bytes, known: NumberedFacts | None = None) -> tuple[bytes, Changes]:
    """Like :func:`finish_pdf`, also saying what changed."""
    changes = Changes()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        tree_root = pdf.Root.get("/StructTreeRoot")
        if not isinstance(tree_root, Dictionary):
            return data, changes  # not tagged: nothing to finish
        found = tree_root.get("/RoleMap")
        role_map = found if isinstance(found, Dictionary) else None
        facts = walk_structure(tree_root, role_map) if known is None else _facts_in(pdf, known)
        changes.artifacts = _artifact_untagged_content(pdf, tree_root, facts)
        changes.ids = _write_id_tree(pdf, tree_root, facts)
        for table in facts.tables:
            for scope in write_scopes(table, role_map):
                changes.scopes[scope] = changes.scopes.get(scope, 0) + 1
        out = io.BytesIO()
        # No XMP rewrite: pdfuaid:part stays as WeasyPrint wrote it. Streams without a filter are
        # compressed on save and objects packed into object streams: the renderer has WeasyPrint
        # write uncompressed, and this is where the file gets small. The /ID's second half is made
        # from the contents rather than the clock (qpdf's default), so the same summary is the
        # same file whatever second it is finished in.
        pdf.save(
            out,
            fix_metadata_version=False,
            preserve_pdfa=False,
            object_stream_mode=pikepdf.ObjectStreamMode.generate,
            deterministic_id=True,
        )
    return out.getvalue(), changes


def _role(element: Dictionary, role_map: Dictionary | None) -> str:
    """The element's standard structure type, following the RoleMap (e.g. ``"/TH"``)."""
    role = str(element.get(_S, ""))
    for _ in range(_MAX_ROLE_HOPS):
        if role_map is None or role not in role_map:
            break
        role = str(role_map[role])
    return role


def _objgen(obj: Object) -> ObjGen:
    number, generation = obj.objgen
    return (int(number), int(generation))


def walk_structure(tree_root: Dictionary, role_map: Dictionary | None = None) -> TreeFacts:
    """Walk the structure tree once: the MCIDs it reaches, elements with /ID, and the tables.

    Written for speed (about 500 elements per summary): keys are prebuilt Names and optional
    keys are tested with ``in`` first (pikepdf's ``get`` of a missing key is slow).
    """
    facts = TreeFacts()
    seen: set[ObjGen] = set()
    # (node, its page or None); depth first, children in order so tables come in document order.
    stack: list[tuple[Object, Object | None]] = [(kid, None) for kid in reversed(_kids(tree_root))]
    while stack:
        node, page = stack.pop()
        if not isinstance(node, Dictionary):
            continue
        key = node.objgen
        if key != (0, 0):
            if key in seen:
                continue  # a malformed tree with a cycle or a shared element
            seen.add(key)
        if _PG in node:
            page = node[_PG]
        if key != (0, 0):
            _note_element(node, role_map, facts)
        elif _role(node, role_map) == "/Table":
            facts.tables.append(node)
        stack.extend(reversed(_children(node, page, facts)))
    return facts


def _facts_in(pdf: pikepdf.Pdf, known: NumberedFacts) -> TreeFacts:
    """The file's objects that ``known`` names by number (a written file keeps pydyf's numbers)."""
    tables = [pdf.get_object((number, 0)) for number in known.tables]
    return TreeFacts(
        marked={(page, 0): mcids for page, mcids in known.marked.items()},
        ids={key: pdf.get_object((number, 0)) for key, number in known.ids.items()},
        tables=[table for table in tables if isinstance(table, Dictionary)],
    )


def facts_before_writing(pdf: Any) -> NumberedFacts | None:
    """Walk WeasyPrint's structure tree in its own objects (a ``pydyf.PDF``), as the file walk would.

    Reading plain Python objects is a fraction of the cost of walking the written file through
    pikepdf. Returns None for anything WeasyPrint 70 does not write (a RoleMap, direct or marked
    content reference elements, a non-ASCII /ID), which the file walk then handles.
    """
    objects = pdf.objects
    root = _written_object(objects, pdf.catalog.get("StructTreeRoot"))
    if not isinstance(root, dict) or "RoleMap" in root:
        return None
    facts = NumberedFacts()
    seen: set[int] = set()
    stack: list[tuple[Any, int | None]] = [(kid, None) for kid in reversed(_written_kids(root))]
    while stack:
        reference, page = stack.pop()
        number = _object_number(reference)
        if number is None or number >= len(objects):
            return None  # an element written inline, or a dangling reference
        node = objects[number]
        if number in seen or not isinstance(node, dict):
            continue
        seen.add(number)
        if "Pg" in node:
            page = _object_number(node["Pg"])
            if page is None:
                return None
        children = _note_written_element(objects, number, node, page, facts)
        if children is None:
            return None
        stack.extend(reversed(children))
    return facts


def _note_written_element(
    objects: list[Any], number: int, node: dict[str, Any], page: int | None, facts: NumberedFacts
) -> list[tuple[Any, int | None]] | None:
    """Record an element's /ID, table role and MCIDs; its child elements, or None if unexpected."""
    element_id = node.get("ID")
    if element_id is not None:
        text = getattr(element_id, "string", None)
        if not isinstance(text, str) or not text.isascii():
            return None
        facts.ids.setdefault(text.encode("ascii"), number)
    if node.get("S") == "/Table":
        facts.tables.append(number)
    children: list[tuple[Any, int | None]] = []
    for kid in _written_kids(node):
        if isinstance(kid, int):
            if page is not None:
                facts.marked.setdefault(page, set()).add(kid)
            continue
        target = _written_object(objects, kid)
        if not isinstance(target, dict) or target.get("Type") == "/MCR":
            return None
        if target.get("Type") != "/OBJR":
            children.append((kid, page))
    return children


def _object_number(reference: Any) -> int | None:
    """The number in pydyf's ``b"12 0 R"``, or None for anything else."""
    if isinstance(reference, bytes) and reference.endswith(b" 0 R"):
        number = reference[:-4]
        if number.isdigit():
            return int(number)
    return None


def _written_object(objects: list[Any], reference: Any) -> Any:
    """The pydyf object a reference names, or None."""
    number = _object_number(reference)
    return objects[number] if number is not None and number < len(objects) else None


def _written_kids(node: dict[str, Any]) -> list[Any]:
    """The /K of a pydyf structure element as a list."""
    kids = node.get("K")
    if kids is None:
        return []
    return list(kids) if isinstance(kids, list) else [kids]


def _note_element(node: Dictionary, role_map: Dictionary | None, facts: TreeFacts) -> None:
    """Record an indirect element's /ID (the first element wins) and whether it is a table."""
    if _ID in node:
        element_id = node[_ID]
        if isinstance(element_id, String):
            facts.ids.setdefault(bytes(element_id), node)
    if _role(node, role_map) == "/Table":
        facts.tables.append(node)


def _children(node: Dictionary, page: Object | None, facts: TreeFacts) -> list[tuple[Object, Object | None]]:
    """Record the marked content an element reaches; return its child elements with their page."""
    children: list[tuple[Object, Object | None]] = []
    for kid in _kids(node):
        if isinstance(kid, int):
            if page is not None:
                facts.marked.setdefault(_objgen(page), set()).add(kid)
        elif isinstance(kid, Dictionary):
            kind = kid.get(_TYPE) if _TYPE in kid else None
            if kind == Name.MCR:
                mcr_page = kid[_PG] if _PG in kid else page
                if _STM not in kid and isinstance(mcr_page, Dictionary):
                    facts.marked.setdefault(_objgen(mcr_page), set()).add(int(kid[_MCID]))
            elif kind != Name.OBJR:
                children.append((kid, page))
    return children


def _kids(node: Dictionary) -> list[Object]:
    """The /K of a structure element (or of the StructTreeRoot) as a list."""
    if _K not in node:
        return []
    kids = node[_K]
    if isinstance(kids, Array):
        return list(kids)
    return [kids]


def _artifact_untagged_content(pdf: pikepdf.Pdf, tree_root: Dictionary, facts: TreeFacts) -> int:
    """Turn page content whose MCID no structure element reaches into pagination artifacts."""
    parent_tree = tree_root.get("/ParentTree")
    numbers = pikepdf.NumberTree(parent_tree) if isinstance(parent_tree, Dictionary) else None
    count = 0
    for page in pdf.pages:
        reached = facts.marked.get(_objgen(page.obj), set())
        contents = page.obj.get("/Contents")
        parts = list(contents) if isinstance(contents, Array) else [contents]
        # Streams of one page may split anywhere between tokens: join them with whitespace.
        data = b"\n".join(part.read_bytes() for part in parts if isinstance(part, pikepdf.Stream))
        rewritten = rewrite_marked_content(data, reached)
        if rewritten is None:
            rewritten = rewrite_parsed_content(page, reached)
        new_data, dropped = rewritten
        if not dropped:
            continue
        count += len(dropped)
        page.obj.Contents = pdf.make_stream(new_data)
        # The ParentTree no longer maps these MCIDs: their orphaned elements are then unreferenced
        # and are not written out.
        key = page.obj.get("/StructParents")
        if numbers is not None and key is not None and int(key) in numbers:
            parents = numbers[int(key)]
            if isinstance(parents, Array):
                for mcid in dropped:
                    if mcid < len(parents):
                        parents[mcid] = None
    return count


_REGULAR = rb"[^\s/<>\[\]()%{}]"  # a byte that is neither white space nor a delimiter
_MCID_BDC = re.compile(rb"/" + _REGULAR + rb"+\s*<<\s*/MCID\s+(\d+)\s*>>\s*BDC(?!" + _REGULAR + rb")")
_ANY_BDC = re.compile(rb"(?<!" + _REGULAR + rb")BDC(?!" + _REGULAR + rb")")
# Literal strings and comments ("(" and "%" appear nowhere else) and inline images could hide
# look-alike bytes; WeasyPrint writes text as hex strings and uses none of them.
_AMBIGUOUS = re.compile(rb"[(%]|(?<!" + _REGULAR + rb")BI(?!" + _REGULAR + rb")")
PAGINATION_BDC = b"/Artifact <</Type /Pagination>> BDC"


def rewrite_marked_content(data: bytes, reached: set[int]) -> tuple[bytes, list[int]] | None:
    """Rewrite unreached MCID sequences in a content stream's bytes, or None when unsure.

    The fast path (a quarter of the cost of a full parse): it applies only when nothing in the
    stream could hide a look-alike (see _AMBIGUOUS) and every BDC operator is the plain
    ``/Tag <</MCID n>> BDC`` form, so each match is certainly one real operator.
    """
    # Plain substring tests first (the regular expressions scan every byte, about 1 ms a page).
    if b"(" in data or b"%" in data or (b"BI" in data and _AMBIGUOUS.search(data)):
        return None
    matches = list(_MCID_BDC.finditer(data))
    if data.count(b"BDC") != len(matches) and len(_ANY_BDC.findall(data)) != len(matches):
        return None
    pieces: list[bytes] = []
    dropped: list[int] = []
    last = 0
    for match in matches:
        mcid = int(match.group(1))
        if mcid in reached:
            continue
        pieces += [data[last : match.start()], PAGINATION_BDC]
        last = match.end()
        dropped.append(mcid)
    pieces.append(data[last:])
    return b"".join(pieces), dropped


def rewrite_parsed_content(page: pikepdf.Page, reached: set[int]) -> tuple[bytes, list[int]]:
    """The same rewrite through pikepdf's content-stream parser, for any stream."""
    pagination = Dictionary(Type=Name.Pagination)
    instructions = pikepdf.parse_content_stream(page)
    dropped: list[int] = []
    for index, instruction in enumerate(instructions):
        if instruction.operator != _BDC or len(instruction.operands) != 2:
            continue
        properties = instruction.operands[1]
        if not isinstance(properties, Dictionary) or "/MCID" not in properties:
            continue
        mcid = int(properties.MCID)
        if mcid in reached:
            continue
        instructions[index] = pikepdf.ContentStreamInstruction([Name.Artifact, pagination], _BDC)
        dropped.append(mcid)
    return pikepdf.unparse_content_stream(instructions), dropped


def _write_id_tree(pdf: pikepdf.Pdf, tree_root: Dictionary, facts: TreeFacts) -> int:
    """Add an IDTree (one leaf, keys in byte order) naming every element that carries /ID."""
    if not facts.ids or "/IDTree" in tree_root:
        return 0
    names = Array()
    for key in sorted(facts.ids):
        names.append(String(key))
        names.append(facts.ids[key])
    tree_root.IDTree = pdf.make_indirect(Dictionary(Names=names))
    return len(facts.ids)


# --- /Scope from the table grid ------------------------------------------------------------------


@dataclass
class _Cell:
    element: Dictionary
    header: bool
    row: int
    column: int
    rows: int
    columns: int


def _logical_kids(node: Dictionary, role_map: Dictionary | None) -> Iterator[Dictionary]:
    """Structure children, looking through /NonStruct wrappers as ISO 32000 says readers do."""
    for kid in _kids(node):
        if not isinstance(kid, Dictionary) or kid.get("/Type") in (Name.MCR, Name.OBJR):
            continue
        if _role(kid, role_map) == "/NonStruct":
            yield from _logical_kids(kid, role_map)
        else:
            yield kid


def _table_rows(table: Dictionary, role_map: Dictionary | None) -> Iterator[Dictionary]:
    for kid in _logical_kids(table, role_map):
        role = _role(kid, role_map)
        if role == "/TR":
            yield kid
        elif role in _ROW_GROUPS:
            yield from _table_rows(kid, role_map)


def _table_attributes(element: Dictionary, *, create: bool = False) -> Dictionary | None:
    """The element's attribute dictionary owned by /Table, made when asked and missing."""
    attributes = element.get("/A")
    candidates = list(attributes) if isinstance(attributes, Array) else [attributes]
    for candidate in candidates:
        if isinstance(candidate, Dictionary) and candidate.get("/O") == Name.Table:
            return candidate
    if not create:
        return None
    made = Dictionary(O=Name.Table)
    if attributes is None:
        element.A = made
    elif isinstance(attributes, Array):
        attributes.append(made)
    else:
        element.A = Array([attributes, made])
    return made


def _span(element: Dictionary, key: str) -> int:
    attributes = _table_attributes(element)
    value = attributes.get(key) if attributes is not None else None
    try:
        return max(1, int(value)) if value is not None else 1
    except (TypeError, ValueError):
        return 1


def table_grid(table: Dictionary, role_map: Dictionary | None = None) -> list[_Cell]:
    """Place every TH and TD of ``table`` on its grid, as HTML's table model does."""
    cells: list[_Cell] = []
    taken: set[tuple[int, int]] = set()
    for row, tr in enumerate(_table_rows(table, role_map)):
        column = 0
        for kid in _logical_kids(tr, role_map):
            role = _role(kid, role_map)
            if role not in ("/TH", "/TD"):
                continue
            while (row, column) in taken:
                column += 1
            cell = _Cell(kid, role == "/TH", row, column, _span(kid, "/RowSpan"), _span(kid, "/ColSpan"))
            cells.append(cell)
            for r in range(row, row + cell.rows):
                for c in range(column, column + cell.columns):
                    taken.add((r, c))
            column += cell.columns
    return cells


def _scope(cell: _Cell, at: dict[tuple[int, int], _Cell]) -> str:
    """The scope of a header cell, from what lies around it on the grid."""
    columns = range(cell.column, cell.column + cell.columns)
    rows = range(cell.row, cell.row + cell.rows)
    above = [x for (r, c), x in at.items() if c in columns and r < cell.row]
    below = [x for (r, c), x in at.items() if c in columns and r >= cell.row + cell.rows]
    left = [x for (r, c), x in at.items() if r in rows and c < cell.column]
    right = [x for (r, c), x in at.items() if r in rows and c >= cell.column + cell.columns]
    data_below = any(not x.header for x in below)
    data_right = any(not x.header for x in right)
    # The header block: only headers above (for a column) or to the left (for a row).
    heads_column = data_below and all(x.header for x in above)
    heads_row = data_right and all(x.header for x in left)
    if heads_column and heads_row:
        return "Both"
    if heads_column:
        return "Column"
    if heads_row:
        return "Row"
    # A header among the data (a label and value pair in a row, a heading row mid-table) heads
    # the data it stands before; one over no data at all keeps its place's usual meaning.
    if data_right:
        return "Row"
    if data_below:
        return "Column"
    return "Column" if cell.row == 0 else "Row"


def write_scopes(table: Dictionary, role_map: Dictionary | None = None) -> list[str]:
    """Write /Scope on each TH of ``table`` that has none; return the values written."""
    cells = table_grid(table, role_map)
    at: dict[tuple[int, int], _Cell] = {}
    for cell in cells:
        for r in range(cell.row, cell.row + cell.rows):
            for c in range(cell.column, cell.column + cell.columns):
                at[r, c] = cell
    written = []
    for cell in cells:
        if not cell.header:
            continue
        existing = _table_attributes(cell.element)
        if existing is not None and "/Scope" in existing:
            continue
        scope = _scope(cell, at)
        attributes = _table_attributes(cell.element, create=True)
        assert attributes is not None
        attributes.Scope = Name("/" + scope)
        written.append(scope)
    return written
