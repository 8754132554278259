"""report/fast_layout.py: the same pages as WeasyPrint's own code, branch by branch, and patched cleanly.

Each replacement is checked three ways: whole summaries rendered with and without the patch give the
same page content streams and text; each replacement run next to the original on crafted inputs
(percentages, ``auto``, calc(), box-sizing, pages, collapsed borders, logical properties, var(),
inherited math) leaves the same values; and the patch leaves no original behind in WeasyPrint's
modules, nor touches WeasyPrint on another version.
"""

from __future__ import annotations

import importlib
import io
import logging
import pkgutil
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import pytest
import tinycss2
import weasyprint
from flask import Flask
from pypdf import PdfReader
from weasyprint.css import ComputedStyle
from weasyprint.css import get_all_computed_styles
from weasyprint.css.properties import INITIAL_VALUES
from weasyprint.css.properties import Dimension
from weasyprint.formatting_structure import boxes
from weasyprint.layout import percent

from assessment.report import PdfRenderer
from assessment.report import fast_layout
from assessment.report.pdf import _make_html_class
from assessment.report.pdf import base_stylesheet
from assessment.web.state import state
from tests.casefiles import CASES_DIR
from tests.casefiles import load_case
from tests.casefiles import raw_of
from tests.test_xhtml_parse import at_maximum
from tests.test_xhtml_parse import summary_html

Pages = list[tuple[str, bytes]]


@pytest.fixture(autouse=True)
def restore_patch() -> Iterator[None]:
    """Leave the patch as the test found it (the app installs it once per process)."""
    was = fast_layout.installed()
    yield
    fast_layout.install() if was else fast_layout.uninstall()


@pytest.fixture(scope="module")
def renderer() -> PdfRenderer:
    """WeasyPrint's PDF without the finishing step: its page streams are what layout decides."""
    return PdfRenderer(base_stylesheet(), finish=False, timeout_s=None)


def pages(pdf: bytes) -> Pages:
    """The extracted text and the decoded content stream of every page."""
    return [
        (page.extract_text(), page.get_contents().get_data()) for page in PdfReader(io.BytesIO(pdf)).pages
    ]


def both_ways(
    renderer: PdfRenderer, html: str, patches: tuple[Any, ...] = (fast_layout,)
) -> tuple[Pages, Pages]:
    """Render with WeasyPrint's own code, then with the replacements (these fast-path modules)."""
    for module in patches:
        module.uninstall()
    stock = pages(renderer.render(html))
    assert all(module.install() for module in patches)
    return stock, pages(renderer.render(html))


def assert_same_pages(renderer: PdfRenderer, html: str, patches: tuple[Any, ...] = (fast_layout,)) -> None:
    stock, fast = both_ways(renderer, html, patches)
    assert len(fast) == len(stock)
    for number, (old, new) in enumerate(zip(stock, fast, strict=True), 1):
        assert new[0] == old[0], f"page {number}: text differs"
        assert new[1] == old[1], f"page {number}: content stream differs"


def case_html(app: Flask, name: str) -> str:
    return summary_html(app, raw_of(load_case(CASES_DIR / f"{name}.yaml")["answers"]))


# ---------------------------------------------------------------------------------------------
# Whole summaries
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["p1_emma", "p3_linda"])
def test_a_personas_summary_has_the_same_pages(app: Flask, renderer: PdfRenderer, name: str) -> None:
    assert_same_pages(renderer, case_html(app, name))


def test_the_summary_at_every_maximum_has_the_same_pages(app: Flask, renderer: PdfRenderer) -> None:
    assert_same_pages(renderer, summary_html(app, at_maximum(state(app).questionnaire)))


# Everything the summaries never use that the replacements treat specially.
CRAFTED = """<!doctype html><html lang="en" style="--gap: 3px"><head><meta charset="utf-8"><title>T</title>
<style>
  @page { size: 300px 400px; margin: 5% 10px auto; padding: 2% 1px; }
  @page :first { margin-top: calc(2% + 4px); }
  body { text-indent: calc(10% + 5px); margin-inline-start: 7px; padding-block-end: var(--gap); }
  .pct { width: 50%; height: 25%; min-height: 10%; max-width: 90%; padding: 2% 3px; margin: auto 5%; }
  .calc { width: calc(50% - 10px); min-width: min(20%, 40px); max-height: calc(100% + 2px); }
  .bb { box-sizing: border-box; width: 120px; height: 60px; min-width: 50px; max-height: 80px;
        padding: 7px; border: 3px solid; }
  .pb { box-sizing: padding-box; width: 80%; min-height: 20px; padding: 4px 2%; border: 1px solid; }
  .huge { box-sizing: border-box; width: 5px; max-width: 9px; padding: 20px; border: 4px solid; }
  .fixed { height: 30px; }
  .mathheight { height: calc(20px + 1em); }
  .rtl { direction: rtl; margin-inline-end: 9px; border-inline-start: 2px solid; }
  table { border-collapse: collapse; width: 70%; }
  td { border: 2px solid; padding: 1%; width: 30%; }
  .sep { border-collapse: separate; border-spacing: 2px; }
  .float { float: left; width: 20%; }
  .abs { position: absolute; top: 10%; left: 5px; width: 30%; }
  .deco { text-decoration: underline; }
  .var { margin-left: var(--gap); padding-right: var(--missing, 4%); }
  .bad { width: calc(1px + 1deg); }
</style></head><body>
<div class="pct">percent <span class="deco">decorated <b>bold</b></span></div>
<div class="calc">calc<div class="pct">nested percent</div></div>
<div class="bb">border-box</div><div class="pb">padding-box</div><div class="huge">huge</div>
<div class="fixed"><div class="pct">in fixed height</div><div class="mathheight">math</div></div>
<div class="rtl">right to left <span>inline</span></div>
<table><tr><td>a</td><td class="pct">b</td></tr><tr><td colspan="2">c</td></tr></table>
<table class="sep"><tr><td>d</td></tr></table>
<div class="float">floated</div><div class="abs">absolute</div>
<ul><li>item</li><li class="var">var item</li></ul>
<p class="bad">invalid math</p>
</body></html>"""


