"""Faster drop-in replacements for a few of WeasyPrint 70.0's hottest layout and style functions.

Computing style properties lazily (``ComputedStyle.__missing__``, about 16,000 calls for the
maximum summary) and resolving each box's percentages (``resolve_percentages``, 1,700 calls) are
the two that paid: about 5% of a summary's render together. Each replacement leaves the same values
and has the same side effects as the original for every input, but takes the common cases first (a
length in ``px`` or ``%``; a property that is neither set nor special) and hands anything else to
WeasyPrint's own code. tests/test_fast_layout.py renders summaries both ways and compares the page
streams byte for byte, and runs each replacement next to the original on crafted inputs.

``install()`` patches them in only for WeasyPrint 70.0, the version whose source they were written
from; on any other version it does nothing and the stock code runs. ``uninstall()`` restores it.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from collections.abc import Iterator
from math import inf
from typing import Any

import weasyprint
from weasyprint import css
from weasyprint.css import computed_values
from weasyprint.css import properties
from weasyprint.formatting_structure import boxes
from weasyprint.layout import percent

from assessment.report.fast_text import WEASYPRINT_VERSION

_Dimension = properties.Dimension
# Values check_math() answers falsy for without looking: none of them has a ``type`` attribute.
_PLAIN_TYPES = frozenset({str, int, float, bool, type(None), _Dimension})
_BORDER_WIDTHS = ("border_top_width", "border_right_width", "border_bottom_width", "border_left_width")
_lock = threading.Lock()


# ---------------------------------------------------------------------------------------------
# weasyprint.layout.percent
# ---------------------------------------------------------------------------------------------


def _used(value: Any, style: Any, refer_to: Any) -> Any:
    """``percent.percentage``: a Dimension with a unit in line, anything else by the original."""
    if type(value) is _Dimension and value.unit is not None:
        return refer_to * value.value / 100 if value.unit == "%" else value.value
    return percent.percentage(value, style, refer_to)


def _used_minimum(value: Any, style: Any, refer_to: Any) -> Any:
    """A used ``min-width`` or ``min-height``: ``auto`` is 0, as ``percent.resolve_one_percentage``."""
    used = _used(value, style, refer_to)
    return 0 if used == "auto" else used


def _set_box_lengths(box: Any, style: Any, across: Any, along: Any) -> None:
    """Set margins, paddings and widths, in the original's order (lookups compute lazily)."""
    box.margin_left = _used(style["margin_left"], style, across)
    box.margin_right = _used(style["margin_right"], style, across)
    box.margin_top = _used(style["margin_top"], style, along)
    box.margin_bottom = _used(style["margin_bottom"], style, along)
    box.padding_left = _used(style["padding_left"], style, across)
    box.padding_right = _used(style["padding_right"], style, across)
    box.padding_top = _used(style["padding_top"], style, along)
    box.padding_bottom = _used(style["padding_bottom"], style, along)
    box.width = _used(style["width"], style, across)
    box.min_width = _used_minimum(style["min_width"], style, across)
    box.max_width = _used(style["max_width"], style, across)


def _set_height_in_auto_block(box: Any, style: Any) -> None:
    """Set the used height and its bounds when the containing block's height is ``auto``."""
    height = style["height"]
    if type(height) is _Dimension:  # not 'auto', and check_math() is falsy for a Dimension
        if height.unit == "%":
            box.height = "auto"
        else:
            assert height.unit.lower() == "px"
            box.height = height.value
    elif height == "auto" or percent.check_math(height) or height.unit == "%":
        box.height = "auto"
    else:
        assert height.unit.lower() == "px"
        box.height = height.value
    box.min_height = _used_minimum(style["min_height"], style, 0)
    box.max_height = _used(style["max_height"], style, inf)


def _set_border_widths(box: Any, style: Any) -> None:
    """Copy the border widths, keeping those collapsed-border resolution already set."""
    collapse = style["border_collapse"] == "collapse"
    for name in _BORDER_WIDTHS:
        if not (collapse and hasattr(box, name)):
            setattr(box, name, style[name])


def _adjust_box_sizing(box: Any, sizing: Any) -> None:
    """``percent.adjust_box_sizing`` for both axes, reading ``box-sizing`` once."""
    if sizing == "content-box":  # delta 0: the original changes nothing
        return
    for axis, min_name, max_name in (
        ("width", "min_width", "max_width"),
        ("height", "min_height", "max_height"),
    ):
        if sizing == "border-box":
            if axis == "width":
                delta = box.padding_left + box.padding_right + box.border_left_width + box.border_right_width
            else:
                delta = box.padding_top + box.padding_bottom + box.border_top_width + box.border_bottom_width
        elif sizing == "padding-box":
            delta = (
                box.padding_left + box.padding_right
                if axis == "width"
                else box.padding_top + box.padding_bottom
            )
        else:
            assert sizing == "content-box"
            delta = 0
        if delta > 0:
            if getattr(box, axis) != "auto":
                setattr(box, axis, max(0, getattr(box, axis) - delta))
            setattr(box, max_name, max(0, getattr(box, max_name) - delta))
            if getattr(box, min_name) != "auto":
                setattr(box, min_name, max(0, getattr(box, min_name) - delta))


def resolve_percentages(box: Any, containing_block: Any) -> None:
    """Set used values as attributes of the box object (``percent.resolve_percentages``)."""
    if isinstance(containing_block, boxes.Box):
        cb_width = containing_block.width
        cb_height = containing_block.height
    else:
        cb_width, cb_height = containing_block
    maybe_height = cb_height if isinstance(box, boxes.PageBox) else cb_width
    style = box.style
    # The original's order of style lookups, which compute properties lazily.
    _set_box_lengths(box, style, cb_width, maybe_height)
    if cb_height == "auto":
        _set_height_in_auto_block(box, style)
    else:
        box.height = _used(style["height"], style, cb_height)
        box.min_height = _used_minimum(style["min_height"], style, cb_height)
        box.max_height = _used(style["max_height"], style, cb_height)
    _set_border_widths(box, style)
    _adjust_box_sizing(box, style["box_sizing"])


