"""The questionnaire as a FHIR R4 Questionnaire (with SDC expression extensions), built from the model.

One group item per section, one item per question with the question id as linkId, option values
as codes in a code system of ours (one per question), hints as display items, conditions as
enableWhen when they are a plain comparison and as enableWhenExpression (FHIRPath) otherwise, and
the scores as read-only calculated items in a last group.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from assessment.domain.expressions import Expression
from assessment.domain.fhirpath import Untranslatable
from assessment.domain.fhirpath import enable_when
from assessment.domain.fhirpath import fhirpath_condition
from assessment.domain.fhirpath import fhirpath_score
from assessment.domain.model import Question
from assessment.domain.model import Questionnaire
from assessment.domain.model import QuestionType
from assessment.domain.model import Score
from assessment.domain.model import Section
from assessment.domain.model import SourcePos

# Our canonical URLs are URNs: the app has no fixed public address, and a URN never pretends to be
# a page that can be fetched.
CANONICAL_PREFIX = "urn:gut-check:fhir"
SCORES_GROUP = "scores"
SCORE_PREFIX = "score."
SECTION_PREFIX = "section."

_EXT = "http://hl7.org/fhir/StructureDefinition/"
_SDC = "http://hl7.org/fhir/uv/sdc/StructureDefinition/"
MIN_VALUE = _EXT + "minValue"
MAX_VALUE = _EXT + "maxValue"
UNIT = _EXT + "questionnaire-unit"
ITEM_CONTROL = _EXT + "questionnaire-itemControl"
OPTION_EXCLUSIVE = _EXT + "questionnaire-optionExclusive"
MAX_DECIMAL_PLACES = _EXT + "maxDecimalPlaces"
ENABLE_WHEN_EXPRESSION = _SDC + "sdc-questionnaire-enableWhenExpression"
CALCULATED_EXPRESSION = _SDC + "sdc-questionnaire-calculatedExpression"
ITEM_CONTROL_SYSTEM = "http://hl7.org/fhir/questionnaire-item-control"

_TYPES = {
    QuestionType.SCALE: "integer",
    QuestionType.INTEGER: "integer",
    QuestionType.NUMBER: "decimal",
    QuestionType.SINGLE: "choice",
    QuestionType.MULTI: "choice",
    QuestionType.YES_NO: "boolean",
}


@dataclass(frozen=True, slots=True)
class Unexpressed:
    """A condition or score formula the export cannot carry, with where it was written and why."""

    what: str
    pos: SourcePos
    source: str
    reason: str

    def __str__(self) -> str:
        return f"{self.pos}: {self.what} is not in the FHIR export ({self.reason}): {self.source}"


def canonical_url(questionnaire: Questionnaire) -> str:
    """Return the Questionnaire's canonical URL (without version)."""
    return f"{CANONICAL_PREFIX}:Questionnaire:{questionnaire.meta.id}"


def code_system(questionnaire: Questionnaire, question: Question) -> str:
    """Return the code system of one question's option values."""
    return f"{CANONICAL_PREFIX}:CodeSystem:{questionnaire.meta.id}:{question.id}"


def fhir_questionnaire(questionnaire: Questionnaire) -> dict[str, Any]:
    """Return the FHIR R4 Questionnaire resource as JSON-ready data."""
    meta = questionnaire.meta
    items = [_section(questionnaire, section) for section in questionnaire.sections]
    scores = [item for item in (_score(questionnaire, s) for s in questionnaire.scores) if item is not None]
    if scores:
        items.append({"linkId": SCORES_GROUP, "type": "group", "text": "Scores", "item": scores})
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": _resource_id(meta.id),
        "url": canonical_url(questionnaire),
        "version": meta.version,
        "name": _computable_name(meta.title or meta.id),
        "title": meta.title or meta.id,
        "status": "active",
        "subjectType": ["Patient"],
        "description": (
            "A self-assessment a person fills in about their own gut symptoms and supplements. "
            "Educational, not a diagnosis. The scores are our own and not validated."
        ),
        "item": items,
    }
    return resource


