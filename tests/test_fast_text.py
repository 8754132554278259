"""The fast line drawing (report/fast_text.py) and the layouts kept from measuring for drawing
(report/kept_layouts.py) write the very PDF WeasyPrint's own code writes."""

from __future__ import annotations

import io
import secrets
from collections.abc import Iterator
from typing import Any

import pikepdf
import pytest
import weasyprint
from flask import Flask
from weasyprint.draw import text as weasyprint_text
from weasyprint.text.line_break import Layout

from assessment import create_app
from assessment.report import fast_text
from assessment.report import kept_layouts
from assessment.report.pdf import PdfRenderer
from assessment.web.state import state
from tests.casefiles import CASES_DIR
from tests.casefiles import load_case
from tests.casefiles import raw_of
from tests.test_xhtml_parse import at_maximum
from tests.test_xhtml_parse import summary_html

# Text that gives Pango's glyph loop every kind of run: fonts, sizes and styles changing inside a
# line, spacing, justification, right-to-left scripts, combining marks (glyphs moved sideways and
# up), ligatures, a tab (an empty glyph), a character no font has (a missing glyph), an ellipsis.
CRAFTED = """<!DOCTYPE html><html lang="en"><head><style>
  p { font-family: sans-serif; font-size: 10pt; margin: 0 0 4pt }
  .spaced { letter-spacing: 1.5pt; word-spacing: 4pt }
  .justify { text-align: justify; width: 60mm }
  .clip { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; width: 30mm }
  .free { white-space: pre-wrap; overflow-wrap: anywhere; width: 70mm }
  .caps { font-variant: small-caps } .mono { font-family: monospace } .serif { font-family: serif }
</style></head><body>
  <p>Plain words, then <b>bold</b>, <i>italic</i>, <b><i>both</i></b>, <small>small</small>,
     <span class="mono">mono</span> and <span class="serif">serif</span>, <big>big</big> in one line.</p>
  <p class="spaced">Letter and word spacing change every advance.</p>
  <p class="justify">Justified text stretches the spaces of each line but the last one so that
     both edges line up, which gives the drawing step its own spacing per line.</p>
  <p>Right to left: \u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd and
     \u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645 in a left-to-right line.</p>
  <p>Marks: e\u0301 a\u0308 n\u0303 q\u0323 o\u0302\u0301 caf\u00e9 na\u00efve \u1ebf.</p>
  <p>Ligatures: office, affluent, baffling, fjord; numbers 0123456789 \u2013 \u00bd \u2030.</p>
  <pre>A\ttab\tand\ttabs</pre>
  <p>Missing glyphs: \u4e2d\u6587 \ue000 and then text again.</p>
  <p class="clip">A line too long for its box, cut with an ellipsis at the end.</p>
  <p class="caps">Small capitals Mix Case</p>
  <p class="free">A person's own text
keeps its line breaks, and a word far too long for the column such as
Pneumonoultramicroscopicsilicovolcanoconiosisandthensomemoretextwithoutanyspace wraps anywhere.

After a blank line.</p>
  <p style="white-space: pre-line">Pre-line text
  collapses spaces   but keeps breaks.</p>
  <p><u>Underlined</u>, <s>struck</s> and <span style="text-decoration: overline">overlined</span> words.</p>
  <p>   </p>
</body></html>"""


@pytest.fixture(scope="module")
def renderer() -> PdfRenderer:
    return PdfRenderer(finish=False)  # WeasyPrint's own PDF: nothing rewrites its streams after


@pytest.fixture(scope="module")
def app() -> Flask:
    return create_app({"SECRET_KEY": secrets.token_hex(32), "TESTING": True})


@pytest.fixture(autouse=True)
def fast_paths_stay_installed() -> Iterator[None]:
    yield
    assert fast_text.install() and kept_layouts.install()


def drawn(pdf: bytes) -> list[Any]:
    """What the drawing step decides, page by page: content streams, then fonts' widths and text maps."""
    with pikepdf.open(io.BytesIO(pdf)) as document:
        pages = [page.Contents.read_bytes() for page in document.pages]
        fonts = {}
        for page in document.pages:
            for name, font in page.Resources.Font.items():
                cid_font = font.DescendantFonts[0]
                widths = [float(w) if isinstance(w, pikepdf.Object) else w for w in _flat(cid_font.W)]
                fonts[name] = (str(font.BaseFont), widths, font.ToUnicode.read_bytes())
    return [pages, fonts]


def _flat(array: Any) -> Iterator[Any]:
    """The numbers of a nested PDF array, in order."""
    for item in array:
        if isinstance(item, pikepdf.Array):
            yield "["
            yield from _flat(item)
            yield "]"
        else:
            yield float(item)