def test_a_crafted_document_reaching_every_branch_has_the_same_pages(renderer: PdfRenderer) -> None:
    assert_same_pages(renderer, CRAFTED)


# ---------------------------------------------------------------------------------------------
# resolve_percentages, call by call
# ---------------------------------------------------------------------------------------------

RESOLVED = (
    *(f"{kind}_{side}" for kind in ("margin", "padding") for side in ("top", "right", "bottom", "left")),
    *(f"border_{side}_width" for side in ("top", "right", "bottom", "left")),
    *(f"{bound}{axis}" for bound in ("", "min_", "max_") for axis in ("width", "height")),
)


def calls_of(function_name: str, html: str) -> list[tuple[Any, Any]]:
    """Every (box, containing block) WeasyPrint's own ``function_name`` gets while laying out ``html``."""
    fast_layout.uninstall()
    original = getattr(percent, function_name)
    seen: list[tuple[Any, Any]] = []

    def spy(box: Any, containing_block: Any) -> None:
        seen.append((box, containing_block))
        original(box, containing_block)

    fast_layout._swap({original: spy})
    try:
        weasyprint.HTML(string=html).render()
    finally:
        fast_layout._swap({spy: original})
    return seen


def resolved(function: Callable[[Any, Any], None], box: Any, containing_block: Any) -> dict[str, Any]:
    """Run ``function`` on a copy of ``box``: each resolved value with its type (0 is not 0.0)."""
    copy = box.copy()
    try:
        function(copy, containing_block)
    except Exception as error:  # the replacement must fail the same way
        return {"error": (type(error), str(error))}
    return {name: (type(getattr(copy, name, None)), getattr(copy, name, None)) for name in RESOLVED}


def variants(box: Any, containing_block: Any) -> Iterator[Any]:
    """The containing block given, and other shapes WeasyPrint passes: sizes, ``auto`` height, a box."""
    yield containing_block
    yield (300, "auto")
    yield (300.5, 200)
    yield (0, 0)
    yield box  # a Box as its own containing block: its width and height are already set


def test_resolve_percentages_leaves_what_the_original_leaves() -> None:
    calls = calls_of("resolve_percentages", CRAFTED)
    assert any(isinstance(box, boxes.PageBox) for box, _ in calls)
    assert any(cb[1] == "auto" for _, cb in calls if isinstance(cb, tuple))
    assert any(box.style["border_collapse"] == "collapse" for box, _ in calls)
    stock = percent.resolve_percentages  # calls_of() left WeasyPrint's own code in place
    for box, containing_block in calls:
        for block in variants(box, containing_block):
            want = resolved(stock, box, block)
            assert resolved(fast_layout.resolve_percentages, box, block) == want, (box, block)


def test_resolve_percentages_handles_each_height_and_sizing_alike() -> None:
    """Values the calls above may not reach: each box-sizing, '%', 'px' and 'auto' heights and minima."""
    calls = calls_of("resolve_percentages", CRAFTED)
    page = next(box for box, _ in calls if isinstance(box, boxes.PageBox))
    block = next(box for box, _ in calls if isinstance(box, boxes.BlockBox))
    for box in (page, block):
        for sizing in ("content-box", "border-box", "padding-box", "bogus"):
            for height in ("auto", Dimension(40, "%"), Dimension(12.5, "px"), Dimension(3, "PX")):
                for minimum in ("auto", Dimension(0, "px"), Dimension(10, "%")):
                    styled = box.copy()
                    styled.style = box.style.copy()
                    styled.style.update(
                        box_sizing=sizing,
                        height=height,
                        min_width=minimum,
                        min_height=minimum,
                        padding_top=Dimension(5, "px"),
                        max_height=Dimension(3, "px"),
                        border_top_width=2,
                    )
                    for containing_block in ((200, "auto"), (200, 100), ("auto", "auto")):
                        want = resolved(percent.resolve_percentages, styled, containing_block)
                        assert resolved(fast_layout.resolve_percentages, styled, containing_block) == want


