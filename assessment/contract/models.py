"""The JSON API's contract as typed models: the responses are built from them and the OpenAPI
document's schemas are generated from them, so the two cannot drift apart.

pydantic v2 rather than dataclasses plus a schema library: one declaration gives the JSON
(``model_dump(mode="json")``), the JSON Schema 2020-12 that OpenAPI 3.1 uses, and
``additionalProperties: false`` for every closed shape (``extra="forbid"``). Requests are still read by
the domain's parser, which gives plain per-question messages; the request model only documents them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from typing import Literal

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic.json_schema import models_json_schema

from assessment.domain import Assessment
from assessment.domain import Question
from assessment.domain import Questionnaire
from assessment.domain import QuestionType
from assessment.domain import Urgency
from assessment.domain import alarm_report
from assessment.domain.alarms import AlarmReport

REF_TEMPLATE = "#/components/schemas/{model}"
Number = int | float


class Closed(BaseModel):
    """A response shape: no member beyond those declared."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# -- requests -----------------------------------------------------------------------------------


class AnswersRequest(BaseModel):
    """The body of POST /api/v1/assessments and /api/v1/report."""

    answers: dict[str, str | Number | list[str]] = Field(
        description="Question id to answer: a number, an option value, text, or a list of option values."
    )


# -- the assessment -----------------------------------------------------------------------------


class QuestionnaireRef(Closed):
    """Which questionnaire, and which version of it, gave the result."""

    id: str
    version: str


class Why(Closed):
    """One thing a rule read, with its value; of a multiple-choice answer, the part the rule tested
    (the ticked options it looks for, or "not X" for an option it needs unticked)."""

    label: str
    value: str


class AlarmFeature(Closed):
    """An answer that questions.yaml declares an alarm feature, with its level."""

    question: str
    label: str
    answer: str
    urgency: Urgency


class Alarms(Closed):
    """Answers declared alarm features, and the alarm questions left blank."""

    features: list[AlarmFeature]
    unanswered: list[str]
    none_reported: bool = Field(
        description="True only when every alarm question on the path was answered, none an alarm."
    )


class ScoreResult(Closed):
    """A score's value (rounded as shown) and band."""

    id: str
    label: str
    value: Number
    band: str
    unvalidated: bool


class FiredRule(Closed):
    """A rule that applies, at the level of the variant that matched."""

    id: str
    urgency: Urgency
    time_frame: str = Field(description="The level's time-frame sentence.")
    guidance: str
    guidance_url: str
    message: str
    why: list[Why]


class AssessmentResponse(Closed):
    """What POST /api/v1/assessments answers."""

    questionnaire: QuestionnaireRef
    urgency: Urgency = Field(description="The highest level among the fired rules (info when none fired).")
    time_frame: str = Field(description="The overall level's time-frame sentence.")
    action: str = Field(description="What to do, with the configured numbers.")
    safety_net: str = Field(description="When to get help sooner, whatever the level.")
    alarms: Alarms
    scores: list[ScoreResult]
    rules: list[FiredRule]
    path: list[str] = Field(description="The ids of the questions on the person's path, in order.")


# -- the questionnaire definition ---------------------------------------------------------------


class Meta(Closed):
    """The questionnaire's identity."""

    id: str
    version: str
    title: str
    recall: str


class OptionOut(Closed):
    """One choice of a question."""

    value: str
    label: str


class QuestionOut(Closed):
    """One question, as a program needs it to ask it and check the answer."""

    id: str
    type: QuestionType
    label: str
    short_label: str | None = Field(description="The name the clinician summary gives it.")
    hint: str
    required: bool
    visible_if: str | None
    options: list[OptionOut]
    exclusive: list[str]
    min: Number | None
    max: Number | None
    unit: str
    max_length: int | None


class SectionOut(Closed):
    """One page of questions."""

    id: str
    title: str
    intro: str
    visible_if: str | None
    questions: list[QuestionOut]


class BandOut(Closed):
    """A named part of a score's range, both ends included."""

    min: Number
    max: Number
    label: str


class ScoreOut(Closed):
    """A score's definition: range and bands."""

    id: str
    label: str
    range: tuple[Number, Number]
    unvalidated: bool
    bands: list[BandOut]


class QuestionnaireResponseBody(Closed):
    """What GET /api/v1/questionnaire answers."""

    meta: Meta
    sections: list[SectionOut]
    scores: list[ScoreOut]


# -- errors (RFC 9457 problem documents) --------------------------------------------------------


class Error(BaseModel):
    """An RFC 9457 problem document; error is a stable code, message repeats detail."""

    type: str
    title: str
    status: int
    detail: str
    error: str
    message: str


