"""JSON API (a contract: see docs/design.md): no cookies, no CSRF, JSON in and out, never a 500.

Errors are RFC 9457 problem documents (errors.problem): ``application/problem+json`` with
``type``, ``title``, ``status``, ``detail``, plus ``error`` (a stable code) and ``message``. The
session interface gives /api/ requests a null session, so no cookie is ever read, set or refreshed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint
from flask import Response
from flask import jsonify
from flask import request
from flask import url_for
from werkzeug.wrappers import Response as BaseResponse

from assessment.contract.models import assessment_response
from assessment.contract.models import questionnaire_response
from assessment.contract.openapi import openapi_document
from assessment.domain import Assessment
from assessment.domain import Questionnaire
from assessment.domain import Urgency
from assessment.domain import assess
from assessment.domain import parse_answers
from assessment.domain import visible_path
from assessment.fhir import FHIR_JSON
from assessment.web.errors import problem
from assessment.web.levels import level_view
from assessment.web.state import state
from assessment.web.summary_download import RETRY_AFTER_SECONDS
from assessment.web.summary_download import SummaryBusy
from assessment.web.summary_download import pdf_response
from assessment.web.summary_download import summary_pdf

bp = Blueprint("api", __name__, url_prefix="/api/v1")


class ApiError(Exception):
    """An error answered as JSON with a status code."""

    def __init__(self, status: int, error: str, message: str, errors: Mapping[str, list[str]] | None = None):
        super().__init__(message)
        self.status, self.error, self.message, self.errors = status, error, message, errors


@bp.errorhandler(ApiError)
def api_error(exc: ApiError) -> BaseResponse:
    """Answer an API error as a problem document."""
    extra: dict[str, Any] = {"errors": exc.errors} if exc.errors is not None else {}
    return problem(exc.status, exc.message, error=exc.error, extra=extra)


def questionnaire() -> Questionnaire:
    """Return the app's checked questionnaire."""
    return state().questionnaire


def read_answers() -> Assessment:
    """Parse the request body with the same parser as the forms; raise ApiError on bad input."""
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "Send the answers as application/json.")
    try:
        body = fhir_body() if request.mimetype == FHIR_JSON else request.get_json(silent=True)
    except RecursionError:  # not a ValueError, so get_json(silent=True) lets it through
        raise ApiError(400, "malformed_json", "The body is nested too deeply.") from None
    if body is None:
        raise ApiError(400, "malformed_json", "The body is not valid JSON.")
    if not isinstance(body, dict) or not isinstance(body.get("answers"), dict):
        raise ApiError(400, "bad_request", 'Send an object like {"answers": {"question_id": value}}.')
    q = questionnaire()
    raw = {key: value if isinstance(value, list) else [value] for key, value in body["answers"].items()}
    parsed = parse_answers(q, raw)
    errors: dict[str, list[str]] = {qid: list(messages) for qid, messages in parsed.errors.items()}
    for qid in parsed.unknown:
        errors[qid] = ["There is no question with this id."]
    for question in visible_path(q, parsed.answers).missing_required(parsed.answers):
        if question.id not in errors:
            errors[question.id] = ["This question needs an answer."]
    if errors:
        raise ApiError(422, "invalid_answers", "Some answers are missing or not valid.", errors)
    return assess(q, parsed.answers)


def fhir_body() -> dict[str, Any]:
    """A QuestionnaireResponse (Content-Type application/fhir+json), read as {"answers": {...}}."""
    from assessment.web.fhir import fhir_request_body

    return fhir_request_body()


def assessment_json(assessment: Assessment) -> dict[str, Any]:
    """Describe an assessment as the contract's JSON (contract.models.AssessmentResponse)."""
    texts = {u: (level_view(u).time_frame_text, level_view(u).action_text) for u in Urgency}

    def guidance_url(slug: str) -> str:
        return url_for("guidance.page", slug=slug, _external=False)

    return assessment_response(assessment, texts, guidance_url).model_dump(mode="json")


def questionnaire_json(q: Questionnaire) -> dict[str, Any]:
    """Describe the questionnaire as the contract's JSON (contract.models.QuestionnaireResponseBody)."""
    return questionnaire_response(q).model_dump(mode="json")


@bp.post("/assessments")
def assessments() -> Response:
    """Score answers and list the rules that apply, with their urgency and why."""
    return jsonify(assessment_json(read_answers()))


@bp.post("/report")
def report() -> BaseResponse:
    """Return the PDF summary for the posted answers."""
    assessment = read_answers()
    try:
        return pdf_response(summary_pdf(assessment))
    except SummaryBusy:
        return problem(
            503,
            "Too many summaries are being made. Try again soon.",
            error="busy",
            headers=[("Retry-After", str(RETRY_AFTER_SECONDS))],
        )


@bp.get("/questionnaire")
def questionnaire_definition() -> Response:
    """Return the questionnaire definition."""
    return jsonify(questionnaire_json(questionnaire()))


@bp.get("/openapi.json")
def openapi() -> Response:
    """Return the OpenAPI 3.1 document."""
    return jsonify(openapi_document(questionnaire().meta.version))
