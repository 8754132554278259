"""Requests whose uploaded files stay in memory: a saved answers file never touches the disk.

Werkzeug (3.1) streams each uploaded file into ``SpooledTemporaryFile(max_size=500 KB)``, which
rolls over to a real temporary file once the upload passes 500 KB (on Linux an unnamed O_TMPFILE,
so it never even shows in a directory listing). This request class gives every file part a BytesIO
instead. Memory stays bounded all the same: the whole body is capped by MAX_CONTENT_LENGTH (checked
against Content-Length before anything is read, and while reading a body sent without one), form
fields by MAX_FORM_MEMORY_SIZE and the number of parts by MAX_FORM_PARTS.

Werkzeug applies those two form limits to multipart bodies only; a urlencoded body was bounded by
MAX_CONTENT_LENGTH (2 MB) alone and parsed whole, however many fields it had. Here a urlencoded
form is held to the same limits: at most MAX_FORM_MEMORY_SIZE bytes and MAX_FORM_PARTS fields,
anything more is a 413 before it is parsed. (Our largest page posts a few kilobytes.)
"""

from __future__ import annotations

from io import BytesIO
from typing import IO
from typing import Any

from flask import Request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser


class BoundedFormParser(FormDataParser):
    """Apply the form limits to urlencoded bodies too: total size and number of fields."""

    def _parse_urlencoded(
        self,
        stream: IO[bytes],
        mimetype: str,
        content_length: int | None,
        options: dict[str, str],
    ) -> Any:
        limit = self.max_form_memory_size
        if limit is not None:
            if content_length is not None and content_length > limit:
                raise RequestEntityTooLarge
            body = stream.read(limit + 1)
            if len(body) > limit:
                raise RequestEntityTooLarge
            stream = BytesIO(body)
        else:
            body = stream.read()
            stream = BytesIO(body)
        if self.max_form_parts is not None and body.count(b"&") + 1 > self.max_form_parts:
            raise RequestEntityTooLarge
        return super()._parse_urlencoded(stream, mimetype, len(body), options)


class InMemoryRequest(Request):
    """A Flask request that keeps uploaded files in memory, whatever their size."""

    form_data_parser_class = BoundedFormParser

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        """Return an in-memory buffer for one uploaded file (never a temporary file)."""
        return BytesIO()
