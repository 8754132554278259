"""Parse the summary's HTML with expat when it is well-formed XHTML: the tree tinyhtml5 would build.

WeasyPrint parses HTML with tinyhtml5, a spec-following HTML5 parser in pure Python: a few
milliseconds for one summary, the longer the summary the more. The summary template is written so
that it is also well-formed XML (``<!DOCTYPE html>``, void elements closed with ``/>``, every
element closed, Jinja escaping every value), and for such a document expat (C, in the standard
library) builds the same tree in a fraction of the time, once the two places where HTML5's tree
construction treats white space differently are applied:

- white space before ``<head>`` is dropped (HTML5's "before head" mode ignores it);
- white space after ``</body>`` goes to the end of the body ("after body" mode).

Anything that could make the two parsers disagree falls back to WeasyPrint's own parser: text that
is not well-formed XML (an unclosed ``<br>``, a bare ``&``, a control character), an attribute
value holding a tab or a line break (XML turns those into spaces), a namespace, a root other than
``<html>``, or text that is not white space outside the body. A test parses the summary of every
case file both ways and compares the trees node for node (tests/test_pdf_adapter.py).
"""

from __future__ import annotations

import re
from xml.etree import ElementTree

_HTML_SPACE = " \t\n\f\r"  # HTML's white space (Python's str.isspace() takes more)
# An attribute value with a character XML normalises to a space (HTML keeps it).
_NORMALISED_IN_ATTRIBUTE = re.compile(r"=\s*(\"[^\"]*[\t\n\r][^\"]*\"|'[^']*[\t\n\r][^']*')")


def parse_xhtml(text: str) -> ElementTree.Element | None:
    """Return the tree tinyhtml5 builds for `text`, or None when only an HTML parser can tell."""
    # Exactly this doctype, so no internal subset: the text can declare no entity to expand.
    if not text.lstrip().startswith("<!DOCTYPE html>") or _NORMALISED_IN_ATTRIBUTE.search(text):
        return None
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError:
        return None
    if not _html_shaped(root):
        return None
    body = root[1]
    root.text = None
    if body.tail:
        last = body[-1] if len(body) else None
        if last is None:
            body.text = (body.text or "") + body.tail
        else:
            last.tail = (last.tail or "") + body.tail
        body.tail = None
    return root


def _html_shaped(root: ElementTree.Element) -> bool:
    """Say whether the tree is <html> holding <head> then <body>, with only white space around them
    and no namespaced name (tinyhtml5 would name those differently)."""
    if root.tag != "html" or [child.tag for child in root] != ["head", "body"]:
        return False
    head, body = root
    outside = (root.text, head.tail, body.tail)
    if any(part and part.strip(_HTML_SPACE) for part in outside):
        return False
    names = (name for element in root.iter() for name in (element.tag, *element.attrib))
    return not any("{" in name for name in names)
