"""The JSON API: same results as assess(), clear 4xx errors, and responses that match the OpenAPI document."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from flask.testing import FlaskClient
from pypdf import PdfReader

from assessment.domain import Urgency
from assessment.domain import assess
from assessment.domain import parse_answers
from assessment.web.state import state
from tests.casefiles import load_case

CASES = Path(__file__).parent.parent / "cases"
PERSONAS = sorted(CASES.glob("p*_*.yaml"))
ALL_CASES = sorted(CASES.glob("*.yaml"))


def case(path: Path) -> dict[str, Any]:
    """Read one case file."""
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


@pytest.fixture
def openapi(client: FlaskClient) -> dict[str, Any]:
    """The API's own OpenAPI document, as served."""
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.get_json()
    return document


def validate(document: dict[str, Any], path: str, method: str, status: int, body: Any) -> None:
    """Validate a real response body against the schema the document declares for it."""
    media = document["paths"][path][method]["responses"][str(status)]["content"]
    content = media["application/json"] if status < 400 else media["application/problem+json"]
    schema = {**content["schema"], "components": document["components"]}
    jsonschema.Draft202012Validator(schema).validate(body)


@pytest.mark.parametrize("path", PERSONAS, ids=[p.stem for p in PERSONAS])
def test_personas_through_the_api_match_assess(
    client: FlaskClient, openapi: dict[str, Any], path: Path
) -> None:
    """P1-P3 posted as JSON give the same scores, rules and urgency as the domain's assess()."""
    data = case(path)
    response = client.post("/api/v1/assessments", json={"answers": data["answers"]})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    validate(openapi, "/api/v1/assessments", "post", 200, body)
    app_q = state(client.application).questionnaire
    raw = {k: v if isinstance(v, list) else [v] for k, v in data["answers"].items()}
    expected = assess(app_q, parse_answers(app_q, raw).answers)
    assert body["urgency"] == expected.urgency.value == data["urgency"]
    assert [r["id"] for r in body["rules"]] == [r.id for r in expected.rules]
    scores = {s["id"]: s for s in body["scores"]}
    for score_id, shown in data["scores"].items():
        assert f"{scores[score_id]['value']:.{1 if '.' in shown else 0}f}" == shown
    assert body["rules"][0]["guidance_url"].startswith("/guidance/")
    assert body["path"] == list(expected.path.question_ids)


def test_invalid_and_unknown_answers_give_422_per_question(
    client: FlaskClient, openapi: dict[str, Any]
) -> None:
    """Bad values and unknown ids are reported per question id, not ignored."""
    response = client.post("/api/v1/assessments", json={"answers": {"age": "1_0", "sex": "zzz", "admin": 1}})
    assert response.status_code == 422
    body = response.get_json()
    validate(openapi, "/api/v1/assessments", "post", 422, body)
    assert set(body["errors"]) >= {"age", "sex", "admin"}
    assert body["errors"]["admin"] == ["There is no question with this id."]
    assert "pain" in body["errors"]  # a required question left out is reported too


@pytest.mark.parametrize(
    ("kwargs", "status", "error"),
    [
        (
            {"data": "answers=1", "content_type": "application/x-www-form-urlencoded"},
            415,
            "unsupported_media_type",
        ),
        ({"data": "{not json", "content_type": "application/json"}, 400, "malformed_json"),
        ({"json": ["a"]}, 400, "bad_request"),
        ({"json": {"answers": "x"}}, 400, "bad_request"),
        (
            {"data": json.dumps({"answers": {"notes": "x" * 3_000_000}}), "content_type": "application/json"},
            413,
            None,
        ),
    ],
)
def test_bad_requests_get_json_errors(
    client: FlaskClient, openapi: dict[str, Any], kwargs: dict[str, Any], status: int, error: str | None
) -> None:
    """Wrong content type 415, malformed JSON 400, oversize 413: each a JSON body, never a 500."""
    response = client.post("/api/v1/assessments", **kwargs)
    assert response.status_code == status
    body = response.get_json()
    assert body is not None and body["message"] is not None
    if error:
        assert body["error"] == error
        validate(openapi, "/api/v1/assessments", "post", status, body)


def test_unknown_api_path_is_a_json_404(client: FlaskClient) -> None:
    """Under /api/ even a 404 is JSON."""
    response = client.get("/api/v1/nothing")
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"


