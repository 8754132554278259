"""PDF adapter: real PDFs read back with pypdf and poppler; the URL fetcher is spied on."""

from __future__ import annotations

import html
import io
import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from pypdf import PdfReader

from assessment.report import Attachment
from assessment.report import PdfRenderer
from assessment.report import RenderBusy
from assessment.report import RenderTimeout
from tests.spy_server import Hits
from tests.spy_server import spy_http_server

FOOTER_NOTE = "Patient-completed, not a diagnosis. Questionnaire v3, 2025-11-26."
ANSWERS = {
    "version": 3,
    "answers": {"bloating": 4, "notes": "Bauchweh nach dem Essen \u00e4\u00df"},
}


def _png(colour: tuple[int, int, int] = (200, 0, 0)) -> bytes:
    """Return a tiny PNG."""
    out = io.BytesIO()
    Image.new("RGB", (4, 4), colour).save(out, "PNG")
    return out.getvalue()


def _doc(body: str, head: str = "") -> str:
    """Wrap a body in a minimal HTML document."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Summary</title>'
        f"{head}</head><body>"
        f'<p class="footer-note">{html.escape(FOOTER_NOTE)}</p>{body}</body></html>'
    )


def _squash(text: str) -> str:
    """Remove all whitespace, so line wrapping inside the PDF does not matter."""
    return "".join(text.split())


def _text(pdf: bytes) -> str:
    """Extract the text of every page."""
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


TWO_PAGES = _doc(
    "<h1>Gut Check summary</h1><p>Bloating most days after meals.</p>"
    '<div class="page-break"><h2>Answers</h2><p>Glutamine five grams daily.</p></div>'
)


@pytest.fixture
def spy_server() -> Iterator[tuple[str, Hits]]:
    """Serve a tiny PNG on 127.0.0.1 and count every request; yield (base URL, hits)."""
    with spy_http_server(_png(), "image/png") as (port, hits):
        yield f"http://127.0.0.1:{port}", hits


@pytest.fixture(scope="module")
def renderer() -> PdfRenderer:
    """One renderer with the bundled stylesheet and a PNG logo asset, as the app makes it."""
    return PdfRenderer(assets={"logo.png": (_png((0, 90, 0)), "image/png")})


def _answers_attachment() -> Attachment:
    """The answers as the app embeds them."""
    data = json.dumps(ANSWERS, ensure_ascii=False, sort_keys=True).encode()
    return Attachment("answers.json", data, "The answers behind this summary", "application/json")


def test_two_page_document_has_text_page_x_of_y_footer_and_dejavu(renderer: PdfRenderer) -> None:
    pdf = renderer.render(TWO_PAGES)

    assert pdf.startswith(b"%PDF-1.7")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 2
    first, second = (page.extract_text() for page in reader.pages)
    assert "Gut Check summary" in first and "Bloating most days after meals." in first
    assert "Glutamine five grams daily." in second
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    # The footer note repeats on page 2 although its element is on page 1 only.
    assert _squash(FOOTER_NOTE) in _squash(second)
    fonts = {
        str(font.get_object()["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert fonts and all("DejaVu-Sans" in name for name in fonts), fonts


def test_pdf_is_tagged_pdf_ua(renderer: PdfRenderer, tmp_path: Path) -> None:
    pdf = renderer.render(TWO_PAGES)

    catalog = PdfReader(io.BytesIO(pdf)).trailer["/Root"]
    assert "/StructTreeRoot" in catalog
    assert bool(catalog["/MarkInfo"]["/Marked"])
    assert catalog["/Lang"] == "en"
    pdfinfo = shutil.which("pdfinfo")
    assert pdfinfo, "poppler-utils is needed for this test"
    path = tmp_path / "summary.pdf"
    path.write_bytes(pdf)
    info = subprocess.run([pdfinfo, str(path)], capture_output=True, text=True, check=True).stdout
    assert any(line.split() == ["Tagged:", "yes"] for line in info.splitlines()), info


def test_metadata_title_author_subject_are_set(renderer: PdfRenderer) -> None:
    pdf = renderer.render(
        TWO_PAGES,
        title="Gut Check: summary for your doctor",
        author="Gut Check",
        subject="Patient-completed questionnaire, not a diagnosis",
    )

    metadata = PdfReader(io.BytesIO(pdf)).metadata
    assert metadata is not None
    assert metadata.title == "Gut Check: summary for your doctor"
    assert metadata.author == "Gut Check"
    assert metadata.subject == "Patient-completed questionnaire, not a diagnosis"


def test_answers_json_attachment_round_trips_byte_for_byte(renderer: PdfRenderer) -> None:
    attachment = _answers_attachment()
    # No extension, so only the given MIME type can end up in the PDF.
    readme = Attachment("README", b"Import answers.json into Gut Check.\n", "How to use", "text/plain")

    pdf = renderer.render(TWO_PAGES, attachments=[attachment, readme])

    reader = PdfReader(io.BytesIO(pdf))
    assert dict(reader.attachments) == {"answers.json": [attachment.data], "README": [readme.data]}
    names = reader.trailer["/Root"]["/Names"]["/EmbeddedFiles"]["/Names"]
    specs = {str(names[i]): names[i + 1].get_object() for i in range(0, len(names), 2)}
    assert specs["answers.json"]["/Desc"] == attachment.description
    assert specs["answers.json"]["/EF"]["/F"].get_object()["/Subtype"] == "/application/json"
    assert specs["README"]["/EF"]["/F"].get_object()["/Subtype"] == "/text/plain"


def test_escaped_hostile_text_prints_literally_and_fetches_nothing(
    renderer: PdfRenderer, spy_server: tuple[str, Hits]
) -> None:
    base, hits = spy_server
    hostile = [
        f'<img src="{base}/x">',
        "file:///etc/passwd",
        '<link rel=attachment href="file:///etc/passwd">',
        "@import url(http://169.254.169.254/)",
    ]
    body = "".join(f'<p class="free-text">{html.escape(text)}</p>' for text in hostile)

    pdf = renderer.render(_doc(body), attachments=[_answers_attachment()])

    text = _squash(_text(pdf))
    for item in hostile:
        assert _squash(item) in text
    assert hits.count == 0
    assert list(PdfReader(io.BytesIO(pdf)).attachments) == ["answers.json"]


def test_unescaped_hostile_markup_is_refused_by_the_fetcher(spy_server: tuple[str, Hits]) -> None:
    base, hits = spy_server
    head = (
        f'<link rel="stylesheet" href="{base}/s.css">'
        f'<link rel="attachment" href="file:///etc/passwd">'
        f'<link rel="attachment" href="file:///etc/hostname">'
        f"<style>@import url({base}/i.css); h1 {{ background: url({base}/bg.png) }}"
        f'@font-face {{ font-family: "X"; src: url({base}/f.ttf) }} p {{ font-family: "X" }}'
        "</style>"
    )
    body = (
        f'<h1>Hostile</h1><img src="{base}/x" alt=""><img src="file:///etc/passwd" alt="">'
        f'<p><a rel="attachment" href="{base}/a">attached</a></p>'
        f'<svg width="10" height="10"><image href="{base}/svg.png" width="10" height="10"/></svg>'
    )
    document = _doc(body, head)
    # Positive control: WeasyPrint's own fetcher does fetch these, so the spy server can see it.
    import weasyprint

    unsafe = PdfReader(io.BytesIO(weasyprint.HTML(string=document).write_pdf()))
    assert hits.count > 0
    assert "passwd" in unsafe.attachments
    hits.count = 0
    renderer = PdfRenderer()

    pdf = renderer.render(document)

    reader = PdfReader(io.BytesIO(pdf))
    assert "Hostile" in reader.pages[0].extract_text()
    assert hits.count == 0
    assert list(reader.attachments) == []
    assert len(reader.pages[0].images) == 0
    for path in ("x", "s.css", "i.css", "bg.png", "f.ttf", "a", "svg.png"):
        assert f"{base}/{path}" in renderer.refused
    assert "file:///etc/passwd" in renderer.refused
    # Document-declared attachments are dropped before the fetcher is even asked.
    assert "file:///etc/hostname" not in renderer.refused


def test_a_render_that_fails_gives_its_error_and_frees_its_slot(monkeypatch: pytest.MonkeyPatch) -> None:
    renderer = PdfRenderer(max_concurrent=1)
    broken = ValueError("layout failed")

    def fail(*args: object, **kwargs: object) -> bytes:
        raise broken

    monkeypatch.setattr(renderer, "_render_now", fail)
    with pytest.raises(ValueError) as caught:
        renderer.render(TWO_PAGES)
    assert caught.value is broken
    monkeypatch.undo()
    assert renderer.render(TWO_PAGES).startswith(b"%PDF")  # not RenderBusy: the slot was released


def test_bundled_asset_is_served_and_unknown_assets_are_not(renderer: PdfRenderer) -> None:
    body = '<img class="logo" src="asset:logo.png" alt="Logo"><img src="asset:missing.png" alt="">'
    before = len(renderer.refused)

    pdf = renderer.render(_doc(body))

    images = PdfReader(io.BytesIO(pdf)).pages[0].images
    assert len(images) == 1
    assert images[0].image.getpixel((0, 0)) == (0, 90, 0)
    assert renderer.refused[before:] == ["asset:missing.png"]


class _GatedAssets(Mapping[str, tuple[bytes, str]]):
    """An asset allowlist whose lookup blocks until released, to hold a render in progress."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self._assets = {"slow.png": (_png(), "image/png")}

    def __getitem__(self, key: str) -> tuple[bytes, str]:
        self.started.set()
        self.release.wait(60)
        return self._assets[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._assets)

    def __len__(self) -> int:
        return len(self._assets)


