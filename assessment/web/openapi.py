"""The OpenAPI 3.1 document of the JSON API; tests validate real responses against it."""

from __future__ import annotations

from typing import Any

from assessment.web.api_models import component_schemas

PROBLEM_JSON = "application/problem+json"
# The API's own shapes come from its models (api_models.py): the document cannot drift from the JSON.
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
            "/api/v1/assessments": {
                "post": {
                    "summary": "Assess a set of answers",
                    "requestBody": _JSON_BODY,
                    "responses": {
                        "200": {
                            "description": "Scores, fired rules and the visible path",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/Assessment"}}
                            },
                        },
                        **_UNPROCESSABLE,
                        **_error_responses(400, 413, 415),
                    },
                }
            },
            "/api/v1/report": {
                "post": {
                    "summary": "Make the PDF summary for a set of answers",
                    "requestBody": _JSON_BODY,
                    "responses": {
                        "200": {
                            "description": "The PDF summary",
                            "content": {
                                "application/pdf": {"schema": {"type": "string", "format": "binary"}}
                            },
                        },
                        **_UNPROCESSABLE,
                        **_error_responses(400, 413, 415, 503),
                    },
                }
            },
            "/api/v1/questionnaire-response": {
                "post": {
                    "summary": "The answers as a FHIR QuestionnaireResponse (visible path and scores)",
                    "requestBody": _JSON_BODY,
                    "responses": {
                        "200": {
                            "description": "A completed QuestionnaireResponse; authored is today's date",
                            "content": {
                                FHIR_JSON: {"schema": {"$ref": "#/components/schemas/QuestionnaireResponse"}}
                            },
                        },
                        **_UNPROCESSABLE,
                        **_error_responses(400, 413, 415),
                    },
                }
            },
            "/fhir/Questionnaire": {
                "get": {
                    "summary": "The questionnaire as a FHIR R4 Questionnaire",
                    "responses": {
                        "200": {
                            "description": "One group per section, then the calculated scores",
                            "content": {
                                FHIR_JSON: {"schema": {"$ref": "#/components/schemas/FhirQuestionnaire"}}
                            },
                        }
                    },
                }
            },
            "/api/v1/questionnaire": {
                "get": {
                    "summary": "The questionnaire definition",
                    "responses": {
                        "200": {
                            "description": "Sections, questions, options, scores and bands",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/Questionnaire"}}
                            },
                        }
                    },
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "summary": "This document",
                    "responses": {"200": {"description": "OpenAPI 3.1 document"}},
                }
            },
        },
        "components": {"schemas": SCHEMAS},
    }
