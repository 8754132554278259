"""The OpenAPI 3.1 document of the JSON API; tests validate real responses against it."""

from __future__ import annotations

from typing import Any

from assessment.domain import Urgency

URGENCIES = [u.value for u in Urgency]

_ANSWER_VALUE: dict[str, Any] = {
    "oneOf": [
        {"type": "string"},
        {"type": "number"},
        {"type": "array", "items": {"type": "string"}},
    ]
}

PROBLEM_JSON = "application/problem+json"
# RFC 9457 members; type is always about:blank, so title is the HTTP status phrase.
_PROBLEM: dict[str, Any] = {
    "type": {"type": "string"},
    "title": {"type": "string"},
    "status": {"type": "integer"},
    "detail": {"type": "string"},
}

SCHEMAS: dict[str, Any] = {
    "AnswersRequest": {
        "type": "object",
        "required": ["answers"],
        "properties": {
            "answers": {
                "type": "object",
                "description": "Question id to answer: a number, an option value, text, or a list.",
                "additionalProperties": _ANSWER_VALUE,
            }
        },
    },
    "Error": {
        "type": "object",
        "description": "An RFC 9457 problem document; error is a stable code, message repeats detail.",
        "required": ["type", "title", "status", "detail", "error", "message"],
        "properties": {**_PROBLEM, "error": {"type": "string"}, "message": {"type": "string"}},
    },
    "ValidationErrors": {
        "type": "object",
        "description": "An RFC 9457 problem document with the messages per question id.",
        "required": ["type", "title", "status", "detail", "error", "message", "errors"],
        "properties": {
            **_PROBLEM,
            "error": {"const": "invalid_answers"},
            "message": {"type": "string"},
            "errors": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            },
        },
    },
    "Why": {
        "type": "object",
        "required": ["label", "value"],
        "properties": {"label": {"type": "string"}, "value": {"type": "string"}},
    },
    "Alarms": {
        "type": "object",
        "description": "Answers that questions.yaml declares alarm features, and alarm questions left blank.",
        "required": ["features", "unanswered", "none_reported"],
        "additionalProperties": False,
        "properties": {
            "features": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["question", "label", "answer", "urgency"],
                    "additionalProperties": False,
                    "properties": {
                        "question": {"type": "string"},
                        "label": {"type": "string"},
                        "answer": {"type": "string"},
                        "urgency": {"enum": URGENCIES},
                    },
                },
            },
            "unanswered": {"type": "array", "items": {"type": "string"}},
            "none_reported": {
                "type": "boolean",
                "description": "True only when every alarm question on the path was answered, none an alarm.",
            },
        },
    },
    "Score": {
        "type": "object",
        "required": ["id", "label", "value", "band", "unvalidated"],
        "properties": {
            "id": {"type": "string"},
            "label": {"type": "string"},
            "value": {"type": "number"},
            "band": {"type": "string"},
            "unvalidated": {"type": "boolean"},
        },
    },
    "FiredRule": {
        "type": "object",
        "required": ["id", "urgency", "time_frame", "guidance", "guidance_url", "message", "why"],
        "properties": {
            "id": {"type": "string"},
            "urgency": {"enum": URGENCIES},
            "time_frame": {"type": "string", "description": "The level's time-frame sentence."},
            "guidance": {"type": "string"},
            "guidance_url": {"type": "string"},
            "message": {"type": "string"},
            "why": {"type": "array", "items": {"$ref": "#/components/schemas/Why"}},
        },
    },
    "Assessment": {
        "type": "object",
        "required": [
            "questionnaire",
            "urgency",
            "time_frame",
            "action",
            "safety_net",
            "alarms",
            "scores",
            "rules",
            "path",
        ],
        "properties": {
            "questionnaire": {
                "type": "object",
                "required": ["id", "version"],
                "properties": {"id": {"type": "string"}, "version": {"type": "string"}},
            },
            "urgency": {
                "enum": URGENCIES,
                "description": "The highest level among the fired rules (info when none fired).",
            },
            "time_frame": {"type": "string", "description": "The overall level's time-frame sentence."},
            "action": {"type": "string", "description": "What to do, with the configured numbers."},
            "safety_net": {"type": "string", "description": "When to get help sooner, whatever the level."},
            "alarms": {"$ref": "#/components/schemas/Alarms"},
            "scores": {"type": "array", "items": {"$ref": "#/components/schemas/Score"}},
            "rules": {"type": "array", "items": {"$ref": "#/components/schemas/FiredRule"}},
            "path": {"type": "array", "items": {"type": "string"}},
        },
    },
    "Questionnaire": {
        "type": "object",
        "required": ["meta", "sections", "scores"],
        "properties": {
            "meta": {"type": "object"},
            "sections": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "title", "questions"],
                    "properties": {
                        "id": {"type": "string"},
                        "title": {"type": "string"},
                        "questions": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["id", "type", "label", "required"],
                                "properties": {
                                    "id": {"type": "string"},
                                    "type": {
                                        "enum": [
                                            "scale",
                                            "integer",
                                            "number",
                                            "single",
                                            "multi",
                                            "yes_no",
                                            "text",
                                        ]
                                    },
                                    "label": {"type": "string"},
                                    "short_label": {
                                        "type": ["string", "null"],
                                        "description": "The name the clinician summary gives it.",
                                    },
                                    "required": {"type": "boolean"},
                                    "options": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "required": ["value", "label"],
                                            "properties": {
                                                "value": {"type": "string"},
                                                "label": {"type": "string"},
                                            },
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
            "scores": {"type": "array", "items": {"type": "object"}},
        },
    },
}


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