SLOW_DOC = _doc('<img src="asset:slow.png" alt="">')


def test_second_render_is_refused_at_once_while_the_only_slot_is_busy() -> None:
    gate = _GatedAssets()
    renderer = PdfRenderer(assets=gate, max_concurrent=1)
    results: list[bytes] = []
    first = threading.Thread(target=lambda: results.append(renderer.render(SLOW_DOC)))
    # Safety valve: if render() ever waited for a slot, the first render would end and the busy
    # assertion below would fail instead of the test hanging.
    valve = threading.Timer(30, gate.release.set)
    valve.start()
    try:
        first.start()
        assert gate.started.wait(30)

        with pytest.raises(RenderBusy):
            renderer.render(TWO_PAGES)

        assert not gate.release.is_set()
    finally:
        gate.release.set()
        valve.cancel()
        first.join(30)
    assert results and results[0].startswith(b"%PDF")
    assert renderer.render(TWO_PAGES).startswith(b"%PDF")


def test_timeout_gives_up_waiting_and_the_slot_stays_taken_until_the_render_ends() -> None:
    gate = _GatedAssets()
    renderer = PdfRenderer(assets=gate, max_concurrent=1, timeout_s=0.2)
    try:
        with pytest.raises(RenderTimeout):
            renderer.render(SLOW_DOC)  # cannot finish: the gate is closed
        with pytest.raises(RenderBusy):
            renderer.render(TWO_PAGES)
    finally:
        gate.release.set()
    for thread in threading.enumerate():
        if thread.name == "gutcheck-pdf-render":
            thread.join(30)
    assert renderer.render(TWO_PAGES).startswith(b"%PDF")


