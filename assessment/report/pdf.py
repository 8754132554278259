"""PDF adapter: HTML to a tagged PDF/UA-1 with WeasyPrint 70, fetching nothing from outside.

Security model (docs/design.md, "Security model"):

- Only bundled assets are ever loaded. Documents refer to them as ``asset:<name>`` (for example
  ``<img src="asset:logo.svg" alt="">``); the fetcher serves exactly those names from memory and
  refuses every other URL (``http:``, ``file:``, ``data:``, relative paths, ...) without ever
  opening a connection or a file, so redirects cannot happen either.
- HTML is parsed with no base URL, so relative references cannot silently become ``file://`` paths.
- Attachments come only from the caller, from memory. ``<link rel="attachment">`` elements in the
  document are dropped before writing; ``<a rel="attachment">`` links go through the fetcher.
- Presentational hints are off (CVE-2026-49452); the PDF is written to memory, never a temp file.
- A per-process semaphore bounds concurrent renders (``RenderBusy`` when full, never a queue), and
  ``RenderTimeout`` caps how long a caller waits.

Accessibility: WeasyPrint writes a tagged PDF/UA-1 file; ``tagging.finish_pdf`` (pikepdf) then makes
the running header and footer pagination artifacts, adds the IDTree and writes /Scope on every TH
(issue 19) and compresses the file. Should that step ever fail, the render logs it and serves
WeasyPrint's PDF as written (tagged, uncompressed).

WeasyPrint and pikepdf are imported lazily so importing this module (and starting the web app)
stays fast.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import io
import logging
import re
import threading
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from importlib import resources
from typing import Any
from xml.etree import ElementTree

from assessment.report import fast_text
from assessment.report.xhtml import parse_xhtml

ASSET_SCHEME = "asset:"
"""Prefix of the only URLs the fetcher serves: ``asset:<name>``, ``<name>`` a key of the assets."""

PDF_VARIANT = "pdf/ua-1"
"""Tagged, accessible PDF (PDF/UA-1), verified with WeasyPrint 70."""

DEFAULT_TIMEOUT_S = 20.0
DEFAULT_MAX_CONCURRENT = 2
MAX_REFUSED_RECORDED = 100
"""The refused-URL list serves tests and diagnostics; the cap keeps a long-lived process flat."""

_THREAD_NAME = "gutcheck-pdf-render"

NOTE_PSEUDO_ELEMENTS = (
    "::footnote-call",
    "::footnote-marker",
    "::note-call",
    "::note-marker",
    "::note-callback",
)
"""Selectors of WeasyPrint's user-agent rules for footnotes and notes, which no document of ours uses."""

MARKER_RULE = "::marker { font-variant-numeric: tabular-nums; white-space: pre; text-transform: none }"
"""WeasyPrint's user-agent rule for list markers, with no subject: it matches every element."""

LIST_MARKER_RULE = "li::marker, summary::marker" + MARKER_RULE[len("::marker") :]
"""The same rule for the elements the user-agent stylesheet makes list items (``li``, ``summary``)."""

logger = logging.getLogger(__name__)


class RenderError(Exception):
    """Base class of the errors the PDF adapter raises on purpose."""


class RenderBusy(RenderError):
    """Every render slot of this process is taken; answer 503 with Retry-After rather than queue."""


