"""Read a saved answers file back: an answers.json, or a summary PDF with answers.json embedded.

Everything works on bytes already in memory. The file's answers come back raw (question id to the
list of values), to be parsed by the same strict parser as the forms.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from pypdf import PdfReader
from pypdf import apply_configuration

ATTACHMENT = "answers.json"
# An embedded answers document is a few kilobytes; anything far bigger is not one of ours. (A JSON
# file uploaded directly is bounded by the upload limit instead.)
MAX_DOCUMENT_BYTES = 256 * 1024
# Decoding limits for a PDF from outside: far above what our summaries need (their largest stream
# is well under 1 MB decoded), far below pypdf's 75 MB defaults, so a compression bomb stops early.
_PDF_LIMIT = 4 * 1024 * 1024
PDF_LIMITS: dict[str, int] = {
    "maximum_declared_stream_length": _PDF_LIMIT,
    "array_based_stream_maximum_output_length": _PDF_LIMIT,
    "zlib_maximum_output_length": _PDF_LIMIT,
    "lzw_maximum_output_length": _PDF_LIMIT,
    "run_length_maximum_output_length": _PDF_LIMIT,
    "brotli_maximum_output_length": _PDF_LIMIT,
    "jbig2_maximum_output_length": _PDF_LIMIT,
    "stream_decoding_work_maximum_length": 4 * _PDF_LIMIT,
}

EMPTY = "The file you chose is empty. Choose the answers file or the summary PDF you saved from this tool."
NOT_READABLE = (
    "We could not read this file. Choose the answers file (.json) or the summary PDF "
    "that you saved from this tool."
)
BROKEN_PDF = (
    "This PDF could not be opened: it may be damaged or incomplete. "
    "Choose another copy, or the answers file (.json) if you saved one."
)
NO_ANSWERS_IN_PDF = (
    "This PDF does not contain saved answers. Only the summary PDF made by this tool can be used here."
)
WRONG_SHAPE = "This file does not contain answers from this tool in a form we can read."


class SavedFileError(Exception):
    """The file cannot be used; the message says why, in plain words."""


@dataclass(frozen=True, slots=True)
class SavedAnswers:
    """What a saved file holds: which questionnaire (and version) it was made with, and raw answers."""

    questionnaire_id: str
    version: str
    answers: dict[str, list[object]]


def read_saved_file(data: bytes) -> SavedAnswers:
    """Read an answers.json or a summary PDF; raise SavedFileError with a message for the person."""
    if not data.strip():
        raise SavedFileError(EMPTY)
    document = pdf_attachment(data) if is_pdf(data) else data
    if b"QuestionnaireResponse" in document:  # a FHIR file, see the end of this module
        return from_questionnaire_response(document)
    return parse_document(document)


def is_pdf(data: bytes) -> bool:
    """Say whether the bytes start like a PDF (the header may follow a little junk)."""
    return b"%PDF-" in data[:1024]


def pdf_attachment(data: bytes) -> bytes:
    """Return the answers.json embedded in a PDF; raise SavedFileError when it is missing or unreadable."""
    try:
        with apply_configuration(None, **PDF_LIMITS):
            reader = PdfReader(BytesIO(data))
            attachments = reader.attachments
            if ATTACHMENT not in attachments:
                raise SavedFileError(NO_ANSWERS_IN_PDF)
            found: list[bytes] = attachments[ATTACHMENT]
    except SavedFileError:
        raise
    except Exception as exc:  # pypdf raises many kinds of error on a damaged or hostile file
        raise SavedFileError(BROKEN_PDF) from exc
    if not found:
        raise SavedFileError(NO_ANSWERS_IN_PDF)
    if len(found[0]) > MAX_DOCUMENT_BYTES:
        raise SavedFileError(NOT_READABLE)
    return found[0]


def parse_document(data: bytes) -> SavedAnswers:
    """Parse an answers document: {"questionnaire": {"id", "version"}, "date", "answers": {...}}."""
    if not data.strip():
        raise SavedFileError(NOT_READABLE)
    try:
        document: Any = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise SavedFileError(NOT_READABLE) from exc
    if not isinstance(document, dict):
        raise SavedFileError(WRONG_SHAPE)
    meta, answers = document.get("questionnaire"), document.get("answers")
    if not isinstance(meta, dict) or not isinstance(answers, dict):
        raise SavedFileError(WRONG_SHAPE)
    qid, version = meta.get("id"), meta.get("version")
    if not isinstance(qid, str) or not isinstance(version, str):
        raise SavedFileError(WRONG_SHAPE)
    raw: dict[str, list[object]] = {}
    for key, value in answers.items():
        values = value if isinstance(value, list) else [value]
        # null means "not answered", as a field left blank.
        raw[key] = [v for v in values if v is not None]
    return SavedAnswers(qid, version, raw)


# -- A FHIR QuestionnaireResponse (issue 17) ------------------------------------------------------
# Read by assessment/fhir against the app's questionnaire; an answers.json that merely mentions
# the word in a written answer is not a QuestionnaireResponse and goes on to parse_document.
def from_questionnaire_response(data: bytes) -> SavedAnswers:
    """Read a QuestionnaireResponse to this questionnaire; fall back to answers.json for anything else."""
    from flask import current_app

    from assessment.fhir import FhirInputError
    from assessment.fhir import read_questionnaire_response

    try:
        document: Any = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise SavedFileError(NOT_READABLE) from exc
    if not isinstance(document, dict) or document.get("resourceType") != "QuestionnaireResponse":
        return parse_document(data)
    try:
        read = read_questionnaire_response(document, current_app.extensions["questionnaire"])
    except FhirInputError as exc:
        raise SavedFileError(str(exc)) from None
    return SavedAnswers(read.questionnaire_id, read.version, read.answers)
