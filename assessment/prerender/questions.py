"""The question page's HTML, rendered once by the templates with holes for a person's values.

The macro (templates/macros/fields.html) stays the one place a question's markup is written:
labels, hints, ids, ARIA attributes, every radio button and checkbox. At start-up it renders every
question twice (without and with an error), with unique markers where a request's own values go:
whether each option is ticked, a text field's value and the error message. The output is cut at
the markers into constant pieces (`compile_question`). A request then only joins pieces and
escapes the person's own values, instead of running the macro (~750 escapes for a page of ~85
inputs). Radio buttons and scales are pre-joined for each possible choice: a dictionary lookup.
`compile_page` (pieces.py) does the same for the pages around them (pages.py).

Only the questionnaire's own text is prepared in memory: nothing about a person is kept between
requests (docs/design.md). Templates are read once, so an edited template shows after a restart, like
an edited questions.yaml.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Collection
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from markupsafe import Markup
from markupsafe import escape

from assessment.domain import Question
from assessment.domain import QuestionType
from assessment.prerender.pieces import Markers
from assessment.prerender.pieces import Pieces

CHECKED = Markup(" checked")
VALUE_HOLE = "value"
ERROR_HOLE = "error"

FormValue = str | Collection[str]
"""A question's value as the form shows it: the text typed, or the option values ticked."""


@dataclass(frozen=True, slots=True)
class OptionView:
    """One radio button or checkbox, as the macro reads it."""

    id: str
    value: str
    label: str
    checked_attr: str = ""
    hint: str = ""
    exclusive: bool = False

    @property
    def hint_id(self) -> str:
        """Return the id of the option's hint."""
        return f"{self.id}-hint"


@dataclass
class QuestionView:
    """One question as the macro reads it."""

    question: Question
    errors: list[str]
    condition: str = ""
    describedby: str = ""
    cue: str = ""
    row: bool = False
    value: str = ""
    attrs: list[tuple[str, str]] = dataclass_field(default_factory=list)
    options: list[OptionView] = dataclass_field(default_factory=list)

    @property
    def grouped(self) -> bool:
        """Say whether the question is a group of radios or checkboxes (a fieldset)."""
        return is_grouped(self.question)

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


def is_grouped(question: Question) -> bool:
    """Say whether a question is a group of radios or checkboxes (a fieldset)."""
    return question.type.has_options or question.type is QuestionType.SCALE


def _option_hole(index: int) -> str:
    return f"c{index}"


@dataclass(frozen=True, slots=True)
class QuestionMarkup:
    """One question's pre-rendered HTML; `render` fills in a request's values and errors."""

    question: Question
    first_input_id: str  # the id the macro gave the first input: the error summary links to it
    grouped: bool
    option_values: tuple[str, ...]
    plain: Pieces[str]
    with_error: Pieces[str]
    # Error-free HTML with nothing ticked, and with each single choice ticked (radios and scales).
    blank: Markup
    single: Mapping[str, Markup]

    def render(self, value: FormValue | None, errors: Collection[str] = ()) -> Markup:
        """Return the question's HTML with a value (text, or option values ticked) and any errors."""
        if not errors and self.grouped:
            if not value:
                return self.blank
            if isinstance(value, str):
                found = self.single.get(value)
                return found if found is not None else self.blank
        fill: dict[str, str] = {}
        if errors:
            fill[ERROR_HOLE] = escape(" ".join(errors))
        if self.grouped:
            chosen = {value} if isinstance(value, str) else set(value or ())
            for index, option in enumerate(self.option_values):
                if option in chosen:
                    fill[_option_hole(index)] = CHECKED
        elif value:
            fill[VALUE_HOLE] = escape(value if isinstance(value, str) else "")
        return Markup((self.with_error if errors else self.plain).fill(fill))


def _view(
    question: Question,
    choices: list[tuple[str, str]],
    attrs: list[tuple[str, str]],
    condition: str,
    mark: Markers,
    error: bool,
    layout: Layout,
) -> tuple[QuestionView, list[str]]:
    """Return the view the macro renders at start-up, with markers for holes, and the holes expected."""
    errors: list[str] = [mark(ERROR_HOLE)] if error else []
    described = _described_by(question, error, layout)
    view = QuestionView(question, errors, condition, described, layout.cue, layout.row)
    holes = [ERROR_HOLE] if error else []
    if view.grouped:
        view.options.extend(_option_views(question, choices, mark))
        holes.extend(_option_hole(index) for index in range(len(choices)))
    else:
        view.value = mark(VALUE_HOLE)
        view.attrs = attrs
        holes.append(VALUE_HOLE)
    return view, holes


