"""What the field macro needs to render one question: ids, values and ARIA, worked out in Python.

The inputs are written by the Jinja macro rather than by WTForms widgets: the widgets format every
attribute through Markup one by one, which made a 0-10 scale page several times slower to render.
The WTForms field still holds the choices, the submitted or stored data and the field options.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from assessment.domain import Question
from assessment.domain import QuestionType
from assessment.web import forms


@dataclass(frozen=True, slots=True)
class OptionView:
    """One radio button or checkbox."""

    id: str
    value: str
    label: str
    checked: bool
    hint: str = ""
    exclusive: bool = False

    @property
    def hint_id(self) -> str:
        """Return the id of the option's hint."""
        return f"{self.id}-hint"


@dataclass
class QuestionView:
    """One question as the macro renders it."""

    question: Question
    errors: list[str]
    condition: str = ""
    describedby: str = ""
    value: str = ""
    attrs: list[tuple[str, str]] = dataclass_field(default_factory=list)
    options: list[OptionView] = dataclass_field(default_factory=list)

    @property
    def grouped(self) -> bool:
        """Say whether the question is a group of radios or checkboxes (a fieldset)."""
        return self.question.type.has_options or self.question.type is QuestionType.SCALE

    @property
    def input_type(self) -> str:
        """Return the type of the question's inputs."""
        if self.question.type is QuestionType.MULTI:
            return "checkbox"
        return "radio" if self.grouped else "text"

    @property
    def multiline(self) -> bool:
        """Say whether the answer is written in a text area."""
        return self.question.type is QuestionType.TEXT and self.question.multiline

    @property
    def first_input_id(self) -> str:
        """Return the id the error summary links to."""
        return forms.first_input_id(self.question)


def question_view(
    question: Question, field: Any, errors: tuple[str, ...], condition: str = ""
) -> QuestionView:
    """Work out a question's ids, values and ARIA attributes from its bound WTForms field."""
    qid = question.id
    described = []
    if question.hint:
        described.append(f"{qid}-hint")
    if question.type is QuestionType.SCALE and (question.min_label or question.max_label):
        described.append(f"{qid}-ends")
    if question.unit and not question.type.has_options:
        described.append(f"{qid}-unit")
    if question.type is QuestionType.TEXT:
        described.append(f"{qid}-limit")
    if errors:
        described.append(f"{qid}-error")
    view = QuestionView(question, list(errors), condition, " ".join(described))
    if view.grouped:
        hints = {opt.value: opt.hint for opt in question.options}
        for index, choice in enumerate(field.iter_choices()):
            value = str(choice.value)
            view.options.append(
                OptionView(
                    id=f"{field.id}-{index}",
                    value=value,
                    label=str(choice.label),
                    checked=bool(choice.selected),
                    hint=hints.get(value, ""),
                    exclusive=value in question.exclusive,
                )
            )
    else:
        view.value = field._value()
        view.attrs = sorted((str(k), str(v)) for k, v in (field.render_kw or {}).items())
    return view