def unexpressed(questionnaire: Questionnaire) -> list[Unexpressed]:
    """List every condition and score formula that the FHIR export cannot carry, and why."""
    found: list[Unexpressed] = []
    for section in questionnaire.sections:
        for what, pos, expression in _conditions(section):
            reason = _condition_problem(questionnaire, expression)
            if reason:
                found.append(Unexpressed(what, pos, expression.source, reason))
    scores = {s.id: s for s in questionnaire.scores}
    for score in questionnaire.scores:
        try:
            fhirpath_score(score, questionnaire.questions, scores)
        except Untranslatable as exc:
            found.append(
                Unexpressed(f"the formula of score '{score.id}'", score.pos, score.formula.source, str(exc))
            )
    return found


def _conditions(section: Section) -> list[tuple[str, SourcePos, Expression]]:
    found = []
    if section.visible_if is not None:
        found.append((f"visible_if of section '{section.id}'", section.pos, section.visible_if))
    for question in section.questions:
        if question.visible_if is not None:
            found.append((f"visible_if of '{question.id}'", question.pos, question.visible_if))
    return found


def _condition_problem(questionnaire: Questionnaire, expression: Expression) -> str:
    if enable_when(expression, questionnaire.questions) is not None:
        return ""
    try:
        fhirpath_condition(expression, questionnaire.questions)
    except Untranslatable as exc:
        return str(exc)
    return ""


def _section(questionnaire: Questionnaire, section: Section) -> dict[str, Any]:
    children: list[dict[str, Any]] = []
    if section.intro:
        children.append(
            {"linkId": f"{SECTION_PREFIX}{section.id}.intro", "type": "display", "text": section.intro}
        )
    children.extend(_question(questionnaire, question) for question in section.questions)
    item: dict[str, Any] = {"linkId": SECTION_PREFIX + section.id, "type": "group", "text": section.title}
    _condition(questionnaire, section.visible_if, item)
    item["item"] = children
    return item


def _question(questionnaire: Questionnaire, question: Question) -> dict[str, Any]:
    item: dict[str, Any] = {"linkId": question.id, "text": question.label, "type": _type(question)}
    extensions: list[dict[str, Any]] = []
    if question.required:
        item["required"] = True
    if question.type is QuestionType.MULTI:
        item["repeats"] = True
    if question.type is QuestionType.TEXT:
        item["maxLength"] = question.max_length
    if question.type.is_numeric:
        extensions.extend(_range(question))
    if question.type in (QuestionType.SINGLE, QuestionType.MULTI):
        control = "check-box" if question.type is QuestionType.MULTI else "radio-button"
        extensions.append(_item_control(control))
        item["answerOption"] = [
            _option(questionnaire, question, opt.value, opt.label) for opt in question.options
        ]
    _condition(questionnaire, question.visible_if, item)
    if extensions:
        item["extension"] = extensions + item.get("extension", [])
    help_text = _help(question)
    if help_text:
        item["item"] = _help_item(f"{question.id}.hint", help_text)
    return item


def _help_item(link_id: str, text: str) -> list[dict[str, Any]]:
    """A display item that renderers show as the item's help (SDC itemControl 'help')."""
    return [{"linkId": link_id, "type": "display", "text": text, "extension": [_item_control("help")]}]


def _type(question: Question) -> str:
    if question.type is QuestionType.TEXT:
        return "text" if question.multiline else "string"
    return _TYPES[question.type]


def _range(question: Question) -> list[dict[str, Any]]:
    key = "valueDecimal" if question.type is QuestionType.NUMBER else "valueInteger"
    found: list[dict[str, Any]] = []
    if question.minimum is not None:
        found.append({"url": MIN_VALUE, key: _json_number(question.minimum, key)})
    if question.maximum is not None:
        found.append({"url": MAX_VALUE, key: _json_number(question.maximum, key)})
    if question.type is QuestionType.NUMBER:
        found.append({"url": MAX_DECIMAL_PLACES, "valueInteger": max(question.decimals, 0)})
    if question.unit:
        found.append({"url": UNIT, "valueCoding": {"display": question.unit}})
    return found


def _json_number(number: Decimal, key: str) -> int | float:
    if key == "valueInteger" or number == number.to_integral_value():
        return int(number)
    return float(number)