class RenderTimeout(RenderError):
    """The render took longer than the timeout; it finishes in the background and keeps its slot."""


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file embedded in the PDF from memory, e.g. ``answers.json``."""

    name: str
    data: bytes
    description: str
    mime: str


def base_stylesheet() -> str:
    """Return the bundled A4 print stylesheet (``base.css`` next to this module)."""
    return resources.files(__package__).joinpath("base.css").read_text(encoding="utf-8")


def _weasyprint() -> Any:
    """Import WeasyPrint on first use and quiet its logger (warnings name document content)."""
    import weasyprint

    # WeasyPrint logs CSS warnings per render, which can quote the document: keep only errors.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    return weasyprint


def _finisher() -> Callable[[bytes, Any], bytes]:
    """Import the pikepdf finishing step on first use (pikepdf is slow to import)."""
    from assessment.report.tagging import finish_pdf

    return finish_pdf


def _tree_facts(pdf: Any) -> Any:
    """The structure tree's facts from WeasyPrint's objects, or None to have the file walked."""
    from assessment.report.tagging import facts_before_writing

    try:
        return facts_before_writing(pdf)
    except Exception as exc:  # the finishing step then walks the written file, as for any PDF
        # The type only: a message could quote the document, and nothing about a person is logged.
        logger.error("Reading the tagged structure before writing failed (%s)", type(exc).__name__)
        return None


def without_note_rules(ua_css: str) -> str:
    """Drop the footnote and note rules (``NOTE_PSEUDO_ELEMENTS``) from a user-agent stylesheet."""
    for selector in NOTE_PSEUDO_ELEMENTS:
        ua_css, found = re.subn(rf"(?m)^{re.escape(selector)} {{[^}}]*}}\n", "", ua_css)
        if found != 1:  # a WeasyPrint upgrade reworded the rule: look again rather than guess
            msg = f"WeasyPrint's user-agent stylesheet has no single {selector} rule"
            raise RuntimeError(msg)
    return ua_css


def with_list_item_markers(ua_css: str) -> str:
    """Narrow the user-agent ``::marker`` rule (``MARKER_RULE``) to ``li`` and ``summary``."""
    ua_css, found = re.subn(rf"(?m)^{re.escape(MARKER_RULE)}$", LIST_MARKER_RULE, ua_css)
    if found != 1:  # a WeasyPrint upgrade reworded the rule: look again rather than guess
        msg = "WeasyPrint's user-agent stylesheet has no single ::marker rule"
        raise RuntimeError(msg)
    return ua_css


def _install_fast_paths() -> None:
    """Faster equivalents of WeasyPrint 70.0's hottest style, layout and drawing functions.

    Each gives the same PDF (tests/test_fast_layout.py, tests/test_fast_text.py); on any other
    WeasyPrint they stay out and the stock code runs.
    """
    from assessment.report import fast_layout
    from assessment.report import kept_layouts

    fast_layout.install()
    fast_text.install()
    kept_layouts.install()


@functools.cache
def _make_html_class() -> type:
    """Build WeasyPrint's HTML class with a lighter user-agent stylesheet, made once per process.

    Each of the five note rules has no subject, so it matches every element: WeasyPrint computed five
    pseudo-element styles per element that nothing ever used (no ``float: footnote`` and no notes in
    our documents), a third of the style step and 7-10% of a summary's render. Without them the
    pages are the same; a document that used footnotes would lose their call and marker text.

    The ``::marker`` rule has no subject either, so each element got a marker style too: half of
    the styles WeasyPrint computed (364 of P1's, 664 of the maximum summary's). Only a list item
    has a marker, and the stock sheet makes only ``li`` and ``summary`` list items, so the rule is
    kept for those two; an element made a list item by an author stylesheet would get a marker
    without tabular numbers. The summary's items have no marker (``list-style: none``).
    """
    import weasyprint
    from weasyprint import html

    _install_fast_paths()
    # Parsed like the stock sheet: same counter styles, no font configuration.
    ua_css = with_list_item_markers(without_note_rules(html.UA))
    sheet = html.CSS(string=ua_css, counter_style=html.UA_COUNTER_STYLE)

    class SummaryHTML(weasyprint.HTML):  # type: ignore[misc]
        """WeasyPrint's HTML with the user-agent stylesheet above, parsed by expat when it is XHTML."""

        def __init__(self, *, string: str, url_fetcher: Any) -> None:
            root = parse_xhtml(string)
            if root is None:  # only an HTML parser can tell: WeasyPrint's own
                super().__init__(string=string, url_fetcher=url_fetcher)
            else:
                _set_up_from_tree(self, root, url_fetcher)

        def _ua_stylesheets(self, forms: bool = False) -> list[Any]:
            return [sheet, html.UA_FORM_STYLESHEET] if forms else [sheet]

    return SummaryHTML


def _set_up_from_tree(document: Any, root: ElementTree.Element, url_fetcher: Any) -> None:
    """Set what weasyprint.HTML.__init__ sets (WeasyPrint 70, pinned), from an already parsed tree."""
    import cssselect2
    import weasyprint

    document.base_url = weasyprint._find_base_url(root, None)
    document.url_fetcher = url_fetcher
    document.media_type = "print"
    document.wrapper_element = cssselect2.ElementWrapper.from_html_root(root, content_language=None)
    document.etree_element = document.wrapper_element.etree_element