def test_api_needs_no_csrf_and_sets_no_cookie(client: FlaskClient) -> None:
    """The API is stateless: no CSRF token is asked for and no session cookie is set."""
    data = case(CASES / "p1_emma.yaml")
    response = client.post("/api/v1/assessments", json={"answers": data["answers"]})
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_questionnaire_definition(client: FlaskClient, openapi: dict[str, Any]) -> None:
    """The definition lists every section, question, option, score and band."""
    body = client.get("/api/v1/questionnaire").get_json()
    validate(openapi, "/api/v1/questionnaire", "get", 200, body)
    q = state(client.application).questionnaire
    assert [s["id"] for s in body["sections"]] == [s.id for s in q.sections]
    assert sum(len(s["questions"]) for s in body["sections"]) == len(q.questions)
    gsbi = next(s for s in body["scores"] if s["id"] == "gsbi")
    assert [b["label"] for b in gsbi["bands"]] == ["minimal", "mild", "moderate", "severe"]
    questions = {x["id"]: x for s in body["sections"] for x in s["questions"]}
    assert questions["glutamine_dose_g"]["short_label"] == q.questions["glutamine_dose_g"].short_label != ""
    assert questions["summary_name"]["short_label"] is None


def test_report_returns_the_pdf_with_the_answers_inside(client: FlaskClient) -> None:
    """POST /api/v1/report gives a PDF whose answers.json equals the posted answers."""
    data = case(CASES / "p2_raj.yaml")
    response = client.post("/api/v1/report", json={"answers": data["answers"]})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    embedded = json.loads(reader.attachments["answers.json"][0])
    visible = {k: v for k, v in data["answers"].items() if k in embedded["answers"]}
    assert embedded["answers"] == visible
    assert "Gut symptom and supplement summary" in reader.pages[0].extract_text()


def test_the_readme_example_request_works(client: FlaskClient) -> None:
    """docs/example-answers.json, used by the README's curl example, is accepted and scores P1."""
    body = json.loads((Path(__file__).parent.parent.parent / "docs" / "example-answers.json").read_text())
    response = client.post("/api/v1/assessments", json=body)
    assert response.status_code == 200
    assert {s["id"]: s["value"] for s in response.get_json()["scores"]}["gsbi"] == 53


@pytest.mark.parametrize("path", ALL_CASES, ids=[p.stem for p in ALL_CASES])
def test_every_case_through_the_api_gives_its_levels_and_rules(client: FlaskClient, path: Path) -> None:
    """Each worked case (one per rule and boundary) posted as JSON: its overall level, the rules that
    must and must not fire, each rule's level and the level's time frame."""
    data = load_case(path)
    response = client.post("/api/v1/assessments", json={"answers": data["answers"]})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["urgency"] == data["urgency"]
    levels = state(client.application).questionnaire.levels
    assert body["time_frame"] == levels[Urgency(data["urgency"])].time_frame
    fired = {r["id"]: r for r in body["rules"]}
    assert set(data.get("fires", [])) <= set(fired), f"missing: {set(data.get('fires', [])) - set(fired)}"
    assert not set(data.get("not_fires", [])) & set(fired)
    for rule_id, urgency in data.get("urgencies", {}).items():
        assert fired[rule_id]["urgency"] == urgency, rule_id
        assert fired[rule_id]["time_frame"] == levels[Urgency(urgency)].time_frame


def test_the_document_comes_from_the_models_and_closes_every_response_shape(
    client: FlaskClient, openapi: dict[str, Any]
) -> None:
    """A member the code adds without declaring it fails validation: the schemas catch drift."""
    from assessment.contract import models as api_models

    schemas = openapi["components"]["schemas"]
    assert schemas == {**schemas, **api_models.component_schemas()}
    closed = [name for name, schema in api_models.component_schemas().items() if "properties" in schema]
    for name in closed:
        if name not in ("AnswersRequest", "Error", "ValidationErrors"):
            assert schemas[name].get("additionalProperties") is False, name
    body = client.post("/api/v1/assessments", json={"answers": case(PERSONAS[0])["answers"]}).get_json()
    validate(openapi, "/api/v1/assessments", "post", 200, body)
    for drifted in ({**body, "undeclared": 1}, {**body, "rules": [{**body["rules"][0], "extra": "x"}]}):
        with pytest.raises(jsonschema.ValidationError):
            validate(openapi, "/api/v1/assessments", "post", 200, drifted)