def _option(questionnaire: Questionnaire, question: Question, value: str, label: str) -> dict[str, Any]:
    option: dict[str, Any] = {
        "valueCoding": {"system": code_system(questionnaire, question), "code": value, "display": label}
    }
    if value in question.exclusive:
        option["extension"] = [{"url": OPTION_EXCLUSIVE, "valueBoolean": True}]
    return option


def _item_control(code: str) -> dict[str, Any]:
    return {
        "url": ITEM_CONTROL,
        "valueCodeableConcept": {"coding": [{"system": ITEM_CONTROL_SYSTEM, "code": code}]},
    }


def _help(question: Question) -> str:
    parts = [question.hint] if question.hint else []
    if question.type is QuestionType.SCALE and (question.min_label or question.max_label):
        lo = _plain(question.minimum)
        hi = _plain(question.maximum)
        parts.append(f"{lo} = {question.min_label or lo}, {hi} = {question.max_label or hi}.")
    return " ".join(parts)


def _plain(number: Decimal | None) -> str:
    if number is None:
        return ""
    return str(int(number)) if number == number.to_integral_value() else format(number.normalize(), "f")


def _condition(questionnaire: Questionnaire, expression: Expression | None, item: dict[str, Any]) -> None:
    """Add enableWhen (plain comparisons) or an enableWhenExpression; leave the item shown otherwise."""
    if expression is None:
        return
    tests = enable_when(expression, questionnaire.questions)
    if tests is not None:
        item["enableWhen"] = [
            {
                "question": t.question.id,
                "operator": t.operator,
                **_answer(questionnaire, t.question, t.answer),
            }
            for t in tests
        ]
        if len(tests) > 1:
            item["enableBehavior"] = "any"
        return
    try:
        path = fhirpath_condition(expression, questionnaire.questions)
    except Untranslatable:
        return  # `flask check` lists it; the question is then always asked, as on a page without script
    item["extension"] = [
        {
            "url": ENABLE_WHEN_EXPRESSION,
            "valueExpression": {"language": "text/fhirpath", "expression": path},
        }
    ]


def _answer(questionnaire: Questionnaire, question: Question, value: str | bool | Decimal) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"answerBoolean": value}
    if isinstance(value, Decimal):
        if question.type is QuestionType.NUMBER:
            return {"answerDecimal": float(value)}
        return {"answerInteger": int(value)}
    if question.type is QuestionType.TEXT:
        return {"answerString": value}
    opt = question.option(value)
    coding = {"system": code_system(questionnaire, question), "code": value}
    if opt is not None:
        coding["display"] = opt.label
    return {"answerCoding": coding}


def _score(questionnaire: Questionnaire, score: Score) -> dict[str, Any] | None:
    scores = {s.id: s for s in questionnaire.scores}
    try:
        path = fhirpath_score(score, questionnaire.questions, scores)
    except Untranslatable:
        return None
    text = score.label + (" (not validated)" if score.unvalidated else "")
    bands = "; ".join(f"{_plain(b.minimum)} to {_plain(b.maximum)}: {b.label}" for b in score.bands)
    item: dict[str, Any] = {
        "linkId": SCORE_PREFIX + score.id,
        "text": text,
        "type": "decimal" if score.decimals else "integer",
        "readOnly": True,
        "extension": [
            {
                "url": CALCULATED_EXPRESSION,
                "valueExpression": {"language": "text/fhirpath", "expression": path},
            }
        ],
    }
    help_text = " ".join(
        part for part in (score.description.strip(), f"Bands: {bands}." if bands else "") if part
    )
    if help_text:
        item["item"] = _help_item(f"{SCORE_PREFIX}{score.id}.hint", help_text)
    return item


def _resource_id(text: str) -> str:
    """A FHIR id: letters, digits, '-' and '.', at most 64 characters."""
    cleaned = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-.") else "-" for ch in text)
    return cleaned[:64] or "questionnaire"


def _computable_name(text: str) -> str:
    """A FHIR computable name: a capital letter, then letters, digits and underscores."""
    words = "".join(ch if ch.isascii() and ch.isalnum() else " " for ch in text).split()
    name = "".join(word[:1].upper() + word[1:] for word in words)
    return name if name[:1].isalpha() else "Q" + name
