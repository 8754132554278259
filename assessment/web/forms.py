"""WTForms forms built from the questionnaire model by one field-type table.

The fields only carry values to and from the page; validation is the domain parser's job
(`parse_answers`), so the form and the JSON API share one source of truth. A form is bound only
to read a post back (shown again with the parser's messages) and, once at start-up, to give the
pre-rendered question markup (assessment/prerender) each field's choices and attributes; a GET
fills the page from `stored_values`.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field
from wtforms import RadioField
from wtforms import SelectMultipleField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput
from wtforms.widgets import ListWidget

from assessment.domain import AnswerValue
from assessment.domain import Question
from assessment.domain import QuestionType
from assessment.domain import Section
from assessment.domain.answers import plain

# Form attributes are prefixed so that a question id such as `data`, `meta` or `process` can never
# shadow a WTForms attribute; the HTML name (what the browser posts) is the bare question id.
ATTR_PREFIX = "f_"
RESERVED_NAMES = frozenset({"csrf_token"})
_COMMON: dict[str, str] = {"autocomplete": "off"}

FieldBuilder = Callable[[Question], Any]
"""Builds the unbound WTForms field for one question."""


def _choices(question: Question) -> list[SelectChoice]:
    # An exclusive answer ("None of these") is listed last, after an "or" (fields.html); the
    # values stay as written, only the order on the page changes.
    ordered = sorted(question.options, key=lambda opt: opt.value in question.exclusive)
    return [SelectChoice(opt.value, opt.label) for opt in ordered]


def _radio(question: Question) -> Any:
    return RadioField(
        question.label, choices=_choices(question), validate_choice=False, name=question.id, id=question.id
    )


def _scale(question: Question) -> Any:
    low = int(question.minimum) if question.minimum is not None else 0
    high = int(question.maximum) if question.maximum is not None else 10
    choices = [SelectChoice(str(n), str(n)) for n in range(low, high + 1)]
    return RadioField(
        question.label, choices=choices, validate_choice=False, name=question.id, id=question.id
    )


def _multi(question: Question) -> Any:
    return SelectMultipleField(
        question.label,
        choices=_choices(question),
        validate_choice=False,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        name=question.id,
        id=question.id,
    )


def _integer(question: Question) -> Any:
    # Text with a numeric keyboard, not type=number (which hides bad input from the server and
    # changes the value on scroll) and not IntegerField (which accepts "1_0" and "٧").
    render_kw = {**_COMMON, "inputmode": "numeric", "spellcheck": "false", "size": "8"}
    return StringField(question.label, render_kw=render_kw, name=question.id, id=question.id)


def _number(question: Question) -> Any:
    # DecimalField crashes on "snan"; the domain parser reads the text strictly instead.
    render_kw = {**_COMMON, "inputmode": "decimal", "spellcheck": "false", "size": "8"}
    return StringField(question.label, render_kw=render_kw, name=question.id, id=question.id)


def _text(question: Question) -> Any:
    render_kw = {**_COMMON, "maxlength": str(question.max_length)}
    if question.multiline:
        render_kw["rows"] = "5" if question.max_length > 200 else "3"
        return TextAreaField(question.label, render_kw=render_kw, name=question.id, id=question.id)
    return StringField(question.label, render_kw=render_kw, name=question.id, id=question.id)


FIELD_BUILDERS: dict[QuestionType, FieldBuilder] = {
    QuestionType.SCALE: _scale,
    QuestionType.INTEGER: _integer,
    QuestionType.NUMBER: _number,
    QuestionType.SINGLE: _radio,
    QuestionType.YES_NO: _radio,
    QuestionType.MULTI: _multi,
    QuestionType.TEXT: _text,
}


class SectionForm(FlaskForm):  # type: ignore[misc]
    """Base class of every section form: fields are looked up by question id."""

    def field(self, question_id: str) -> Field:
        """Return the field of one question."""
        found: Field = self._fields[ATTR_PREFIX + question_id]
        return found


@lru_cache(maxsize=512)
def build_form(section: Section, questions: tuple[Question, ...]) -> type[SectionForm]:
    """Create (once per section) a form class with one field per question, named by question id."""
    attrs: dict[str, Any] = {"__doc__": f"Form for section '{section.id}'."}
    for question in questions:
        if question.id in RESERVED_NAMES:
            message = f"question id '{question.id}' is reserved by the web form"
            raise ValueError(message)
        attrs[ATTR_PREFIX + question.id] = FIELD_BUILDERS[question.type](question)
    return type(f"SectionForm_{section.id}", (SectionForm,), attrs)


def form_for(section: Section) -> type[SectionForm]:
    """Return the cached form class of a section (all its questions; the view picks the visible ones)."""
    return build_form(section, section.questions)


def stored_values(
    questions: tuple[Question, ...], answers: Mapping[str, AnswerValue]
) -> dict[str, str | list[str]]:
    """Return stored answers by question id, as the person would have typed or ticked them."""
    return {q.id: form_value(answers[q.id]) for q in questions if q.id in answers}


def form_value(value: AnswerValue) -> str | list[str]:
    """Write one parsed answer back as form text."""
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Decimal):
        return plain(value)
    return str(value)


def first_input_id(question: Question) -> str:
    """Return the id of the question's first input: the target of the error summary's link."""
    if question.type.has_options or question.type is QuestionType.SCALE:
        return f"{question.id}-0"
    return question.id
