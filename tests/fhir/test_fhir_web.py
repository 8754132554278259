"""FHIR at the edges: the Questionnaire (route and command), the answers as a QuestionnaireResponse
(download, API, PDF attachment), and a QuestionnaireResponse accepted by the API and the upload."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from fhir.resources.R4B.questionnaire import Questionnaire as FhirQuestionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse as FhirResponse
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader

from assessment.domain import Answers
from assessment.domain import Questionnaire
from assessment.domain import assess
from assessment.domain import parse_answers
from assessment.domain import visible_path
from assessment.fhir import canonical_url
from assessment.fhir import code_system
from assessment.fhir import read_questionnaire_response
from assessment.web.state import state
from tests.casefiles import CASES_DIR
from tests.casefiles import load_case
from tests.casefiles import raw_of
from tests.conftest import DATA
from tests.conftest import MINI_GUIDANCE
from tests.conftest import ROOT
from tests.web.conftest import make_app
from tests.web.conftest import text
from tests.web.test_portable import notices
from tests.web.test_portable import store
from tests.web.test_portable import stored
from tests.web.test_portable import upload

FHIR = "application/fhir+json"
PERSONAS = ["p1_emma", "p2_raj", "p3_linda"]
FLASK = str(Path(sys.executable).parent / "flask")


@pytest.fixture(scope="module")
def real_app() -> Flask:
    """The app on the shipped questionnaire, made once for this module."""
    return make_app(
        QUESTIONS_PATH=str(ROOT / "questions.yaml"), GUIDANCE_DIR=str(ROOT / "templates" / "guidance")
    )


@pytest.fixture
def client(real_app: Flask) -> FlaskClient:
    """A fresh client (own cookies) on the shipped questionnaire."""
    return real_app.test_client()


@pytest.fixture(scope="module")
def real(real_app: Flask) -> Questionnaire:
    """The shipped questionnaire, as the app checked it."""
    found: Questionnaire = state(real_app).questionnaire
    return found


def persona(name: str) -> dict[str, Any]:
    """A persona's answers from its case file."""
    answers: dict[str, Any] = load_case(CASES_DIR / f"{name}.yaml")["answers"]
    return answers


def as_response(client: FlaskClient, answers: dict[str, Any]) -> dict[str, Any]:
    """The API's QuestionnaireResponse for a set of answers."""
    response = client.post("/api/v1/questionnaire-response", json={"answers": answers})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == FHIR
    body: dict[str, Any] = json.loads(response.get_data())
    return body