# ---------------------------------------------------------------------------------------------
# ComputedStyle.__missing__, property by property
# ---------------------------------------------------------------------------------------------


def all_values(html: str, keys: list[str]) -> list[tuple[Any, str, str]]:
    """Every property of every element's style (and the page's), read in ``keys`` order."""
    document = weasyprint.HTML(string=html)
    style_for = get_all_computed_styles(document)
    found = []
    for element in document.wrapper_element.iter_subtree():
        for pseudo in (None, "before", "marker"):
            style = style_for(element.etree_element, pseudo)
            if style is not None:
                found += [(repr(style[key]), key, element.etree_element.tag) for key in keys]
    return found


@pytest.mark.parametrize("order", ["sorted", "reversed"])
def test_computed_styles_are_those_the_original_computes(order: str) -> None:
    keys = sorted(INITIAL_VALUES, reverse=order == "reversed")
    fast_layout.uninstall()
    assert ComputedStyle.__missing__ is not fast_layout.computed_missing
    want = all_values(CRAFTED, keys)
    fast_layout.install()
    assert ComputedStyle.__missing__ is fast_layout.computed_missing
    assert all_values(CRAFTED, keys) == want


def test_inherited_math_goes_to_the_original_which_may_warn(caplog: pytest.LogCaptureFixture) -> None:
    """A parent's value holding math is checked again in the child: the original does that."""
    document = weasyprint.HTML(string="<p>text</p>")
    parent = get_all_computed_styles(document)(document.etree_element)
    parent["text_indent"] = tinycss2.parse_one_component_value("calc(1px + 1deg)")
    caplog.set_level(logging.WARNING, logger="weasyprint")
    found = []
    for patched in (False, True):
        fast_layout.install() if patched else fast_layout.uninstall()
        child = ComputedStyle(
            parent, {}, None, parent.root_style, None, parent.font_config, parent.initial_page_sizes
        )
        caplog.clear()
        found.append((child["text_indent"], [record.getMessage() for record in caplog.records]))
    assert found[1] == found[0]
    assert found[0][1], "the original warns about the invalid math function"


# ---------------------------------------------------------------------------------------------
# Patching
# ---------------------------------------------------------------------------------------------


def import_all_of_weasyprint() -> None:
    """Load every WeasyPrint module, so any that imports a replaced function by name is checked."""
    for module in pkgutil.walk_packages(weasyprint.__path__, "weasyprint."):
        if module.name != "weasyprint.__main__":
            importlib.import_module(module.name)


def test_no_weasyprint_module_keeps_an_original() -> None:
    fast_layout.uninstall()
    import_all_of_weasyprint()
    originals = list(fast_layout._function_replacements())
    holders = [
        name for name, value in vars(percent).items() if any(value is original for original in originals)
    ]
    assert holders, "the originals are bound in weasyprint.layout.percent before install()"
    assert fast_layout.install()
    stale = [
        f"{module.__name__}.{name}"
        for module in fast_layout._weasyprint_modules()
        for name, value in vars(module).items()
        if any(value is original for original in originals)
    ]
    assert not stale
    assert percent.resolve_percentages is fast_layout.resolve_percentages
    for owner, name, method in fast_layout._METHODS:
        assert vars(owner)[name] is method


def test_install_is_idempotent_and_uninstall_restores_everything() -> None:
    fast_layout.uninstall()
    import_all_of_weasyprint()
    before = {module.__name__: dict(vars(module)) for module in fast_layout._weasyprint_modules()}
    methods = {(owner, name): vars(owner)[name] for owner, name, _ in fast_layout._METHODS}
    assert fast_layout.install() and fast_layout.install()
    fast_layout.uninstall()
    fast_layout.uninstall()
    after = {module.__name__: dict(vars(module)) for module in fast_layout._weasyprint_modules()}
    assert {name: after[name] for name in before} == before
    assert {(owner, name): vars(owner)[name] for owner, name, _ in fast_layout._METHODS} == methods


def test_another_weasyprint_version_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_layout.uninstall()
    stock, stock_missing = percent.resolve_percentages, ComputedStyle.__missing__
    monkeypatch.setattr(weasyprint, "__version__", "71.0")
    assert fast_layout.install() is False
    assert not fast_layout.installed()
    assert percent.resolve_percentages is stock
    assert ComputedStyle.__missing__ is stock_missing


def test_the_renderer_installs_the_patch() -> None:
    fast_layout.uninstall()
    _make_html_class.cache_clear()  # it installs the patch once per process, before any render
    PdfRenderer(base_stylesheet())
    assert fast_layout.installed()