def both_ways(renderer: PdfRenderer, html: str) -> tuple[list[Any], list[Any]]:
    """The page streams and fonts of ``html`` drawn by WeasyPrint's own code, then by ours."""
    fast_text.uninstall()
    kept_layouts.uninstall()
    stock = drawn(renderer.render(html))
    assert fast_text.install() and kept_layouts.install()
    return stock, drawn(renderer.render(html))


class Calls:
    """Counts the lines each way draws."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.stock = self.fast = 0
        stock, show_runs = fast_text._original, fast_text._show_runs

        def counted_stock(*args: Any) -> Any:
            self.stock += 1
            return stock(*args)

        def counted_fast(*args: Any) -> None:
            self.fast += 1
            show_runs(*args)

        monkeypatch.setattr(fast_text, "_original", counted_stock)
        monkeypatch.setattr(fast_text, "_show_runs", counted_fast)


@pytest.mark.parametrize("persona", ["p1_emma", "p2_raj", "p3_linda"])
def test_a_personas_summary_is_drawn_byte_for_byte_as_weasyprint_draws_it(
    app: Flask, renderer: PdfRenderer, persona: str
) -> None:
    html = summary_html(app, raw_of(load_case(CASES_DIR / f"{persona}.yaml")["answers"]))
    stock, fast = both_ways(renderer, html)
    assert fast == stock


def test_the_longest_summary_with_markup_and_accents_in_every_text_is_drawn_the_same(
    app: Flask, renderer: PdfRenderer
) -> None:
    stock, fast = both_ways(renderer, summary_html(app, at_maximum(state(app).questionnaire)))
    assert fast == stock


def test_every_kind_of_run_is_drawn_the_same(renderer: PdfRenderer) -> None:
    stock, fast = both_ways(renderer, CRAFTED)
    assert len(stock[0]) == 1 and b"TJ" in stock[0][0]
    assert fast == stock


def test_a_summarys_lines_all_take_the_fast_way(
    app: Flask, renderer: PdfRenderer, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = Calls(monkeypatch)
    renderer.render(summary_html(app, raw_of(load_case(CASES_DIR / "p1_emma.yaml")["answers"])))
    assert calls.stock == 0
    assert calls.fast > 100


def test_lines_it_does_not_reproduce_go_to_weasyprints_loop(
    renderer: PdfRenderer, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = Calls(monkeypatch)
    renderer.render(CRAFTED)
    # The missing glyphs, the marks moved up and the ellipsis, and nothing else.
    assert 3 <= calls.stock <= 6
    assert calls.fast > calls.stock


def test_any_other_weasyprint_keeps_its_own_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_text.uninstall()
    stock = weasyprint_text.draw_first_line
    monkeypatch.setattr(weasyprint, "__version__", "70.1")
    assert not fast_text.install()
    assert weasyprint_text.draw_first_line is stock
    monkeypatch.undo()
    assert fast_text.install()
    assert weasyprint_text.draw_first_line is fast_text.draw_first_line


class Rebuilds:
    """Counts the layouts drawing builds anew, and all it asks to be made ready."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.anew = self.asked = 0
        stock, ours = kept_layouts._stock["reactivate"], Layout.reactivate

        def counted_stock(layout: Any, style: Any) -> None:
            self.anew += 1
            stock(layout, style)

        def counted(layout: Any, style: Any) -> None:
            self.asked += 1
            ours(layout, style)

        monkeypatch.setitem(kept_layouts._stock, "reactivate", counted_stock)
        monkeypatch.setattr(Layout, "reactivate", counted)


def test_a_summarys_lines_are_drawn_from_the_layouts_that_measured_them(
    app: Flask, renderer: PdfRenderer, monkeypatch: pytest.MonkeyPatch
) -> None:
    rebuilds = Rebuilds(monkeypatch)
    renderer.render(summary_html(app, raw_of(load_case(CASES_DIR / "p1_emma.yaml")["answers"])))
    assert rebuilds.asked > 100
    assert rebuilds.anew == 0


def test_justified_lines_get_a_new_layout_with_their_spacing(
    renderer: PdfRenderer, monkeypatch: pytest.MonkeyPatch
) -> None:
    rebuilds = Rebuilds(monkeypatch)
    renderer.render(CRAFTED)
    # Every line of the justified paragraph but its last is stretched after it was measured.
    assert rebuilds.anew >= 2
    assert rebuilds.asked > rebuilds.anew


def test_any_other_weasyprint_frees_and_rebuilds_its_layouts(monkeypatch: pytest.MonkeyPatch) -> None:
    kept_layouts.uninstall()
    stock = (vars(Layout)["deactivate"], vars(Layout)["reactivate"])
    monkeypatch.setattr(weasyprint, "__version__", "70.1")
    assert not kept_layouts.install()
    assert (vars(Layout)["deactivate"], vars(Layout)["reactivate"]) == stock
    monkeypatch.undo()
    assert kept_layouts.install()
    assert vars(Layout)["reactivate"] is kept_layouts.reactivate