# ---------------------------------------------------------------------------------------------
# weasyprint.css.ComputedStyle.__missing__
# ---------------------------------------------------------------------------------------------

# Set by install(), on 70.0 only: WeasyPrint's own method, and the properties the fast path takes.
_stock_computed_missing: Callable[[Any, str], Any]
_fast_keys_found: frozenset[str] = frozenset()
# Physical property and direction -> logical property: PHYSICAL_FUNCTIONS' values are pure functions.
_logical_names: dict[tuple[str, Any], str] = {}


def _fast_keys() -> frozenset[str]:
    """Properties whose value, when not cascaded, is inherited or initial with no special case.

    Left to the original: custom properties, the properties it treats specially (float, display,
    position, page, text decorations), an inherited property that is also a physical one (none in
    70.0; its logical lookup comes before the inheritance), and an initial value holding math.
    """
    special = {"float", "display", "position", "page"}
    return frozenset(
        key
        for key, value in properties.INITIAL_VALUES.items()
        if key not in special
        and not key.startswith(("__", "text_decoration_"))
        and not (key in properties.INHERITED and key in computed_values.PHYSICAL_FUNCTIONS)
        and not css.check_math(value)
    )


def _logical_name(key: str, direction: Any) -> str:
    """The logical property matching physical ``key`` (block direction ``ttb``, as the original)."""
    found = _logical_names.get((key, direction))
    if found is None:
        found = computed_values.PHYSICAL_FUNCTIONS[key](block="ttb", inline=direction)
        _logical_names[(key, direction)] = found
    return found


def computed_missing(self: Any, key: str) -> Any:
    """Compute a property of a ComputedStyle on first use (``ComputedStyle.__missing__``)."""
    cascaded = self.cascaded
    if key not in _fast_keys_found or key in cascaded:
        return _stock_computed_missing(self, key)
    if key in computed_values.PHYSICAL_FUNCTIONS and _logical_name(key, self["direction"]) in cascaded:
        return _stock_computed_missing(self, key)
    parent = self.parent_style
    if parent is not None and key in properties.INHERITED:
        value = parent[key]
        if type(value) not in _PLAIN_TYPES and css.check_math(value):
            return _stock_computed_missing(self, key)  # re-validated there, maybe with a warning
        self[key] = value
        return value
    value = properties.INITIAL_VALUES[key]
    if key not in properties.INITIAL_NOT_COMPUTED:
        self[key] = value  # the value is the same as when computed
        return value
    if key in self:  # as the original: a computer function run meanwhile may have set it
        return self[key]
    if key in computed_values.COMPUTER_FUNCTIONS:
        value = computed_values.COMPUTER_FUNCTIONS[key](self, key, value)
    self[key] = value
    return value


# ---------------------------------------------------------------------------------------------
# Patching
# ---------------------------------------------------------------------------------------------


_METHODS: tuple[tuple[type, str, Callable[..., Any]], ...] = (
    (css.ComputedStyle, "__missing__", computed_missing),
)


def _function_replacements() -> dict[Callable[..., Any], Callable[..., Any]]:
    """WeasyPrint's module-level function -> its replacement (other modules import it by name)."""
    return {percent.resolve_percentages: resolve_percentages}


def _weasyprint_modules() -> Iterator[Any]:
    """Every loaded ``weasyprint`` module: any of them may hold a function imported by name."""
    for name, module in list(sys.modules.items()):
        if module is not None and (name == "weasyprint" or name.startswith("weasyprint.")):
            yield module


def _swap(mapping: dict[Callable[..., Any], Callable[..., Any]]) -> None:
    """Rebind, in every loaded WeasyPrint module, each name bound to a key of ``mapping``."""
    by_id = {id(old): (old, new) for old, new in mapping.items()}  # identity: a value may not hash
    for module in _weasyprint_modules():
        namespace = vars(module)
        for attr, value in list(namespace.items()):
            found = by_id.get(id(value))
            if found is not None and found[0] is value:
                namespace[attr] = found[1]


# Replacement -> WeasyPrint's own function, while installed.
_functions: dict[Callable[..., Any], Callable[..., Any]] = {}
_methods: dict[Callable[..., Any], Callable[..., Any]] = {}


def installed() -> bool:
    """Say whether the replacements are in place."""
    return bool(_functions)


def install() -> bool:
    """Patch the replacements in when WeasyPrint is 70.0 and say whether they are in; idempotent."""
    if weasyprint.__version__ != WEASYPRINT_VERSION:  # written for 70.0's source: run the stock code
        return False
    with _lock:
        if not _functions:
            global _stock_computed_missing, _fast_keys_found
            _stock_computed_missing = vars(css.ComputedStyle)["__missing__"]
            _fast_keys_found = _fast_keys()
            replacements = _function_replacements()
            _swap(replacements)
            _functions.update({new: old for old, new in replacements.items()})
            for owner, name, method in _METHODS:
                _methods[method] = vars(owner)[name]
                setattr(owner, name, method)
    return True


def uninstall() -> None:
    """Restore WeasyPrint's own functions everywhere the replacements were bound (tests compare)."""
    with _lock:
        if _functions:
            _swap(_functions)
            _functions.clear()
            for owner, name, method in _METHODS:
                setattr(owner, name, _methods.pop(method))
