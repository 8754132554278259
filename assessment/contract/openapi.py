"""The OpenAPI 3.1 document of the JSON API; tests validate real responses against it."""

from __future__ import annotations

from typing import Any

from assessment.contract.models import component_schemas

PROBLEM_JSON = "application/problem+json"
# The API's own shapes come from its models (contract/models.py): the document cannot drift from the JSON.
SCHEMAS: dict[str, Any] = component_schemas()


# FHIR (issue 17): the outline of the two resources, enough to route and check a body; the full
# definitions are FHIR R4's own (Questionnaire, QuestionnaireResponse), which the export follows.
FHIR_JSON = "application/fhir+json"
SCHEMAS["QuestionnaireResponseItem"] = {
    "type": "object",
    "required": ["linkId"],
    "properties": {
        "linkId": {
            "type": "string",
            "description": "A question id (sections are 'section.ID', scores 'score.ID').",
        },
        "text": {"type": "string"},
        "answer": {
            "type": "array",
            "items": {
                "type": "object",
                "description": "One value[x]: valueInteger, valueDecimal, valueQuantity, valueBoolean "
                "(yes/no questions), valueCoding (option value as code) or valueString.",
            },
        },
        "item": {"type": "array", "items": {"$ref": "#/components/schemas/QuestionnaireResponseItem"}},
    },
}
SCHEMAS["QuestionnaireResponse"] = {
    "type": "object",
    "description": "A FHIR R4 QuestionnaireResponse to GET /fhir/Questionnaire. `questionnaire` may be left "
    "out (renderers leave it to the application); when present it must name ours.",
    "required": ["resourceType"],
    "properties": {
        "resourceType": {"const": "QuestionnaireResponse"},
        "questionnaire": {"type": "string"},
        "status": {"type": "string"},
        "authored": {"type": "string"},
        "item": {"type": "array", "items": {"$ref": "#/components/schemas/QuestionnaireResponseItem"}},
    },
}
SCHEMAS["FhirQuestionnaire"] = {
    "type": "object",
    "description": "A FHIR R4 Questionnaire; SDC enableWhenExpression and calculatedExpression in FHIRPath.",
    "required": ["resourceType", "url", "version", "status", "item"],
    "properties": {
        "resourceType": {"const": "Questionnaire"},
        "url": {"type": "string"},
        "version": {"type": "string"},
        "status": {"type": "string"},
        "item": {"type": "array", "items": {"type": "object"}},
    },
}


def _error_responses(*codes: int) -> dict[str, Any]:
    reasons = {
        400: "Malformed JSON or a body that is not an object with 'answers'",
        413: "Body over the size limit",
        415: "Content-Type is not application/json or application/fhir+json",
        503: "Too many summaries being made now; retry after the Retry-After seconds",
    }
    return {
        str(code): {
            "description": reasons[code],
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for code in codes
    }


_JSON_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/AnswersRequest"}},
        FHIR_JSON: {"schema": {"$ref": "#/components/schemas/QuestionnaireResponse"}},
    },
}
_UNPROCESSABLE = {
    "422": {
        "description": "Some answers are not valid; messages per question id",
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ValidationErrors"}}},
    }
}


def openapi_document(version: str) -> dict[str, Any]:
    """Return the OpenAPI 3.1 document for this questionnaire version."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Gut Check API",
            "version": version,
            "description": "Score answers and make the doctor-visit summary. Educational; not a diagnosis. "
            "Nothing sent is stored.",
        },
        "paths": {
            "/api/v1/assessments": _assessments_route(),
            "/api/v1/report": _report_route(),
            "/api/v1/questionnaire-response": _questionnaire_response_route(),
            "/fhir/Questionnaire": _fhir_questionnaire_route(),
            "/api/v1/questionnaire": _questionnaire_route(),
            "/api/v1/openapi.json": _openapi_route(),
        },
        "components": {"schemas": SCHEMAS},
    }


def _ref(name: str) -> dict[str, str]:
    """A reference to one of the component schemas."""
    return {"$ref": f"#/components/schemas/{name}"}


def _ok(description: str, media_type: str, schema: dict[str, Any]) -> dict[str, Any]:
    """A 200 response with one media type."""
    return {"200": {"description": description, "content": {media_type: {"schema": schema}}}}


def _post_answers(summary: str, ok: dict[str, Any], *errors: int) -> dict[str, Any]:
    """A POST that takes answers (JSON or FHIR): its 200, then 422 for invalid answers, then errors."""
    return {
        "post": {
            "summary": summary,
            "requestBody": _JSON_BODY,
            "responses": {**ok, **_UNPROCESSABLE, **_error_responses(*errors)},
        }
    }


def _get(summary: str, responses: dict[str, Any]) -> dict[str, Any]:
    """A GET route."""
    return {"get": {"summary": summary, "responses": responses}}


def _assessments_route() -> dict[str, Any]:
    """POST /api/v1/assessments."""
    ok = _ok("Scores, fired rules and the visible path", "application/json", _ref("Assessment"))
    return _post_answers("Assess a set of answers", ok, 400, 413, 415)


def _report_route() -> dict[str, Any]:
    """POST /api/v1/report: 503 as well, since PDF renders are bounded."""
    ok = _ok("The PDF summary", "application/pdf", {"type": "string", "format": "binary"})
    return _post_answers("Make the PDF summary for a set of answers", ok, 400, 413, 415, 503)


def _questionnaire_response_route() -> dict[str, Any]:
    """POST /api/v1/questionnaire-response."""
    description = "A completed QuestionnaireResponse; authored is today's date"
    ok = _ok(description, FHIR_JSON, _ref("QuestionnaireResponse"))
    summary = "The answers as a FHIR QuestionnaireResponse (visible path and scores)"
    return _post_answers(summary, ok, 400, 413, 415)


def _fhir_questionnaire_route() -> dict[str, Any]:
    """GET /fhir/Questionnaire."""
    ok = _ok("One group per section, then the calculated scores", FHIR_JSON, _ref("FhirQuestionnaire"))
    return _get("The questionnaire as a FHIR R4 Questionnaire", ok)


def _questionnaire_route() -> dict[str, Any]:
    """GET /api/v1/questionnaire."""
    ok = _ok("Sections, questions, options, scores and bands", "application/json", _ref("Questionnaire"))
    return _get("The questionnaire definition", ok)


def _openapi_route() -> dict[str, Any]:
    """GET /api/v1/openapi.json."""
    return _get("This document", {"200": {"description": "OpenAPI 3.1 document"}})
