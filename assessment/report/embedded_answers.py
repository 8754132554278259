"""Read a saved answers file back: an answers.json, or a summary PDF with answers.json embedded.

Everything works on bytes already in memory. The file's answers come back raw (question id to the
list of values), to be parsed by the same strict parser as the forms.

A PDF from outside is read with a budget, so that no file can hold a worker (SECURITY 4, #14):

- The type is decided by the first bytes only: ``%PDF-`` at offset 0 is a PDF, anything else is
  read as JSON (so an answers file whose free text mentions ``%PDF-`` is still an answers file).
- pypdf's limits are all set explicitly (``PDF_LIMITS``), far below its defaults. The one that
  mattered most: when a FlateDecode stream fails, pypdf retries it byte by byte in Python, up to
  ``zlib_maximum_recovery_input_length`` (5 MB by default, about 3.5 s per stream here); our own
  PDFs never need that recovery, so it gets a few kilobytes.
- Only the first embedded file named answers.json is decoded, and only among the first few.
- The parse runs in a forked child process with a wall-clock budget (``PARSE_BUDGET_S``), a CPU
  limit and a memory limit; a child that runs past the budget is killed. A crash, a hang or an
  exhausted limit in pypdf costs the child, never the worker.
- pypdf's log records are counted, not written: one upload gives at most one log line.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import resource
import select
import signal
import struct
import time
import warnings
from collections.abc import Callable
from collections.abc import Iterator
from io import BytesIO
from itertools import islice
from typing import Any
from typing import NoReturn

from pypdf import PdfReader
from pypdf import apply_configuration

from assessment.domain import Questionnaire
from assessment.domain.answers_file import NOT_READABLE
from assessment.domain.answers_file import SavedAnswers
from assessment.domain.answers_file import SavedFileError
from assessment.domain.answers_file import parse_document

ATTACHMENT = "answers.json"
# An embedded answers document is a few kilobytes; anything far bigger is not one of ours. (A JSON
# file uploaded directly is bounded by the upload limit instead.)
MAX_DOCUMENT_BYTES = 256 * 1024
# Our summaries carry one embedded file; look at a few at most.
MAX_EMBEDDED_FILES = 8
# Decoding limits for a PDF from outside: far above what our summaries need (their largest stream
# is well under 1 MB decoded), far below pypdf's defaults, so a compression bomb stops early.
_PDF_LIMIT = 4 * 1024 * 1024
PDF_LIMITS: dict[str, int] = {
    "maximum_declared_stream_length": _PDF_LIMIT,
    "array_based_stream_maximum_output_length": _PDF_LIMIT,
    "zlib_maximum_output_length": _PDF_LIMIT,
    # pypdf's byte-by-byte retry of a broken FlateDecode stream (5 MB by default: seconds of pure
    # Python per stream). A summary we wrote never needs it; a few KB forgive a damaged tail.
    "zlib_maximum_recovery_input_length": 4 * 1024,
    "lzw_maximum_output_length": _PDF_LIMIT,
    "run_length_maximum_output_length": _PDF_LIMIT,
    "brotli_maximum_output_length": _PDF_LIMIT,
    "jbig2_maximum_output_length": _PDF_LIMIT,
    "image_maximum_buffer_size": _PDF_LIMIT,
    "flate_maximum_row_length": 64 * 1024,
    "flate_maximum_columns": 16 * 1024,
    "stream_filters_maximum_length": 4,
    "stream_decoding_work_maximum_length": 4 * _PDF_LIMIT,
    "stream_parsing_work_maximum_count": 200_000,
    "array_maximum_element_count": 10_000,
    "dictionary_maximum_element_count": 10_000,
    "xmp_maximum_input_length": 256 * 1024,
    "xmp_maximum_element_count": 10_000,
    "outline_maximum_entries": 1_000,
    "outline_maximum_depth": 16,
    "page_tree_maximum_entries": 1_000,
    "page_tree_maximum_depth": 16,
    "page_tree_maximum_page_entries": 10_000,
    "form_fields_maximum_entries": 1_000,
    "form_fields_maximum_depth": 16,
    "named_destinations_maximum_entries": 1_000,
    "named_destinations_maximum_depth": 16,
    "xfa_decoding_work_maximum_length": _PDF_LIMIT,
    "xform_maximum_invocations_per_extraction": 100,
}
# The whole PDF parse, wall clock. Our summaries take about 20 ms.
PARSE_BUDGET_S = 2.0
# CPU seconds and extra address space the parsing child may use before the kernel stops it.
_CHILD_CPU_S = 3
_CHILD_EXTRA_MEMORY = 512 * 1024 * 1024

EMPTY = "The file you chose is empty. Choose the answers file or the summary PDF you saved from this tool."
BROKEN_PDF = (
    "This PDF could not be opened: it may be damaged or incomplete. "
    "Choose another copy, or the answers file (.json) if you saved one."
)
TOO_SLOW = (
    "This PDF took too long to read, so we stopped: it may be damaged. "
    "Choose another copy, or the answers file (.json) if you saved one."
)
NO_ANSWERS_IN_PDF = (
    "This PDF does not contain saved answers. Only the summary PDF made by this tool can be used here."
)

logger = logging.getLogger(__name__)


def read_saved_file(
    data: bytes, *, budget_s: float | None = None, questionnaire: Questionnaire | None = None
) -> SavedAnswers:
    """Read an answers.json, a FHIR QuestionnaireResponse (given the questionnaire to read it
    against) or a summary PDF; raise SavedFileError with a message for the person."""
    if not data.strip():
        raise SavedFileError(EMPTY)
    document = pdf_attachment(data, budget_s=budget_s) if is_pdf(data) else data
    if questionnaire is not None and b"QuestionnaireResponse" in document:  # see the end of the module
        return from_questionnaire_response(document, questionnaire)
    return parse_document(document)


def is_pdf(data: bytes) -> bool:
    """Say whether the bytes are a PDF: ``%PDF-`` at offset 0, nothing before it."""
    return data.startswith(b"%PDF-")


# Outcome codes from the parsing child: the attachment, or which message to show.
_FOUND, _NO_ANSWERS, _BROKEN, _TOO_BIG = b"A", b"N", b"B", b"L"
_MESSAGES = {_NO_ANSWERS: NO_ANSWERS_IN_PDF, _BROKEN: BROKEN_PDF, _TOO_BIG: NOT_READABLE}
_HEADER = struct.Struct("!cI")  # outcome code, count of pypdf log records and warnings


def pdf_attachment(data: bytes, *, budget_s: float | None = None) -> bytes:
    """Return the answers.json embedded in a PDF; raise SavedFileError when it is missing or unreadable.

    The PDF is parsed in a child process that is killed after ``budget_s`` seconds of wall clock.
    """
    budget = PARSE_BUDGET_S if budget_s is None else budget_s
    started = time.monotonic()
    code, complaints, payload = _in_child(read_attachment, data, budget)
    if complaints or code not in (_FOUND,):
        outcome = {_FOUND: "read", None: "stopped after the time budget"}.get(code, "refused")
        # One line per upload, whatever pypdf had to say (its messages are not logged).
        logger.warning(
            "uploaded PDF %s after %.0f ms; the PDF reader reported %d problem(s)",
            outcome,
            (time.monotonic() - started) * 1000,
            complaints,
        )
    if code is None:
        raise SavedFileError(TOO_SLOW)
    if code != _FOUND:
        raise SavedFileError(_MESSAGES.get(code, BROKEN_PDF))
    return payload


def read_attachment(data: bytes) -> tuple[bytes, int, bytes]:
    """Parse the PDF in this process with pypdf's limits and logging quieted.

    Returns (outcome code, number of pypdf complaints, answers.json bytes when found). Any failure
    inside pypdf is the outcome "broken", never an exception.
    """
    with _quiet_pypdf() as complaints:
        code, payload = _BROKEN, b""
        try:
            # jbig2dec_binary=None: never run an external program on a file from outside.
            with apply_configuration(None, jbig2dec_binary=None, **PDF_LIMITS):
                reader = PdfReader(BytesIO(data))
                found = next(
                    (
                        entry
                        for entry in islice(reader.attachment_list, MAX_EMBEDDED_FILES)
                        if entry.name == ATTACHMENT
                    ),
                    None,
                )
                if found is None:
                    code = _NO_ANSWERS
                else:
                    payload = found.content
                    code = _TOO_BIG if len(payload) > MAX_DOCUMENT_BYTES else _FOUND
        except RecursionError:
            code = _BROKEN
        except Exception:  # pypdf raises many kinds of error on a damaged or hostile file
            code = _BROKEN
    return code, complaints[0], payload if code == _FOUND else b""


@contextlib.contextmanager
def _quiet_pypdf() -> Iterator[list[int]]:
    """Count pypdf's log records and warnings instead of writing them; yield [count]."""
    count = [0]

    class _Counter(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            count[0] += 1

    pypdf_logger = logging.getLogger("pypdf")
    handler = _Counter(logging.DEBUG)
    saved = (pypdf_logger.propagate, pypdf_logger.level, pypdf_logger.disabled)
    pypdf_logger.addHandler(handler)
    pypdf_logger.propagate = False
    pypdf_logger.disabled = False
    pypdf_logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield count
            count[0] += len(caught)
    finally:
        pypdf_logger.removeHandler(handler)
        pypdf_logger.propagate, pypdf_logger.level, pypdf_logger.disabled = saved


Parse = Callable[[bytes], tuple[bytes, int, bytes]]


def _in_child(parse: Parse, data: bytes, budget_s: float) -> tuple[bytes | None, int, bytes]:
    """Run ``parse(data)`` in a forked child; return its outcome, or code None past the budget."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        _child(parse, data, read_end, write_end)
    os.close(write_end)
    chunks: list[bytes] = []
    finished = False
    try:
        finished = _read_until(read_end, time.monotonic() + budget_s, chunks)
    finally:
        os.close(read_end)
        if not finished:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    if not finished:
        return None, 0, b""
    raw = b"".join(chunks)
    if len(raw) < _HEADER.size:  # the child died (a crash or a limit) before it could answer
        return _BROKEN, 0, b""
    code, complaints = _HEADER.unpack_from(raw)
    return code, complaints, raw[_HEADER.size :]


def _child(parse: Parse, data: bytes, read_end: int, write_end: int) -> NoReturn:
    """The child: parse, write the outcome, exit without running any cleanup."""
    status = 1
    try:
        os.close(read_end)
        _limit_child(write_end)
        code, complaints, payload = parse(data)
        _write_all(write_end, _HEADER.pack(code, min(complaints, 2**32 - 1)) + payload)
        status = 0
    finally:
        os._exit(status)


def _read_until(read_end: int, deadline: float, chunks: list[bytes]) -> bool:
    """Read the pipe into chunks; True at its end, False when the deadline comes first."""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        ready, _, _ = select.select([read_end], [], [], left)
        if not ready:
            return False
        chunk = os.read(read_end, 65536)
        if not chunk:
            return True
        chunks.append(chunk)


def _limit_child(keep_fd: int) -> None:
    """In the parsing child: close inherited descriptors, cap CPU time and memory, default signals."""
    # Sockets of other requests (gthread workers) must not stay open because the child holds them.
    os.closerange(3, keep_fd)
    with contextlib.suppress(OSError):
        os.closerange(keep_fd + 1, max(keep_fd + 1, os.sysconf("SC_OPEN_MAX")))
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGUSR1):
        with contextlib.suppress(OSError, ValueError):
            signal.signal(signum, signal.SIG_DFL)
    with contextlib.suppress(OSError, ValueError):
        resource.setrlimit(resource.RLIMIT_CPU, (_CHILD_CPU_S, _CHILD_CPU_S))
    with contextlib.suppress(OSError, ValueError, IndexError):
        with open("/proc/self/statm", "rb") as statm:
            size = int(statm.read().split()[0]) * resource.getpagesize()
        limit = size + _CHILD_EXTRA_MEMORY
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _write_all(fd: int, data: bytes) -> None:
    """Write every byte to a pipe."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


# -- A FHIR QuestionnaireResponse (issue 17) ------------------------------------------------------
# Read by assessment/fhir against the questionnaire; an answers.json that merely mentions the word
# in a written answer is not a QuestionnaireResponse and goes on to parse_document.
def from_questionnaire_response(data: bytes, questionnaire: Questionnaire) -> SavedAnswers:
    """Read a QuestionnaireResponse to this questionnaire; fall back to answers.json for anything else."""
    from assessment.fhir import FhirInputError
    from assessment.fhir import read_questionnaire_response

    try:
        document: Any = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise SavedFileError(NOT_READABLE) from exc
    if not isinstance(document, dict) or document.get("resourceType") != "QuestionnaireResponse":
        return parse_document(data)
    try:
        read = read_questionnaire_response(document, questionnaire)
    except FhirInputError as exc:
        raise SavedFileError(str(exc)) from None
    return SavedAnswers(read.questionnaire_id, read.version, read.answers)