def _described_by(question: Question, error: bool, layout: Layout) -> str:
    """The ids for aria-describedby: cue, hint, scale ends, unit, length limit, error, as shown."""
    qid = question.id
    described = []
    if layout.cue:
        described.append(f"{qid}-cue")
    if question.hint:
        described.append(f"{qid}-hint")
    if question.type is QuestionType.SCALE and (question.min_label or question.max_label):
        described.append(f"{qid}-ends")
    if question.unit and not question.type.has_options:
        described.append(f"{qid}-unit")
    if question.type is QuestionType.TEXT:
        described.append(f"{qid}-limit")
    if error:
        described.append(f"{qid}-error")
    return " ".join(described)


def _option_views(question: Question, choices: list[tuple[str, str]], mark: Markers) -> list[OptionView]:
    """One view per choice, its checked attribute a marker for the hole filled per request."""
    hints = {opt.value: opt.hint for opt in question.options}
    return [
        OptionView(
            id=f"{question.id}-{index}",
            value=value,
            label=label,
            checked_attr=mark(_option_hole(index)),
            hint=hints.get(value, ""),
            exclusive=value in question.exclusive,
        )
        for index, (value, label) in enumerate(choices)
    ]


@dataclass(frozen=True, slots=True)
class Layout:
    """How a question sits on its page: a no-script cue for a condition, a row of a grid."""

    cue: str = ""
    row: bool = False


def compile_question(
    question: Question,
    field: Any,
    condition: str,
    macro: Callable[[QuestionView], str],
    layout: Layout | None = None,
) -> QuestionMarkup:
    """Render one question through the macro, with markers, and cut it into constant pieces.

    `field` is the question's bound WTForms field (its choices, id and render_kw are the inputs'
    values, labels and attributes), `condition` its same-page visible_if as JSON ('' if none).
    """
    layout = layout or Layout()
    if field.id != question.id:
        message = f"the field of question '{question.id}' has id '{field.id}'"
        raise ValueError(message)
    grouped = is_grouped(question)
    choices = [(str(c.value), str(c.label)) for c in field.iter_choices()] if grouped else []
    attrs = [] if grouped else sorted((str(k), str(v)) for k, v in (field.render_kw or {}).items())
    mark = Markers()
    pieces = []
    for error in (False, True):
        view, holes = _view(question, choices, attrs, condition, mark, error, layout)
        pieces.append(mark.cut(macro(view), holes))
    plain, with_error = pieces
    values = tuple(value for value, _ in choices)
    blank = Markup(plain.fill({}))
    single: dict[str, Markup] = {}
    if grouped and question.type is not QuestionType.MULTI:
        single = {v: Markup(plain.fill({_option_hole(i): CHECKED})) for i, v in enumerate(values)}
    return QuestionMarkup(
        question=question,
        first_input_id=view.options[0].id if view.options else question.id,
        grouped=grouped,
        option_values=values,
        plain=plain,
        with_error=with_error,
        blank=blank,
        single=single,
    )


def field_value(question: Question, field: Any) -> FormValue:
    """Return what a bound WTForms field holds (a post being shown again), as the form shows it."""
    if is_grouped(question):
        return [str(choice.value) for choice in field.iter_choices() if choice.selected]
    value: str = field._value()
    return value


def grid_rows(questions: Sequence[Question]) -> set[str]:
    """Return the ids of questions that sit as rows of one grid: a run of three or more single
    choices with the same few options (never, sometimes, often) and no option hints."""
    rows: set[str] = set()
    run: list[Question] = []

    def options(q: Question) -> tuple[tuple[str, str], ...] | None:
        if q.type is not QuestionType.SINGLE or len(q.options) > 4 or any(o.hint for o in q.options):
            return None
        return tuple((o.value, o.label) for o in q.options)

    for question in (*questions, None):
        shape = options(question) if question is not None else None
        if run and (shape is None or shape != options(run[0])):
            if len(run) >= 3:
                rows |= {q.id for q in run}
            run = []
        if question is not None and shape is not None:
            run.append(question)
    return rows
