"""FHIR over HTTP: the Questionnaire, the person's answers as a QuestionnaireResponse, and reading one.

`GET /fhir/Questionnaire` is public (the questionnaire, nothing about a person). The person's own
answers come as a download from the session (`/answers.fhir.json`) or from the API
(`POST /api/v1/questionnaire-response`), which stores nothing, as the rest of the API.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import Blueprint
from flask import Flask
from flask import Response
from flask import request
from werkzeug.wrappers import Response as BaseResponse

from assessment.domain import Assessment
from assessment.domain import Questionnaire
from assessment.domain.answers_file import AnswerDates
from assessment.fhir import FHIR_JSON
from assessment.fhir import FhirInputError
from assessment.fhir import fhir_questionnaire
from assessment.fhir import questionnaire_response
from assessment.fhir import read_questionnaire_response
from assessment.report import Attachment
from assessment.web.save_and_continue import answers_download
from assessment.web.state import state

bp = Blueprint("fhir", __name__)
api_bp = Blueprint("fhir_api", __name__, url_prefix="/api/v1")

NOT_JSON = "The body is not valid JSON."


def _questionnaire() -> Questionnaire:
    return state().questionnaire


def fhir_response(resource: dict[str, Any], status: int = 200) -> Response:
    """Answer a FHIR resource as application/fhir+json."""
    body = json.dumps(resource, ensure_ascii=False, indent=2)
    return Response(body, status=status, mimetype=FHIR_JSON)


def questionnaire_document() -> dict[str, Any]:
    """Return this app's Questionnaire resource, built once per process (it never changes)."""
    return state().fhir_questionnaire.get(lambda: fhir_questionnaire(_questionnaire()))


def response_document(assessment: Assessment, authored: dt.date | None = None) -> bytes:
    """The answers as QuestionnaireResponse JSON bytes.

    `authored` is the day the answers were given (a restored file keeps its own); callers without
    one get today's date.
    """
    resource = questionnaire_response(assessment, authored or dt.date.today())
    return json.dumps(resource, ensure_ascii=False, indent=2).encode("utf-8")


def fhir_attachment(assessment: Assessment, authored: dt.date) -> Attachment:
    """The QuestionnaireResponse as a second PDF attachment, beside answers.json."""
    return Attachment(
        name="questionnaire-response.fhir.json",
        data=response_document(assessment, authored),
        description="The same answers as a FHIR R4 QuestionnaireResponse, for a health record system.",
        mime=FHIR_JSON,
    )


def fhir_request_body() -> dict[str, Any]:
    """Read a posted QuestionnaireResponse as the API's {"answers": {...}} body; raise ApiError."""
    from assessment.web.api import ApiError  # api imports this module for its content-type branch

    try:
        document = json.loads(request.get_data(cache=True).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ApiError(400, "malformed_json", NOT_JSON) from None
    try:
        read = read_questionnaire_response(document, _questionnaire())
    except FhirInputError as exc:
        raise ApiError(400, "bad_request", str(exc)) from None
    return {"answers": read.answers}


@bp.get("/fhir/Questionnaire")
def questionnaire() -> Response:
    """The questionnaire as a FHIR R4 Questionnaire."""
    return fhir_response(questionnaire_document())


@bp.get("/answers.fhir.json")
def download() -> BaseResponse:
    """Download the session's visible answers as a FHIR QuestionnaireResponse."""

    def document(assessment: Assessment, dates: AnswerDates, today: dt.date) -> bytes:
        return response_document(assessment, dates.answered_at)  # authored: the day they were answered

    return answers_download(document, FHIR_JSON, "fhir.json")


@api_bp.post("/questionnaire-response")
def api_questionnaire_response() -> BaseResponse:
    """Return posted answers (JSON or FHIR) as a QuestionnaireResponse of the visible path."""
    from assessment.web.api import ApiError
    from assessment.web.api import api_error
    from assessment.web.api import read_answers

    try:
        assessment = read_answers()
    except ApiError as exc:  # answered exactly as the rest of the API answers it
        return api_error(exc)
    response = fhir_response(questionnaire_response(assessment, dt.date.today()))
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Register the pages and the API route (no session, no CSRF, as the rest of the API)."""
    from assessment.web import csrf

    app.register_blueprint(bp)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)
