"""Requests whose uploaded files stay in memory: a saved answers file never touches the disk.

Werkzeug (3.1) streams each uploaded file into ``SpooledTemporaryFile(max_size=500 KB)``, which
rolls over to a real temporary file once the upload passes 500 KB (on Linux an unnamed O_TMPFILE,
so it never even shows in a directory listing). This request class gives every file part a BytesIO
instead. Memory stays bounded all the same: the whole body is capped by MAX_CONTENT_LENGTH (checked
against Content-Length before anything is read, and while reading a body sent without one), form
fields by MAX_FORM_MEMORY_SIZE and the number of parts by MAX_FORM_PARTS.
"""

from __future__ import annotations

from io import BytesIO
from typing import IO

from flask import Request


class InMemoryRequest(Request):
    """A Flask request that keeps uploaded files in memory, whatever their size."""

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        """Return an in-memory buffer for one uploaded file (never a temporary file)."""
        return BytesIO()