class ValidationErrors(Error):
    """An RFC 9457 problem document with the messages per question id."""

    error: Literal["invalid_answers"]
    errors: dict[str, list[str]] = Field(description="Question id to its messages (at least one).")


MODELS: tuple[type[BaseModel], ...] = (
    AnswersRequest,
    AssessmentResponse,
    QuestionnaireResponseBody,
    Error,
    ValidationErrors,
)


def component_schemas() -> dict[str, Any]:
    """Return every model's JSON Schema, keyed by component name, for the OpenAPI document."""
    _, top = models_json_schema([(m, "serialization") for m in MODELS], ref_template=REF_TEMPLATE)
    schemas: dict[str, Any] = top["$defs"]
    # Renamed for the document: the API has always called these two schemas by these names.
    schemas["Assessment"] = schemas.pop("AssessmentResponse")
    schemas["Questionnaire"] = schemas.pop("QuestionnaireResponseBody")
    return schemas


def _number(value: Decimal) -> Number:
    """Write a Decimal as JSON writes numbers: whole numbers as integers."""
    return int(value) if value == value.to_integral_value() else float(value)


def _maybe(value: Decimal | None) -> Number | None:
    return None if value is None else _number(value)


def assessment_response(
    assessment: Assessment, time_frames: dict[Urgency, tuple[str, str]], guidance_url: Any
) -> AssessmentResponse:
    """Build the response for an assessment; time_frames maps a level to (time frame, action) texts."""
    meta = assessment.questionnaire.meta
    alarms = alarm_report(assessment)
    overall = time_frames[assessment.urgency]
    return AssessmentResponse(
        questionnaire=QuestionnaireRef(id=meta.id, version=meta.version),
        urgency=assessment.urgency,
        time_frame=overall[0],
        action=overall[1],
        safety_net=meta.safety_net,
        alarms=_alarms(alarms),
        scores=_scores(assessment),
        rules=_rules(assessment, time_frames, guidance_url),
        path=list(assessment.path.question_ids),
    )


def _alarms(alarms: AlarmReport) -> Alarms:
    """The alarm features found, the alarm questions left unanswered, and whether none was reported."""
    return Alarms(
        features=[
            AlarmFeature(question=f.question.id, label=f.label, answer=f.answer, urgency=f.urgency)
            for f in alarms.features
        ],
        unanswered=[q.id for q in alarms.unanswered],
        none_reported=alarms.none_reported,
    )


def _scores(assessment: Assessment) -> list[ScoreResult]:
    """Each score's value (a float only for a score shown with decimals) and band."""
    return [
        ScoreResult(
            id=s.id,
            label=s.score.label,
            value=float(s.value) if s.score.decimals else int(s.value),
            band=s.band_label,
            unvalidated=s.score.unvalidated,
        )
        for s in assessment.scores
    ]


def _rules(
    assessment: Assessment, time_frames: dict[Urgency, tuple[str, str]], guidance_url: Any
) -> list[FiredRule]:
    """The rules that fired, each with its time frame, guidance link and why."""
    return [
        FiredRule(
            id=r.id,
            urgency=r.urgency,
            time_frame=time_frames[r.urgency][0],
            guidance=r.guidance,
            guidance_url=guidance_url(r.guidance),
            message=r.message,
            why=[Why(label=w.label, value=w.value) for w in r.why],
        )
        for r in assessment.rules
    ]


def _question(x: Question) -> QuestionOut:
    return QuestionOut(
        id=x.id,
        type=x.type,
        label=x.label,
        short_label=x.short_label or None,
        hint=x.hint,
        required=x.required,
        visible_if=x.visible_if.source if x.visible_if else None,
        options=[OptionOut(value=o.value, label=o.label) for o in x.options],
        exclusive=list(x.exclusive),
        min=_maybe(x.minimum),
        max=_maybe(x.maximum),
        unit=x.unit,
        max_length=x.max_length or None,
    )


def questionnaire_response(q: Questionnaire) -> QuestionnaireResponseBody:
    """Build the questionnaire definition a program reads to ask the questions itself."""
    return QuestionnaireResponseBody(
        meta=Meta(id=q.meta.id, version=q.meta.version, title=q.meta.title, recall=q.meta.recall),
        sections=[
            SectionOut(
                id=s.id,
                title=s.title,
                intro=s.intro,
                visible_if=s.visible_if.source if s.visible_if else None,
                questions=[_question(x) for x in s.questions],
            )
            for s in q.sections
        ],
        scores=[
            ScoreOut(
                id=s.id,
                label=s.label,
                range=(_number(s.minimum), _number(s.maximum)),
                unvalidated=s.unvalidated,
                bands=[
                    BandOut(min=_number(b.minimum), max=_number(b.maximum), label=b.label) for b in s.bands
                ],
            )
            for s in q.scores
        ],
    )
