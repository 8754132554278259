"""A person's answers as a FHIR R4 QuestionnaireResponse, and a QuestionnaireResponse read back.

Reading never trusts the document: it is walked with an explicit stack and bounded depth and size,
and every answer comes out raw (question id to the list of values sent), for the same strict
parser as form posts and answers.json. Values of the wrong FHIR type come out as a marker the
parser rejects with its usual plain message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import Any

from assessment.domain.model import Questionnaire
from assessment.domain.model import QuestionType
from assessment.domain.scoring import Assessment
from assessment.fhir.questionnaire import SCORE_PREFIX
from assessment.fhir.questionnaire import SCORES_GROUP
from assessment.fhir.questionnaire import SECTION_PREFIX
from assessment.fhir.questionnaire import canonical_url
from assessment.fhir.questionnaire import code_system

FHIR_JSON = "application/fhir+json"

MAX_DEPTH = 8
MAX_ITEMS = 2000
MAX_ANSWERS = 100

NOT_A_RESPONSE = "This is not a FHIR QuestionnaireResponse."
OTHER_QUESTIONNAIRE = "This QuestionnaireResponse answers another questionnaire ({url}), not this one."
BAD_ITEMS = "The items of this QuestionnaireResponse are not in a form we can read."
TOO_DEEP = "The items of this QuestionnaireResponse are nested too deeply."
TOO_MANY = "This QuestionnaireResponse has too many items or answers."
BAD_ITEM = "An item of this QuestionnaireResponse has no linkId we can read."


class FhirInputError(Exception):
    """The document cannot be read as a QuestionnaireResponse for this questionnaire; the message says why."""


class _Unreadable:
    """An answer value of a type the question cannot take: the parser rejects it as unreadable."""

    def __repr__(self) -> str:
        return "<unreadable FHIR value>"


UNREADABLE = _Unreadable()


@dataclass(frozen=True, slots=True)
class ResponseAnswers:
    """What a QuestionnaireResponse holds: which questionnaire and version it names, and raw answers."""

    questionnaire_id: str
    version: str
    answers: dict[str, list[object]] = field(default_factory=dict)


def questionnaire_response(assessment: Assessment, authored: dt.date) -> dict[str, Any]:
    """Return the answers on the visible path (and the scores) as a completed QuestionnaireResponse."""
    questionnaire = assessment.questionnaire
    groups = _section_groups(assessment)
    scores = _score_items(assessment)
    if scores:
        groups.append({"linkId": SCORES_GROUP, "text": "Scores", "item": scores})
    meta = questionnaire.meta
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": f"{canonical_url(questionnaire)}|{meta.version}",
        "status": "completed",
        "authored": authored.isoformat(),
        "item": groups,
    }


def _section_groups(assessment: Assessment) -> list[dict[str, Any]]:
    """One group per visible section with an answer, holding its answered questions."""
    questionnaire = assessment.questionnaire
    answers = assessment.answers
    groups: list[dict[str, Any]] = []
    for section in assessment.path.sections:
        items = []
        for question in assessment.path.questions_in(section.id):
            value = answers.get(question.id)
            if value is None:
                continue
            values = value if isinstance(value, tuple) else (value,)
            items.append(
                {
                    "linkId": question.id,
                    "text": question.label,
                    "answer": [_answer(questionnaire, question.id, v) for v in values],
                }
            )
        if items:
            groups.append({"linkId": SECTION_PREFIX + section.id, "text": section.title, "item": items})
    return groups


def _score_items(assessment: Assessment) -> list[dict[str, Any]]:
    """The scores as items: a decimal for a score shown with decimals, else an integer."""
    return [
        {
            "linkId": SCORE_PREFIX + result.id,
            "text": result.score.label,
            "answer": [
                {"valueDecimal": float(result.value)}
                if result.score.decimals
                else {"valueInteger": int(result.value)}
            ],
        }
        for result in assessment.scores
    ]


def _answer(questionnaire: Questionnaire, qid: str, value: object) -> dict[str, Any]:
    question = questionnaire.questions[qid]
    if question.type is QuestionType.YES_NO:
        return {"valueBoolean": value == "yes"}
    if question.type in (QuestionType.SINGLE, QuestionType.MULTI):
        opt = question.option(str(value))
        coding = {"system": code_system(questionnaire, question), "code": str(value)}
        if opt is not None:
            coding["display"] = opt.label
        return {"valueCoding": coding}
    if question.type is QuestionType.NUMBER and isinstance(value, Decimal):
        return {"valueDecimal": int(value) if value == value.to_integral_value() else float(value)}
    if question.type.is_numeric and isinstance(value, int):
        return {"valueInteger": value}
    return {"valueString": str(value)}


def read_questionnaire_response(document: object, questionnaire: Questionnaire) -> ResponseAnswers:
    """Read a parsed JSON document as a QuestionnaireResponse to this questionnaire; raise FhirInputError."""
    if not isinstance(document, Mapping) or document.get("resourceType") != "QuestionnaireResponse":
        msg = NOT_A_RESPONSE
        raise FhirInputError(msg)
    qid, version = _names(document.get("questionnaire"), questionnaire)
    answers: dict[str, list[object]] = {}
    for item in _items(document.get("item", [])):
        link = item.get("linkId")
        if not isinstance(link, str):
            msg = BAD_ITEM
            raise FhirInputError(msg)
        if link == SCORES_GROUP or link.startswith((SCORE_PREFIX, SECTION_PREFIX)):
            continue  # groups and calculated scores: the app works the scores out again itself
        raw = item.get("answer")
        if raw is None:
            continue
        if not isinstance(raw, list):
            answers.setdefault(link, []).append(UNREADABLE)
            continue
        values = answers.setdefault(link, [])
        values.extend(_value(questionnaire, link, answer) for answer in raw)
        if len(values) > MAX_ANSWERS:
            msg = TOO_MANY
            raise FhirInputError(msg)
    return ResponseAnswers(qid, version, answers)


def _names(reference: object, questionnaire: Questionnaire) -> tuple[str, str]:
    """Return (questionnaire id, version) that the response names; ours when it names none."""
    meta = questionnaire.meta
    if reference is None:
        return meta.id, meta.version
    if not isinstance(reference, str):
        msg = NOT_A_RESPONSE
        raise FhirInputError(msg)
    url, _, version = reference.partition("|")
    if url != canonical_url(questionnaire):
        msg = OTHER_QUESTIONNAIRE.format(url=_short(url))
        raise FhirInputError(msg)
    return meta.id, version or meta.version


def _short(text: str, limit: int = 80) -> str:
    printable = "".join(ch for ch in text if ch.isprintable())
    return printable if len(printable) <= limit else printable[: limit - 1] + "\u2026"


def _items(top: object) -> list[Mapping[str, Any]]:
    """Flatten the item tree (items under items and under answers) without recursion, within bounds."""
    found: list[Mapping[str, Any]] = []
    stack: list[tuple[object, int]] = [(top, 1)]
    while stack:
        items, depth = stack.pop()
        if depth > MAX_DEPTH:
            msg = TOO_DEEP
            raise FhirInputError(msg)
        if not isinstance(items, list):
            msg = BAD_ITEMS
            raise FhirInputError(msg)
        for item in items:
            if not isinstance(item, Mapping):
                msg = BAD_ITEMS
                raise FhirInputError(msg)
            found.append(item)
            if len(found) > MAX_ITEMS:
                msg = TOO_MANY
                raise FhirInputError(msg)
            if "item" in item:
                stack.append((item["item"], depth + 1))
            answers = item.get("answer")
            if isinstance(answers, list):
                for answer in answers[: MAX_ANSWERS + 1]:
                    if isinstance(answer, Mapping) and "item" in answer:
                        stack.append((answer["item"], depth + 1))
    return found


def _value(questionnaire: Questionnaire, link: str, answer: object) -> object:
    """Return one answer's raw value as the parser takes it, or UNREADABLE."""
    if not isinstance(answer, Mapping):
        return UNREADABLE
    keys = [key for key in answer if isinstance(key, str) and key.startswith("value")]
    if len(keys) != 1:
        return UNREADABLE
    key, value = keys[0], answer[keys[0]]
    question = questionnaire.questions.get(link)
    if question is None:
        return value if isinstance(value, (str, int, float)) else UNREADABLE  # reported as unknown
    kind = question.type
    if key == "valueBoolean" and isinstance(value, bool) and kind is QuestionType.YES_NO:
        return "yes" if value else "no"
    if (
        key == "valueCoding"
        and isinstance(value, Mapping)
        and kind.has_options
        and kind is not QuestionType.YES_NO
    ):
        code, system = value.get("code"), value.get("system")
        if not isinstance(code, str) or (
            system is not None and system != code_system(questionnaire, question)
        ):
            return UNREADABLE
        return code
    if key in ("valueInteger", "valueDecimal") and _is_number(value) and kind.is_numeric:
        return value
    if (
        key == "valueQuantity"
        and isinstance(value, Mapping)
        and _is_number(value.get("value"))
        and kind.is_numeric
    ):
        return value["value"]
    if key == "valueString" and isinstance(value, str) and kind is QuestionType.TEXT:
        return value
    return UNREADABLE


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