def post_fhir(client: FlaskClient, body: object | bytes, path: str = "/api/v1/assessments") -> Any:
    """Post a body as application/fhir+json."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(path, data=data, content_type=FHIR)


# -- the Questionnaire --------------------------------------------------------------------------


def test_the_questionnaire_validates_and_carries_the_questions(
    client: FlaskClient, real: Questionnaire
) -> None:
    response = client.get("/fhir/Questionnaire")
    assert response.status_code == 200 and response.mimetype == FHIR
    resource = json.loads(response.get_data())
    FhirQuestionnaire.model_validate(resource)
    assert resource["url"] == canonical_url(real) and resource["version"] == real.meta.version
    groups = {g["linkId"]: g for g in resource["item"]}
    assert [g for g in groups if g.startswith("section.")] == [f"section.{s.id}" for s in real.sections]
    items = {i["linkId"]: i for g in resource["item"] for i in g["item"]}
    assert set(real.questions) <= set(items)
    # One question of each kind, as a FHIR form renderer reads it.
    assert items["age"]["type"] == "integer" and items["age"]["required"] is True
    limits = {e["url"].rsplit("/", 1)[1]: e for e in items["age"]["extension"]}
    assert limits["minValue"]["valueInteger"] == 1 and limits["maxValue"]["valueInteger"] == 120
    assert limits["questionnaire-unit"]["valueCoding"]["display"] == "years"
    assert items["glutamine_dose_g"]["type"] == "decimal"
    assert items["fever"]["type"] == "boolean"
    assert items["alarms_now"]["type"] == "choice" and items["alarms_now"]["repeats"] is True
    codes = [o["valueCoding"]["code"] for o in items["sex"]["answerOption"]]
    assert codes == [o.value for o in real.questions["sex"].options]
    assert {o["valueCoding"]["system"] for o in items["sex"]["answerOption"]} == {
        code_system(real, real.questions["sex"])
    }
    none = next(o for o in items["alarms_now"]["answerOption"] if o["valueCoding"]["code"] == "none")
    assert none["extension"][0]["url"].endswith("questionnaire-optionExclusive")
    assert items["my_questions"]["type"] == "text" and items["my_questions"]["maxLength"] == 300
    assert items["summary_name"]["type"] == "string" and items["summary_name"]["maxLength"] == 60
    hint = items["glutamine_dose_g"]["item"][0]
    assert hint["type"] == "display" and hint["text"].startswith("Check the label.")
    # Plain comparisons are enableWhen; the rest are FHIRPath.
    assert items["pregnancy"]["enableWhen"] == [
        {
            "question": "sex",
            "operator": "!=",
            "answerCoding": {
                "system": code_system(real, real.questions["sex"]),
                "code": "male",
                "display": "Male",
            },
        }
    ]
    assert (
        items["glutamine_form"]["enableBehavior"] == "any" and len(items["glutamine_form"]["enableWhen"]) == 2
    )
    assert items["fever_earlier"]["enableWhen"][0]["answerBoolean"] is False
    expression = groups["section.about"]["extension"][0]
    assert expression["url"].endswith("sdc-questionnaire-enableWhenExpression")
    assert "linkId='age'" in expression["valueExpression"]["expression"]
    # Every score is a read-only calculated item.
    scores = {i["linkId"]: i for i in groups["scores"]["item"]}
    assert set(scores) == {f"score.{s.id}" for s in real.scores}
    assert all(
        i["readOnly"] and i["extension"][0]["url"].endswith("calculatedExpression") for i in scores.values()
    )


def test_fhir_export_writes_the_same_questionnaire_as_the_route(client: FlaskClient, tmp_path: Path) -> None:
    target = tmp_path / "q.json"
    env = {**os.environ, "GUTCHECK_SECRET_KEY": "k" * 32}
    result = subprocess.run(
        [FLASK, "--app", "wsgi", "fhir-export", str(target)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(target.read_text("utf-8")) == json.loads(client.get("/fhir/Questionnaire").get_data())


def test_fhir_export_refuses_a_broken_file_and_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "q.json"
    broken = DATA / "invalid" / "three_mistakes.yaml"
    result = subprocess.run(
        [FLASK, "--app", "wsgi", "fhir-export", "--questions", str(broken), str(target)],
        cwd=ROOT,
        env={**os.environ, "GUTCHECK_GUIDANCE_DIR": str(MINI_GUIDANCE)},
        capture_output=True,
        text=True,
    )
    assert (
        result.returncode == 1
        and "three_mistakes.yaml:" in result.stderr
        and "Traceback" not in result.stderr
    )
    assert not target.exists()


def test_check_notes_a_condition_fhirpath_cannot_carry(tmp_path: Path) -> None:
    source = (DATA / "mini.yaml").read_text("utf-8")
    assert "visible_if: answers.sex == 'female'" in source
    changed = source.replace("visible_if: answers.sex == 'female'", "visible_if: (answers.age ?? 0) % 2 == 1")
    path = tmp_path / "odd.yaml"
    path.write_text(changed, encoding="utf-8")
    line = changed[: changed.index("- id: pregnant")].count("\n") + 1
    env = {**os.environ, "GUTCHECK_GUIDANCE_DIR": str(MINI_GUIDANCE), "GUTCHECK_SECRET_KEY": "k" * 32}
    result = subprocess.run(
        [FLASK, "--app", "wsgi", "check", str(path)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr  # not a mistake: the app runs it
    assert f"note: {path.name}:{line}: visible_if of 'pregnant' is not in the FHIR export" in result.stdout
    clean = subprocess.run(
        [FLASK, "--app", "wsgi", "check"], cwd=ROOT, env={**os.environ}, capture_output=True, text=True
    )
    assert clean.returncode == 0 and "note:" not in clean.stdout


# -- QuestionnaireResponse out and back --------------------------------------------------------


@pytest.mark.parametrize("name", PERSONAS)
def test_personas_round_trip_through_a_valid_questionnaire_response(
    client: FlaskClient, real: Questionnaire, name: str
) -> None:
    answers = persona(name)
    resource = as_response(client, answers)
    FhirResponse.model_validate(resource)
    assert resource["status"] == "completed"
    assert resource["authored"] == dt.date.today().isoformat()  # no answer date in the session yet
    assert resource["questionnaire"] == f"{canonical_url(real)}|{real.meta.version}"
    parsed = parse_answers(real, raw_of(answers))
    on_path = parsed.answers.only(visible_path(real, parsed.answers).question_ids)
    back = read_questionnaire_response(json.loads(json.dumps(resource)), real)
    again = parse_answers(real, back.answers)
    assert not again.errors and not again.unknown
    assert dict(again.answers) == dict(on_path)
    # The API scores the response exactly as it scores the plain answers.
    assert (
        post_fhir(client, resource).get_json()
        == client.post("/api/v1/assessments", json={"answers": answers}).get_json()
    )


def test_hidden_answers_stay_out_of_the_response(client: FlaskClient) -> None:
    answers = {**persona("p1_emma"), "glutamine_dose_g": 20, "pregnancy": "neither", "sex": "male"}
    links = {i["linkId"] for g in as_response(client, answers)["item"] for i in g["item"]}
    assert "age" in links and "glutamine_dose_g" not in links and "pregnancy" not in links


def test_the_results_page_offers_the_answers_as_fhir(client: FlaskClient, real: Questionnaire) -> None:
    assert client.get("/answers.fhir.json").status_code == 302  # nothing to download yet
    answers = parse_answers(real, raw_of(persona("p2_raj"))).answers
    store(client, dict(answers))
    assert 'href="/answers.fhir.json"' in text(client.get("/results"))
    response = client.get("/answers.fhir.json")
    assert response.status_code == 200 and response.mimetype == FHIR
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"].endswith('.fhir.json"')
    resource = json.loads(response.get_data())
    FhirResponse.model_validate(resource)
    back = parse_answers(real, read_questionnaire_response(resource, real).answers).answers
    assert dict(back) == dict(assess(real, answers).answers)


def test_the_pdf_embeds_the_response_beside_answers_json(client: FlaskClient, real: Questionnaire) -> None:
    answers = persona("p3_linda")
    pdf = client.post("/api/v1/report", json={"answers": answers})
    assert pdf.status_code == 200
    attachments = PdfReader(io.BytesIO(pdf.get_data())).attachments
    assert set(attachments) == {"answers.json", "questionnaire-response.fhir.json"}
    resource = json.loads(attachments["questionnaire-response.fhir.json"][0])
    FhirResponse.model_validate(resource)
    assert resource == as_response(client, answers)


# -- a QuestionnaireResponse coming in ------------------------------------------------------------


def test_continue_from_a_saved_questionnaire_response(client: FlaskClient, real: Questionnaire) -> None:
    resource = as_response(client, persona("p1_emma"))
    resource["authored"] = "2026-01-31"
    response = upload(client, json.dumps(resource).encode(), filename="answers.fhir.json", mime=FHIR)
    assert response.status_code == 302, text(response)
    parsed = parse_answers(real, raw_of(persona("p1_emma"))).answers
    assert Answers(stored(client)) == Answers(parsed.to_json())


def test_continue_refuses_a_response_to_another_questionnaire(client: FlaskClient) -> None:
    resource = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": "http://example.org/Q/phq9",
        "item": [],
    }
    response = upload(client, json.dumps(resource).encode(), filename="phq9.json", mime=FHIR)
    assert response.status_code == 400
    assert "answers another questionnaire (http://example.org/Q/phq9)" in " ".join(
        notices(text(response))
    ) + text(response)
    assert stored(client) == {}


def test_an_answers_file_that_only_mentions_the_word_is_still_an_answers_file(
    client: FlaskClient, real: Questionnaire
) -> None:
    answers = {**persona("p1_emma"), "my_questions": "What is a QuestionnaireResponse?"}
    body = {"questionnaire": {"id": real.meta.id, "version": real.meta.version}, "answers": answers}
    assert upload(client, json.dumps(body).encode()).status_code == 302
    assert stored(client)["my_questions"] == "What is a QuestionnaireResponse?"


def _deep(levels: int) -> dict[str, Any]:
    node: dict[str, Any] = {"linkId": "age", "answer": [{"valueInteger": 30}]}
    for n in range(levels):
        node = {"linkId": f"g{n}", "item": [node]}
    return {"resourceType": "QuestionnaireResponse", "item": [node]}


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"{", 400, "The body is not valid JSON."),
        (b"[" * 200_000 + b"]" * 200_000, 400, "The body is not valid JSON."),
        ({"resourceType": "Patient"}, 400, "This is not a FHIR QuestionnaireResponse."),
        ([1, 2], 400, "This is not a FHIR QuestionnaireResponse."),
        (
            {"resourceType": "QuestionnaireResponse", "questionnaire": "http://example.org/Q"},
            400,
            "This QuestionnaireResponse answers another questionnaire (http://example.org/Q), not this one.",
        ),
        (
            {"resourceType": "QuestionnaireResponse", "questionnaire": 7},
            400,
            "This is not a FHIR QuestionnaireResponse.",
        ),
        (
            {"resourceType": "QuestionnaireResponse", "item": {"linkId": "age"}},
            400,
            "not in a form we can read",
        ),
        ({"resourceType": "QuestionnaireResponse", "item": ["age"]}, 400, "not in a form we can read"),
        ({"resourceType": "QuestionnaireResponse", "item": [{"linkId": 5}]}, 400, "no linkId we can read"),
        (_deep(40), 400, "nested too deeply"),
        (
            {"resourceType": "QuestionnaireResponse", "item": [{"linkId": f"x{n}"} for n in range(5000)]},
            400,
            "too many items or answers",
        ),
        (
            {
                "resourceType": "QuestionnaireResponse",
                "item": [{"linkId": "medicines", "answer": [{"valueString": "x"}] * 500}],
            },
            400,
            "too many items or answers",
        ),
    ],
)
def test_a_malformed_or_hostile_response_gets_a_plain_message(
    client: FlaskClient, body: object, status: int, message: str
) -> None:
    response = post_fhir(client, body)
    assert response.status_code == status
    assert message in response.get_json()["message"]


def test_wrong_values_get_the_same_messages_as_other_input(client: FlaskClient, real: Questionnaire) -> None:
    resource = as_response(client, persona("p1_emma"))
    items = {i["linkId"]: i for g in resource["item"] for i in g["item"]}
    items["age"]["answer"] = [{"valueString": "32"}]  # a number as text
    items["fever"]["answer"] = [{"valueCoding": {"code": "no"}}]  # a yes/no as a coding
    items["sex"]["answer"] = [{"valueCoding": {"system": "http://loinc.org", "code": "female"}}]
    items["duration"]["answer"] = [
        {"valueCoding": {"system": code_system(real, real.questions["duration"]), "code": "forever"}}
    ]
    items["pain"]["answer"] = [{"valueInteger": 11}]
    items["impact"]["answer"] = [{"valueInteger": 5, "valueString": "5"}]
    items["my_questions"]["answer"] = [{"valueString": "x" * 301}]
    resource["item"][0]["item"].append({"linkId": "shoe_size", "answer": [{"valueInteger": 42}]})
    response = post_fhir(client, resource)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    wrong = {"pain": 11, "duration": "forever", "my_questions": "x" * 301}
    plain = client.post("/api/v1/assessments", json={"answers": {**persona("p1_emma"), **wrong}}).get_json()[
        "errors"
    ]
    for qid in wrong:
        assert errors[qid] == plain[qid], qid
    for qid in ("age", "fever", "sex", "impact"):
        assert errors[qid] == ["This answer is not in a form we can read."], qid
    assert errors["shoe_size"] == ["There is no question with this id."]


def test_a_response_from_lforms_without_questionnaire_or_systems_is_read(client: FlaskClient) -> None:
    """Renderers leave `questionnaire` to the application and may give numbers as quantities."""
    resource = as_response(client, persona("p1_emma"))
    del resource["questionnaire"]
    for group in resource["item"]:
        for i in group["item"]:
            for answer in i.get("answer", []):
                answer.get("valueCoding", {}).pop("system", None)
                if "valueInteger" in answer and i["linkId"] == "age":
                    answer["valueQuantity"] = {"value": answer.pop("valueInteger"), "unit": "years"}
    assert post_fhir(client, resource).status_code == 200


def test_plain_json_is_still_plain_json(client: FlaskClient) -> None:
    """The FHIR branch is chosen by Content-Type alone: a FHIR body sent as JSON is not read as FHIR."""
    resource = as_response(client, persona("p1_emma"))
    response = client.post("/api/v1/assessments", json=resource)
    assert response.status_code == 400 and "answers" in response.get_json()["message"]


def test_the_openapi_document_describes_the_fhir_route_and_content_type(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/assessments", "/api/v1/report", "/api/v1/questionnaire-response"):
        assert FHIR in document["paths"][path]["post"]["requestBody"]["content"], path
    components = {"components": document["components"]}
    responses = document["paths"]["/api/v1/questionnaire-response"]["post"]["responses"]
    schema = {**responses["200"]["content"][FHIR]["schema"], **components}
    body = as_response(client, persona("p2_raj"))
    jsonschema.Draft202012Validator(schema).validate(body)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate({**body, "resourceType": "Patient"})
    invalid = client.post("/api/v1/questionnaire-response", json={"answers": {"age": "old"}})
    assert invalid.status_code == 422
    schema = {**responses["422"]["content"]["application/problem+json"]["schema"], **components}
    jsonschema.Draft202012Validator(schema).validate(invalid.get_json())
    questionnaire = document["paths"]["/fhir/Questionnaire"]["get"]["responses"]["200"]["content"][FHIR]
    schema = {**questionnaire["schema"], **components}
    jsonschema.Draft202012Validator(schema).validate(json.loads(client.get("/fhir/Questionnaire").get_data()))
