"""A faster WeasyPrint 70.0 ``draw_first_line`` for plain text: same PDF operators, fewer C calls.

WeasyPrint draws each line of text glyph by glyph in Python, reading every field of every Pango
glyph through cffi: a new C-data object per glyph and per geometry, five attribute reads each.
That loop was a seventh of a summary's render. This version copies each run's glyph array out of
C in one call and runs the same arithmetic on plain integers, so it writes the same operators,
byte for byte (``tests/test_fast_text.py`` compares the page streams).

It handles the lines our summaries have: no ellipsis, no emoji or bitmap colour fonts, no glyph
moved up or down, no missing glyph. Any other line goes to WeasyPrint's own function
before a single operator is written, so nothing is half drawn.

``install()`` patches WeasyPrint only when it is the version this was copied from (70.0) and Pango
lays out glyphs as this module expects; otherwise the stock function stays.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

WEASYPRINT_VERSION = "70.0"
"""The only WeasyPrint release the fast paths (this module, ``fast_layout``, ``kept_layouts``) were
written from and are installed on."""

_GLYPH_INFO_FIELDS = 5
"""PangoGlyphInfo as 32-bit words: glyph, width, x offset, y offset, visual attributes."""

_PIECES = "gutcheck_glyph_pieces"
"""Attribute of WeasyPrint's font object under which each size's glyph pieces are kept."""

_Key = tuple[int, int, int]
"""A glyph as Pango placed it: glyph id, advance width and x offset, in Pango units."""

_PARAGRAPH_ENDS = re.compile("[\n\r\u2029]")
"""What Pango ends a paragraph at (``pango_find_paragraph_boundary``) unless in single-paragraph mode."""

_original: Any = None
"""WeasyPrint's own ``draw_first_line`` once ``install()`` has run: the fallback."""


@dataclass(frozen=True, slots=True)
class _Run:
    """One Pango run of the line: its glyph item, its font at its size, and its glyphs."""

    glyph_item: Any
    pango_font: Any
    font: Any
    font_size: float
    keys: list[_Key]


def install() -> bool:
    """Put the fast ``draw_first_line`` into WeasyPrint; return whether it is in place."""
    global _original
    import weasyprint
    from weasyprint.draw import text

    if _original is not None:
        return True
    if weasyprint.__version__ != WEASYPRINT_VERSION or not _glyph_layout_as_expected():
        return False
    _original = text.draw_first_line
    # draw_text calls it as a module global; WeasyPrint's SVG text imports it at call time.
    text.draw_first_line = draw_first_line
    return True


def uninstall() -> None:
    """Put WeasyPrint's own ``draw_first_line`` back (for tests that compare the two)."""
    global _original
    from weasyprint.draw import text

    if _original is not None:
        text.draw_first_line = _original
        _original = None


def _glyph_layout_as_expected() -> bool:
    """Whether a PangoGlyphInfo is five 32-bit words with the geometry right after the glyph."""
    from weasyprint.text.ffi import ffi

    return bool(
        ffi.sizeof("PangoGlyphInfo") == 4 * _GLYPH_INFO_FIELDS
        and ffi.offsetof("PangoGlyphInfo", "geometry") == 4
        and ffi.sizeof("PangoGlyphGeometry") == 12
    )


def draw_first_line(stream: Any, textbox: Any, text_overflow: str, block_ellipsis: Any, matrix: Any) -> Any:
    """Draw ``textbox``'s line to ``stream`` as WeasyPrint 70.0 does; return its emojis (none)."""
    from weasyprint.text.ffi import pango

    if text_overflow == "ellipsis" or block_ellipsis != "none":
        return _original(stream, textbox, text_overflow, block_ellipsis, matrix)
    # The stock function's first steps, in its order: nothing to draw, or set up the layout.
    if not textbox.text.strip():
        return []
    if textbox.style["font_size"] < 1e-6:  # pydyf's default float precision
        return []
    if _PARAGRAPH_ENDS.search(textbox.pango_layout.text):
        # Without a paragraph end the mode changes nothing but would make Pango lay the text out
        # again, which a layout kept from measuring (kept_layouts.py) need not.
        pango.pango_layout_set_single_paragraph_mode(textbox.pango_layout.layout, True)
    first_line, _ = textbox.pango_layout.get_first_line()
    runs = _plain_runs(stream, textbox, first_line)
    if runs is None:
        return _original(stream, textbox, text_overflow, block_ellipsis, matrix)
    stream.set_text_matrix(*matrix.values)
    _show_runs(stream, textbox, runs)
    return []