@functools.cache
def _make_fetcher_class() -> type:
    """Build the allowlist fetcher class; a function so WeasyPrint is imported only when needed."""
    from weasyprint.urls import URLFetcher
    from weasyprint.urls import URLFetcherResponse

    class AssetFetcher(URLFetcher):  # type: ignore[misc]
        """Serve ``asset:<name>`` from an in-memory allowlist and refuse every other URL."""

        def __init__(self, assets: Mapping[str, tuple[bytes, str]]) -> None:
            # No protocol allowed and no redirect handler, in case anything reaches the parent's
            # urllib machinery; fetch() below never calls it anyway.
            super().__init__(allowed_protocols=(), allow_redirects=False, fail_on_errors=False)
            self.assets = assets
            self.refused: list[str] = []

        def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> Any:
            """Return the bundled asset for ``url`` or refuse it without any I/O."""
            if url.startswith(ASSET_SCHEME):
                found = self.assets.get(url[len(ASSET_SCHEME) :])
                if found is not None:
                    data, mime = found
                    return URLFetcherResponse(url, data, {"Content-Type": mime})
            if len(self.refused) < MAX_REFUSED_RECORDED:
                # data: URLs can be megabytes long; the start is enough to recognise them.
                self.refused.append(url[:500])
            msg = "URL outside the asset allowlist"
            # Any Exception is caught by WeasyPrint, logged at ERROR and the resource skipped.
            raise PermissionError(msg)

    return AssetFetcher


@dataclass(slots=True)
class _Prepared:
    """A parsed stylesheet and the FontConfiguration it was parsed with; one render at a time."""

    font_config: Any
    css: Any


def _set_metadata(metadata: Any, title: str, author: str, subject: str) -> None:
    """Caller-given metadata wins over <title>, <meta name=author|description>."""
    if title:
        metadata.title = title
    if author:
        metadata.authors = [author]
    if subject:
        metadata.description = subject  # written to /Subject
    # Attachments come only from the caller: drop <link rel=attachment> from the document.
    metadata.attachments = []


@contextlib.contextmanager
def _memory_source(data: bytes, mime: str) -> Iterator[tuple[io.BytesIO, None, None, str]]:
    """Yield an attachment source like WeasyPrint's ``select_source`` does, with our MIME type."""
    yield io.BytesIO(data), None, None, mime


