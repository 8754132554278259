"""Hostile files for "Continue from a saved file", built in memory (issue 15).

Each builder returns the bytes of one small file that once cost a worker seconds, a flood of log
lines, or a wrong message. ``corpus()`` maps a name to (bytes, the message the person must see).
Used by tests/web/test_hardening.py and by `make load`'s hostile mix.
"""

from __future__ import annotations

import functools
import json
import zlib
from io import BytesIO

from pypdf import PdfWriter

from assessment.domain import answers_file
from assessment.report import embedded_answers as saved_file

# What pypdf's flate recovery chews through byte by byte: just under the app's output limit, so the
# outer layer decodes and the inner one fails (about 3.5 s of Python per stream without the limit).
RECOVERY_PADDING = 4_000_000


def assemble(objects: dict[int, bytes], *, root: int = 1, trailer: bytes = b"", xref: bool = True) -> bytes:
    """Write a PDF from numbered object bodies, with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for number, body in sorted(objects.items()):
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    start = len(out)
    size = max(objects) + 1
    if xref:
        out += b"xref\n0 %d\n0000000000 65535 f \n" % size
        for number in range(1, size):
            out += b"%010d 00000 n \n" % offsets[number] if number in offsets else b"0000000000 65535 f \n"
    out += b"trailer\n<< /Size %d /Root %d 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (size, root, trailer, start)
    return bytes(out)


def stream(data: bytes, entries: bytes = b"") -> bytes:
    """Return a stream object's body holding raw (already encoded) data."""
    return b"<< /Length %d %s>>\nstream\n%s\nendstream" % (len(data), entries, data)


def with_embedded(files: list[tuple[bytes, bytes, bytes]]) -> bytes:
    """Return a PDF embedding (name, raw stream data, filter entries) files in its name tree."""
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles 3 0 R >> >>",
        2: b"<< /Type /Pages /Kids [] /Count 0 >>",
    }
    names = b""
    for index, (name, data, entries) in enumerate(files):
        spec, body = 10 + 2 * index, 11 + 2 * index
        names += b"(%s) %d 0 R " % (name, spec)
        objects[spec] = b"<< /Type /Filespec /F (%s) /EF << /F %d 0 R >> >>" % (name, body)
        objects[body] = stream(data, b"/Type /EmbeddedFile " + entries)
    objects[3] = b"<< /Names [%s] >>" % names
    return assemble(objects)


def answers_document(answers: dict[str, object] | None = None) -> bytes:
    """Return a small answers.json for the real questionnaire."""
    body = {
        "questionnaire": {"id": "gut-check", "version": "1.0.0"},
        "date": "2026-01-31",
        "answers": answers if answers is not None else {"age": 40, "sex": "female"},
    }
    return json.dumps(body).encode()


def recovery_bomb(padding: int = RECOVERY_PADDING) -> bytes:
    """answers.json as two FlateDecode layers: the outer gives megabytes of zeros, the inner fails.

    About 4.6 KB. Without a recovery limit, pypdf retries the inner layer one byte at a time.
    """
    data = zlib.compress(b"\0" * padding, 9)
    return with_embedded([(b"answers.json", data, b"/Filter [/FlateDecode /FlateDecode] ")])


def ten_streams() -> bytes:
    """Ten recovery bombs, all named answers.json (pypdf returns every entry of that name): ~44 KB."""
    data = zlib.compress(b"\0" * RECOVERY_PADDING, 9)
    return with_embedded([(b"answers.json", data, b"/Filter [/FlateDecode /FlateDecode] ")] * 10)


def nested_flate(layers: int = 3) -> bytes:
    """Flate inside flate inside flate: a few KB that would inflate to gigabytes."""
    data = b"\0" * (64 * 1024 * 1024)
    for _ in range(layers):
        data = zlib.compress(data, 9)
    filters = b"/Filter [" + b"/FlateDecode " * layers + b"] "
    return with_embedded([(b"answers.json", data, filters)])


def many_filters() -> bytes:
    """A stream with hundreds of filters in its chain."""
    data = answers_document()
    for _ in range(200):
        data = zlib.compress(data, 1)
    return with_embedded([(b"answers.json", data, b"/Filter [" + b"/FlateDecode " * 200 + b"] ")])