def test_stylesheet_and_fonts_are_prepared_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import weasyprint

    made: list[object] = []
    real_css = weasyprint.CSS

    def counting_css(*args: Any, **kwargs: Any) -> object:
        css = real_css(*args, **kwargs)
        made.append(css)
        return css

    used: list[tuple[object, object]] = []
    real_render = weasyprint.HTML.render

    def spying_render(self: Any, font_config: Any = None, *args: Any, **options: Any) -> Any:
        used.append((options["stylesheets"][0], font_config))
        return real_render(self, font_config, *args, **options)

    monkeypatch.setattr(weasyprint, "CSS", counting_css)
    monkeypatch.setattr(weasyprint.HTML, "render", spying_render)
    renderer = PdfRenderer()

    renderer.render(TWO_PAGES)
    renderer.render(TWO_PAGES)

    assert len(made) == 1
    assert len(used) == 2
    assert used[0][0] is made[0] and used[1][0] is made[0]
    assert used[0][1] is not None and used[0][1] is used[1][1]


def test_libharfbuzz_subset_is_loaded_after_a_render(renderer: PdfRenderer) -> None:
    renderer.render(TWO_PAGES)

    maps = Path("/proc/self/maps").read_text()
    assert "libharfbuzz-subset" in maps


def test_the_user_agent_stylesheet_loses_only_the_note_rules() -> None:
    from weasyprint import html as weasyprint_html

    from assessment.report.pdf import NOTE_PSEUDO_ELEMENTS
    from assessment.report.pdf import without_note_rules

    trimmed = without_note_rules(weasyprint_html.UA)

    kept = [line for line in weasyprint_html.UA.splitlines() if not line.startswith(NOTE_PSEUDO_ELEMENTS)]
    assert trimmed.splitlines() == kept
    assert len(kept) == len(weasyprint_html.UA.splitlines()) - len(NOTE_PSEUDO_ELEMENTS)
    with pytest.raises(RuntimeError):
        without_note_rules(trimmed)


def test_the_user_agent_marker_rule_is_kept_for_list_items_only() -> None:
    from weasyprint import html as weasyprint_html

    from assessment.report.pdf import LIST_MARKER_RULE
    from assessment.report.pdf import MARKER_RULE
    from assessment.report.pdf import with_list_item_markers

    narrowed = with_list_item_markers(weasyprint_html.UA)

    assert narrowed.replace(LIST_MARKER_RULE, MARKER_RULE) == weasyprint_html.UA
    assert narrowed.count("::marker {") == 1
    with pytest.raises(RuntimeError):
        with_list_item_markers(narrowed)


def test_the_summary_uses_no_footnotes_or_notes() -> None:
    # The renderer's user-agent stylesheet has no footnote or note rules (their call and marker text).
    root = Path(__file__).resolve().parent.parent
    for source in (root / "assessment/report/base.css", root / "templates/report/summary.html"):
        text = source.read_text("utf-8")
        assert "footnote" not in text and "::note" not in text, source