class PdfRenderer:
    """Renders HTML to PDF with a stylesheet and fonts prepared once; make one per process.

    Thread model: at most ``max_concurrent`` renders run at once; a further call raises
    ``RenderBusy`` at once. Each render runs in a worker thread so the caller can stop waiting
    after ``timeout_s`` (``RenderTimeout``); WeasyPrint cannot be interrupted, so that thread
    finishes in the background and its slot stays taken until it does.

    Fonts: WeasyPrint's FontConfiguration wraps a Pango font map, which is not safe to share
    between threads, so each concurrent slot gets its own prepared (FontConfiguration, CSS) pair.
    Pairs are made lazily and reused: with gunicorn's sync workers (one request at a time) a
    process parses the CSS and builds fonts exactly once; a second pair appears only while two
    renders overlap, e.g. next to one that timed out.

    Limitation: ``@counter-style`` and ``@font-face`` rules belong in the document, not in the
    prepared stylesheet (WeasyPrint keeps them per render, not on the CSS object).
    """

    def __init__(
        self,
        stylesheet_css: str | None = None,
        assets: Mapping[str, tuple[bytes, str]] | None = None,
        *,
        max_concurrent: int = DEFAULT_MAX_CONCURRENT,
        timeout_s: float | None = DEFAULT_TIMEOUT_S,
        finish: bool = True,
    ) -> None:
        """``finish=False`` serves WeasyPrint's PDF without the tagging step (for the benchmark)."""
        if max_concurrent < 1:
            msg = "max_concurrent must be at least 1"
            raise ValueError(msg)
        self._weasyprint = _weasyprint()
        self._html_class = _make_html_class()
        self._finish = _finisher() if finish else None
        self.stylesheet_css = base_stylesheet() if stylesheet_css is None else stylesheet_css
        # Kept by reference, read only: the mapping is the allowlist.
        self.fetcher = _make_fetcher_class()(assets or {})
        self.timeout_s = timeout_s
        self._slots = threading.BoundedSemaphore(max_concurrent)
        self._idle_lock = threading.Lock()
        # Parse now, not on the first request: CSS mistakes show at once, the first PDF is fast.
        self._idle: list[_Prepared] = [self._prepare()]

    @property
    def refused(self) -> list[str]:
        """URLs the fetcher refused so far (at most ``MAX_REFUSED_RECORDED``)."""
        refused: list[str] = self.fetcher.refused
        return refused

    def _prepare(self) -> _Prepared:
        """Build a FontConfiguration and parse the stylesheet against it."""
        from weasyprint.text.fonts import FontConfiguration

        font_config = FontConfiguration()
        css = self._weasyprint.CSS(
            string=self.stylesheet_css, font_config=font_config, url_fetcher=self.fetcher
        )
        return _Prepared(font_config=font_config, css=css)

    def _take(self) -> _Prepared:
        """Take an idle prepared pair, or make one when all are busy (bounded by the semaphore)."""
        with self._idle_lock:
            if self._idle:
                return self._idle.pop()
        return self._prepare()

    def _give_back(self, prepared: _Prepared) -> None:
        """Return a prepared pair for the next render."""
        with self._idle_lock:
            self._idle.append(prepared)

    def render(
        self,
        html: str,
        *,
        attachments: Sequence[Attachment] = (),
        title: str = "",
        author: str = "",
        subject: str = "",
    ) -> bytes:
        """Render ``html`` to PDF bytes; raise RenderBusy or RenderTimeout."""
        if not self._slots.acquire(blocking=False):
            msg = "all PDF render slots of this process are busy"
            raise RenderBusy(msg)
        outcome: concurrent.futures.Future[bytes] = concurrent.futures.Future()
        # Daemon: a stuck render must not keep the process from exiting.
        thread = threading.Thread(
            target=self._render_into,
            args=(outcome, html, attachments, title, author, subject),
            name=_THREAD_NAME,
            daemon=True,
        )
        try:
            thread.start()
        except BaseException:
            self._slots.release()
            raise
        try:
            return outcome.result(timeout=self.timeout_s)
        except concurrent.futures.TimeoutError:
            msg = f"PDF render took longer than {self.timeout_s} s"
            raise RenderTimeout(msg) from None

    def _render_into(
        self,
        outcome: concurrent.futures.Future[bytes],
        html: str,
        attachments: Sequence[Attachment],
        title: str,
        author: str,
        subject: str,
    ) -> None:
        """Render in this thread, free the slot, then publish the outcome."""
        result: bytes | None = None
        error: BaseException | None = None
        try:
            result = self._render_now(
                html, attachments=attachments, title=title, author=author, subject=subject
            )
        except BaseException as exc:  # handed to the caller below, whatever it is
            error = exc
        finally:
            # Free the slot before publishing, so a caller's next render never sees it taken.
            self._slots.release()
        if error is not None:
            outcome.set_exception(error)
        else:
            assert result is not None
            outcome.set_result(result)

    def _render_now(
        self,
        html: str,
        *,
        attachments: Sequence[Attachment],
        title: str,
        author: str,
        subject: str,
    ) -> bytes:
        """Do the WeasyPrint work in the calling thread with a prepared stylesheet and fonts."""
        prepared = self._take()
        try:
            # No base_url: relative references stay unresolved instead of becoming file:// paths.
            document = self._html_class(string=html, url_fetcher=self.fetcher).render(
                font_config=prepared.font_config,
                stylesheets=[prepared.css],
                presentational_hints=False,
                pdf_variant=PDF_VARIANT,
            )
            _set_metadata(document.metadata, title, author, subject)
            embedded = self._attachments(attachments)
            # With the finishing step, WeasyPrint writes uncompressed and pikepdf compresses on save:
            # pydyf deflates every stream at level 9 in Python-driven calls, the finishing step
            # would inflate the page streams again, and qpdf's own deflate is faster (the file is
            # the same size). Just before writing, the structure tree is read from WeasyPrint's own
            # objects, which is cheaper than walking it again in the written file.
            known: list[Any] = []
            pdf: bytes = document.write_pdf(
                pdf_variant=PDF_VARIANT,
                attachments=embedded,
                uncompressed_pdf=self._finish is not None,
                finisher=(lambda _, written: known.append(_tree_facts(written))) if self._finish else None,
            )
        finally:
            self._give_back(prepared)
        return self._finished(pdf, known[0] if known else None)

    def _attachments(self, attachments: Sequence[Attachment]) -> list[Any]:
        """WeasyPrint attachments for the caller's files, read from memory."""
        now = datetime.now(UTC)  # WeasyPrint writes these dates with a "Z" suffix
        embedded = []
        for item in attachments:
            attachment = self._weasyprint.Attachment(
                string=item.data,
                url_fetcher=self.fetcher,
                name=item.name,
                description=item.description,
                created=now,
                modified=now,
            )
            # WeasyPrint guesses the MIME type from the name; give it ours from memory instead.
            attachment.source = _memory_source(item.data, item.mime)
            embedded.append(attachment)
        return embedded

    def _finished(self, pdf: bytes, known: Any) -> bytes:
        """The PDF after the finishing step, if there is one; as rendered if that step fails."""
        if self._finish is None:
            return pdf
        try:
            finished: bytes = self._finish(pdf, known)
        except Exception as exc:  # a PDF with WeasyPrint's tagging, uncompressed, beats no summary
            # The type only: a message could quote the document, and nothing about a person is logged.
            logger.error("PDF/UA finishing step failed (%s); serving the PDF as rendered", type(exc).__name__)
            return pdf
        return finished
