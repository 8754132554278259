"""Text shaped once: WeasyPrint 70.0 draws each line from the Pango layout that measured it.

WeasyPrint frees each line's Pango layout as soon as the line is measured (``Layout.deactivate``)
and builds a new one to draw it (``Layout.reactivate``): a new Pango context, the font set up
again and the text shaped a second time, about 6% of a summary's render. For documents of
thousands of pages that keeps memory flat; a summary has a few hundred lines, freed with the
document once the PDF is written.

Here the measured layout is kept, and drawing uses it when a new one would come out the same:
the same style object, no justification spacing added since (``set_text(justify=True)`` then sets
the attributes measuring set) and no width (drawing lays a line out unconstrained; a kept layout
with a width is set to none, which re-lays it out in the same context). Anything else is built
anew as WeasyPrint does. ``tests/test_fast_text.py`` compares page streams with WeasyPrint's own.

``install()`` patches WeasyPrint 70.0 only.
"""

from __future__ import annotations

from typing import Any

from assessment.report.fast_text import WEASYPRINT_VERSION

_KEPT = "gutcheck_kept"
"""Attribute set on a WeasyPrint ``Layout`` whose Pango layout was kept instead of freed."""

_stock: dict[str, Any] = {}
"""WeasyPrint's own ``Layout.deactivate`` and ``Layout.reactivate`` while installed."""


def install() -> bool:
    """Keep measured layouts for drawing; return whether the patch is in place."""
    import weasyprint
    from weasyprint.text.line_break import Layout

    if _stock:
        return True
    if weasyprint.__version__ != WEASYPRINT_VERSION:
        return False
    _stock.update(deactivate=vars(Layout)["deactivate"], reactivate=vars(Layout)["reactivate"])
    Layout.deactivate = keep
    Layout.reactivate = reactivate
    return True


def uninstall() -> None:
    """Free and rebuild layouts as WeasyPrint does (for tests that compare the two)."""
    from weasyprint.text.line_break import Layout

    if _stock:
        Layout.deactivate = _stock.pop("deactivate")
        Layout.reactivate = _stock.pop("reactivate")


def keep(layout: Any) -> None:
    """Instead of freeing the Pango layout, mark it kept: it goes with the document."""
    setattr(layout, _KEPT, True)


def reactivate(layout: Any, style: Any) -> None:
    """Make ``layout`` ready to draw: the kept Pango layout when a new one would be the same."""
    from weasyprint.text.ffi import pango

    if not getattr(layout, _KEPT, False) or style is not layout.style or layout.justification_spacing:
        _stock["reactivate"](layout, style)
        return
    # Pango changes nothing, and keeps the shaped text, when the width is already none.
    pango.pango_layout_set_width(layout.layout, -1)
