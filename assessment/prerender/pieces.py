"""Pages rendered once by the templates with markers where a request's values go, cut into pieces.

A marker is unique per start-up (a random tag between NUL characters), so no questionnaire text can
contain one by chance; each cut checks that every marker came out once, where expected. A request
then only joins the constant pieces with its own values, already HTML.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from collections.abc import Collection
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from typing import AnyStr
from typing import Generic

from markupsafe import Markup


@dataclass(frozen=True, slots=True)
class Pieces(Generic[AnyStr]):
    """Constant Markup cut at holes: chunks[0], fill(holes[0]), chunks[1], ... chunks[-1]; as text,
    or as UTF-8 bytes for a page sent as it is (`encoded`)."""

    chunks: tuple[AnyStr, ...]
    holes: tuple[str, ...]

    def fill(self, values: Mapping[str, AnyStr]) -> AnyStr:
        """Join the pieces with each hole's value: HTML already (Markup or escaped), as text or bytes."""
        chunks, empty = self.chunks, self.chunks[0][:0]
        if len(self.holes) == 1:  # most pieces ("why" lines, cards, questions): no loop to set up
            return empty.join((chunks[0], values.get(self.holes[0], empty), chunks[1]))
        parts = [chunks[0]]
        for hole, chunk in zip(self.holes, chunks[1:], strict=True):
            parts.append(values.get(hole, empty))
            parts.append(chunk)
        return empty.join(parts)

    def encoded(self: Pieces[str]) -> Pieces[bytes]:
        """Return the pieces as UTF-8: a page with one non-ASCII letter is text of two bytes a letter
        (a dash is in every title), so encoding a joined page costs far more than joining bytes."""
        return Pieces(tuple(chunk.encode() for chunk in self.chunks), self.holes)


class Markers:
    """Unique markers for the holes; a questionnaire text can never contain one by chance."""

    def __init__(self) -> None:
        self._tag = secrets.token_hex(8)
        self._pattern = re.compile(f"\x00{self._tag}:([a-z0-9_]+)\x00")

    def __call__(self, hole: str) -> Markup:
        return Markup(f"\x00{self._tag}:{hole}\x00")

    def cut(self, html: str, expected: list[str] | None = None) -> Pieces[str]:
        """Cut rendered HTML at the markers, checking they came out as expected (once each, in
        order), or when `expected` is None, that nothing else looks like a marker."""
        parts = self._pattern.split(str(html))
        chunks, holes = tuple(parts[0::2]), tuple(parts[1::2])
        if (expected is not None and list(holes) != expected) or "\x00" in "".join(chunks):
            message = f"the template did not render the expected holes: {list(holes)} vs {expected}"
            raise ValueError(message)
        return Pieces(chunks, holes)


def compile_page(
    render: Callable[[dict[str, Any]], str], context: Mapping[str, Any], holes: Collection[str]
) -> Pieces[str]:
    """Render a page once with a marker for each hole, and cut it into constant pieces.

    `context` holds the values that are the same on every request; each name in `holes` is given
    a marker, filled in per request by `Pieces.fill` with text that is already HTML (Markup, or
    escaped). Raises ValueError when a hole never shows (its value would be lost).
    """
    mark = Markers()
    pieces = mark.cut(render({**context, **{hole: mark(hole) for hole in holes}}))
    missing = set(holes) - set(pieces.holes)
    if missing:
        message = f"the page did not render the holes {sorted(missing)}"
        raise ValueError(message)
    return pieces