def _plain_runs(stream: Any, textbox: Any, first_line: Any) -> list[_Run] | None:
    """The line's runs with their fonts and glyphs; None if one needs the stock loop."""
    from weasyprint.text.ffi import ffi
    from weasyprint.text.ffi import pango

    runs = []
    previous_pango_font = font = None
    font_size = 0.0
    run = first_line.runs[0]
    while run != ffi.NULL:
        glyph_item = run.data
        run = run.next
        pango_font = glyph_item.item.analysis.font
        if pango_font != previous_pango_font:
            # As the stock loop does, in the same order: fonts join the document as first met.
            previous_pango_font = pango_font
            font, font_size = stream.add_font(pango_font)
            if font.png or font.svg or font.colr:
                return None
            if pango.pango_version() < 14802:  # Pango issue 530, as WeasyPrint works around it
                font_size = textbox.style["font_size"]
        glyphs = glyph_item.glyphs
        words = ffi.unpack(ffi.cast("int32_t *", glyphs.glyphs), _GLYPH_INFO_FIELDS * glyphs.num_glyphs)
        ids = words[0::_GLYPH_INFO_FIELDS]
        # Missing glyphs (0x10000000 flag) are logged and remapped, raised or lowered ones move
        # the baseline: the stock loop does both. Empty glyphs (0x0FFFFFFF, a tab) are handled here.
        if ids and (min(ids) < 0 or max(ids) > pango.PANGO_GLYPH_EMPTY or any(words[3::_GLYPH_INFO_FIELDS])):
            return None
        keys = zip(ids, words[1::_GLYPH_INFO_FIELDS], words[2::_GLYPH_INFO_FIELDS], strict=True)
        runs.append(_Run(glyph_item, pango_font, font, font_size, list(keys)))
    return runs


def _show_runs(stream: Any, textbox: Any, runs: list[_Run]) -> None:
    """Write the runs' ``Tf`` and ``TJ`` operators exactly as the stock loop builds them."""
    parts: list[str] = []
    previous_pango_font = None
    for run in runs:
        if run.pango_font != previous_pango_font:
            previous_pango_font = run.pango_font
            string = "".join(parts)
            if string:
                stream.show_text(string)
            parts = []
            stream.set_font_size(run.font.hash, 1 if run.font.bitmap else run.font_size)
        parts.append("<")
        parts += _glyph_pieces(stream, textbox, run)
        # Close the run's glyph list, or drop its opening bracket when nothing followed it.
        if parts[-1][-1] == "<":
            parts[-1] = parts[-1][:-1]
        else:
            parts.append(">")
    stream.show_text("".join(parts))


def _glyph_pieces(stream: Any, textbox: Any, run: _Run) -> list[str]:
    """Each glyph's offset, id and kerning, reusing the pieces of glyphs already drawn at this size."""
    # Kept on WeasyPrint's font object, which lives as long as one document.
    sizes: dict[float, dict[_Key, str]] = run.font.__dict__.setdefault(_PIECES, {})
    pieces = sizes.setdefault(run.font_size, {})
    found = list(map(pieces.get, run.keys))
    if None in found:
        for i, key in enumerate(run.keys):
            if found[i] is None:  # an earlier glyph of this run may have made it meanwhile
                found[i] = pieces.get(key) or _new_piece(stream, textbox, run, i, pieces)
    return found  # type: ignore[return-value]  # no None is left


def _new_piece(stream: Any, textbox: Any, run: _Run, i: int, pieces: dict[_Key, str]) -> str:
    """Build glyph ``i``'s piece as the stock loop does; record its width and its text."""
    from weasyprint.text.ffi import FROM_UNITS
    from weasyprint.text.ffi import pango

    font, font_size = run.font, run.font_size
    glyph_id, width, x_offset = key = run.keys[i]
    if glyph_id == pango.PANGO_GLYPH_EMPTY:  # a blank of this width: no glyph, text or kerning
        piece = pieces[key] = f">{-width / font_size}<"
        return piece
    if glyph_id not in font.to_unicode:
        font.to_unicode[glyph_id] = _glyph_text(textbox, run.glyph_item, i)
    offset = x_offset / font_size
    piece = f">{-offset}<" if offset else ""
    piece += format(glyph_id, "02x" if font.bitmap else "04x")
    logical_width = font.widths.get(glyph_id)
    if logical_width is None:
        pango.pango_font_get_glyph_extents(run.pango_font, glyph_id, stream.ink_rect, stream.logical_rect)
        logical_width = font.widths[glyph_id] = round(
            stream.logical_rect.width * 1000 * FROM_UNITS / font_size
        )
    # The stock expression, term for term: the same float rounding, so the same operators.
    kerning = logical_width + offset - width * 1000 * FROM_UNITS / font_size
    if kerning:
        piece += f">{int(kerning)}<"
    pieces[key] = piece
    return piece


def _glyph_text(textbox: Any, glyph_item: Any, i: int) -> str:
    """The text glyph ``i`` of the run stands for, from Pango's cluster table (ToUnicode map)."""
    glyphs, item = glyph_item.glyphs, glyph_item.item
    clusters = glyphs.log_clusters
    t1 = clusters[i]
    if item.analysis.level % 2:  # right to left
        t2 = item.length if i == 0 else clusters[i - 1]
    else:
        t2 = item.length if i == glyphs.num_glyphs - 1 else clusters[i + 1]
    text: str = textbox.pango_layout.text.encode()[item.offset + t1 : item.offset + t2].decode()
    return text