def huge_declared_length() -> bytes:
    """A stream that says it is 2 GB long."""
    data = answers_document()
    body = b"<< /Type /EmbeddedFile /Length 2000000000 >>\nstream\n%s\nendstream" % data
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles 3 0 R >> >>",
        3: b"<< /Names [(answers.json) 4 0 R] >>",
        2: b"<< /Type /Pages /Kids [] /Count 0 >>",
        4: b"<< /Type /Filespec /F (answers.json) /EF << /F 5 0 R >> >>",
        5: body,
    }
    return assemble(objects)


def noisy_name_tree(entries: int = 5_000) -> bytes:
    """An embedded-files name tree with thousands of broken entries (pypdf warns about each)."""
    names = b" ".join(b"(x%d.json) 5 0 R" % i for i in range(entries))
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles 3 0 R >> >>",
        2: b"<< /Type /Pages /Kids [] /Count 0 >>",
        3: b"<< /Names [%s] >>" % names,
        5: b"42",
    }
    return assemble(objects)


def xref_loop() -> bytes:
    """A cross-reference section whose /Prev points at itself; no usable catalog."""
    objects = {1: b"<< /Type /Catalog /Pages 1 0 R /Names << /EmbeddedFiles 1 0 R >> >>"}
    whole = assemble(objects, trailer=b"/Prev 0 ")
    start = int(whole.rsplit(b"startxref\n", 1)[1].split(b"\n", 1)[0])
    return whole.replace(b"/Prev 0 ", b"/Prev %d " % start)


def deep_nesting(depth: int = 50_000) -> bytes:
    """A catalog whose /Names value is an array nested tens of thousands deep."""
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R /Names " + b"[" * depth + b"]" * depth + b" >>",
        2: b"<< /Type /Pages /Kids [] /Count 0 >>",
    }
    return assemble(objects)


def pdf_with_answers(document: bytes | None = None) -> bytes:
    """A well-formed one-page PDF with an answers document embedded as answers.json, by pypdf."""
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_attachment("answers.json", document if document is not None else answers_document())
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def truncated() -> bytes:
    """A PDF with answers inside, cut short before its name tree, as by an interrupted download."""
    whole = pdf_with_answers()
    return whole[:200]


def junk_then_pdf() -> bytes:
    """A good PDF with junk before its header: not a PDF by its first bytes, so read as JSON."""
    return b"GIF89a" + b"\0" * 100 + pdf_with_answers()


def pdf_then_json() -> bytes:
    """A PDF with no attachment whose body carries an answers document as plain text (a polyglot)."""
    page = stream(answers_document())
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [] /Count 0 >>",
        3: page,
    }
    return assemble(objects)


def json_then_pdf() -> bytes:
    """An answers document followed by a whole PDF: neither valid JSON nor a PDF by its first bytes."""
    return answers_document() + b"\n" + pdf_with_answers()


@functools.cache
def corpus() -> dict[str, tuple[bytes, str]]:
    """Return every hostile file by name, with the message the person must see (built once)."""
    return {
        "recovery bomb": (recovery_bomb(), saved_file.BROKEN_PDF),
        "ten streams": (ten_streams(), saved_file.BROKEN_PDF),
        "nested flate": (nested_flate(), saved_file.BROKEN_PDF),
        "many filters": (many_filters(), saved_file.BROKEN_PDF),
        "huge declared length": (huge_declared_length(), saved_file.BROKEN_PDF),
        "noisy name tree": (noisy_name_tree(), saved_file.NO_ANSWERS_IN_PDF),
        "xref loop": (xref_loop(), saved_file.NO_ANSWERS_IN_PDF),
        "deep nesting": (deep_nesting(), saved_file.BROKEN_PDF),
        "truncated": (truncated(), saved_file.BROKEN_PDF),
        "junk before the header": (junk_then_pdf(), answers_file.NOT_READABLE),
        "pdf with json inside": (pdf_then_json(), saved_file.NO_ANSWERS_IN_PDF),
        "json then pdf": (json_then_pdf(), answers_file.NOT_READABLE),
    }
