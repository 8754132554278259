"""Translate checked rule-engine expressions into FHIRPath, for the FHIR Questionnaire export.

A `visible_if` becomes an SDC enableWhenExpression and a score formula a calculatedExpression.
Both read the answers of the QuestionnaireResponse being filled (`%resource`), where an item's
linkId is the question id. FHIRPath has three-valued logic (an empty collection is neither true
nor false) while rule-engine compares a missing answer as null, so every comparison is written to
give true or false even when an answer is missing: `X contains 'v'` rather than `X = 'v'`, and
`??` defaults as `iif(X.exists(), X, default)`. Anything that cannot be written faithfully raises
Untranslatable with a plain reason; the truth-table test compares both evaluators.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rule_engine import ast as re_ast

from assessment.domain.expressions import Expression
from assessment.domain.model import Question
from assessment.domain.model import QuestionType
from assessment.domain.model import Score

_ORDERED = {"lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_ARITHMETIC = {"add": "+", "sub": "-", "mul": "*", "tdiv": "/"}

# Kinds of translated value.
BOOL = "bool"  # true or false, never empty
NUMBER = "number"  # one number, never empty
MAYBE_NUMBER = "maybe-number"  # one number or empty
ANSWER = "answer"  # the answers of one question: empty, one value, or several (multi)
TEXT = "text"  # one text literal
LIST = "list"  # a literal list of texts
NULL = "null"


class Untranslatable(Exception):
    """The expression uses something FHIRPath cannot say with the same meaning; the message says what."""


@dataclass(frozen=True, slots=True)
class _Value:
    text: str
    kind: str
    question: Question | None = None
    items: tuple[str, ...] = ()


def answer_path(question: Question) -> str:
    """Return the FHIRPath for a question's answers in the response being filled (codes for choices)."""
    base = f"%resource.repeat(item).where(linkId={quote(question.id)}).answer.value"
    if question.type in (QuestionType.SINGLE, QuestionType.MULTI):
        return base + ".code"
    return base


def quote(text: str) -> str:
    """Write a FHIRPath string literal."""
    escaped = text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n").replace("\r", "\\r")
    return f"'{escaped}'"


def fhirpath_condition(expression: Expression, questions: Mapping[str, Question]) -> str:
    """Return a FHIRPath boolean for a visible_if; raise Untranslatable when it cannot be written."""
    value = _Translator(questions, {}).node(expression.rule.statement.expression)
    return _as_bool(value).text


def fhirpath_formula(
    expression: Expression, questions: Mapping[str, Question], scores: Mapping[str, Score]
) -> str:
    """Return a FHIRPath number for a score formula (unrounded); raise Untranslatable when it cannot."""
    value = _Translator(questions, scores).node(expression.rule.statement.expression)
    if value.kind != NUMBER:
        msg = "the formula does not always give a number"
        raise Untranslatable(msg)
    return value.text


def fhirpath_score(score: Score, questions: Mapping[str, Question], scores: Mapping[str, Score]) -> str:
    """Return the FHIRPath of a score as the app shows it: rounded half up, then kept in its range."""
    raw = fhirpath_formula(score.formula, questions, scores)
    lo, hi = _number_text(score.minimum), _number_text(score.maximum)
    rounded = f"({raw}).round({score.decimals})"
    return f"{rounded}.select(iif($this < {lo}, {lo}, iif($this > {hi}, {hi}, $this)))"


def _as_bool(value: _Value) -> _Value:
    if value.kind != BOOL:
        msg = "the condition is not a plain true-or-false test"
        raise Untranslatable(msg)
    return value


def _number_text(number: Decimal) -> str:
    if not number.is_finite():
        msg = "the number is not finite"
        raise Untranslatable(msg)
    if number == number.to_integral_value():
        return str(int(number))
    return format(number.normalize(), "f")


class _Translator:
    """Walks one checked rule-engine tree; scores read by a formula are inlined, unrounded."""

    def __init__(self, questions: Mapping[str, Question], scores: Mapping[str, Score]) -> None:
        self.questions, self.scores = questions, scores
        self.inlining: set[str] = set()

    def node(self, node: Any) -> _Value:
        """Translate one node."""
        if isinstance(node, re_ast.LogicExpression) and node.type in ("and", "or"):
            left, right = _as_bool(self.node(node.left)), _as_bool(self.node(node.right))
            return _Value(f"({left.text} {node.type} {right.text})", BOOL)
        if isinstance(node, re_ast.UnaryExpression):
            return self._unary(node)
        if isinstance(node, re_ast.FuzzyComparisonExpression):
            msg = "regular-expression operators are not translated"
            raise Untranslatable(msg)
        if isinstance(node, re_ast.ArithmeticComparisonExpression) and node.type in _ORDERED:
            left, right = self._number(node.left), self._number(node.right)
            return _Value(f"({left.text} {_ORDERED[node.type]} {right.text})", BOOL)
        if isinstance(node, re_ast.ComparisonExpression) and node.type in ("eq", "ne"):
            equal = self._equal(self.node(node.left), self.node(node.right))
            return equal if node.type == "eq" else _Value(f"{equal.text}.not()", BOOL)
        if isinstance(node, re_ast.ContainsExpression):
            return self._contains(self.node(node.member), self.node(node.container))
        if isinstance(node, re_ast.CoalesceExpression):
            return self._coalesce(node)
        if isinstance(node, re_ast.GetAttributeExpression):
            return self._attribute(node)
        if isinstance(node, (re_ast.AddExpression, re_ast.SubtractExpression, re_ast.ArithmeticExpression)):
            if node.type not in _ARITHMETIC:
                msg = (
                    f"the operator '{node.type}' is not translated (FHIRPath's div and mod round another way)"
                )
                raise Untranslatable(msg)
            left, right = self._number(node.left), self._number(node.right)
            return _Value(f"({left.text} {_ARITHMETIC[node.type]} {right.text})", NUMBER)
        if isinstance(node, re_ast.TernaryExpression):
            return self._ternary(node)
        if isinstance(node, re_ast.FunctionCallExpression):
            return self._call(node)
        return self._literal(node)

    def _unary(self, node: Any) -> _Value:
        if node.type == "not":
            return _Value(f"{_as_bool(self.node(node.right)).text}.not()", BOOL)
        if node.type == "uminus":
            return _Value(f"(0 - {self._number(node.right).text})", NUMBER)
        msg = f"the operator '{node.type}' is not translated"
        raise Untranslatable(msg)

    def _number(self, node: Any) -> _Value:
        """Translate a node that must be one number, never missing (ordered comparisons, arithmetic)."""
        value = self.node(node)
        if value.kind != NUMBER:
            msg = "a calculation reads an answer that may be missing and has no ?? default"
            raise Untranslatable(msg)
        return value

    def _equal(self, left: _Value, right: _Value) -> _Value:
        if left.kind in (TEXT, NUMBER, BOOL, NULL) and right.kind in (ANSWER, MAYBE_NUMBER):
            left, right = right, left
        if right.kind == NULL and left.kind in (ANSWER, MAYBE_NUMBER):
            return _Value(f"{left.text}.empty()", BOOL)
        if left.kind == ANSWER and left.question is not None and left.question.type is QuestionType.MULTI:
            msg = "a list of ticked answers is compared with =="
            raise Untranslatable(msg)
        if left.kind in (ANSWER, MAYBE_NUMBER) and right.kind in (TEXT, NUMBER):
            return _Value(f"({left.text} contains {self._operand(left, right)})", BOOL)
        if left.kind == right.kind and left.kind in (NUMBER, TEXT, BOOL):
            return _Value(f"({left.text} = {right.text})", BOOL)
        msg = "this comparison is not translated"
        raise Untranslatable(msg)

    def _operand(self, answer: _Value, literal: _Value) -> str:
        """Write a literal as the answer holds it: yes/no answers are FHIR booleans."""
        question = answer.question
        if question is not None and question.type is QuestionType.YES_NO and literal.kind == TEXT:
            if literal.text == quote("yes"):
                return "true"
            if literal.text == quote("no"):
                return "false"
            msg = "a yes/no answer is compared with something other than 'yes' or 'no'"
            raise Untranslatable(msg)
        if question is not None and question.type.is_numeric != (literal.kind == NUMBER):
            msg = "an answer is compared with a value of another type"
            raise Untranslatable(msg)
        return literal.text

    def _contains(self, member: _Value, container: _Value) -> _Value:
        if container.kind == LIST and member.kind == ANSWER:
            tests = [
                f"({member.text} contains {self._operand(member, _Value(t, TEXT))})" for t in container.items
            ]
            if not tests:
                return _Value("false", BOOL)
            return _Value(tests[0] if len(tests) == 1 else "(" + " or ".join(tests) + ")", BOOL)
        if container.kind == LIST and member.kind == TEXT:
            return _Value("true" if member.text in container.items else "false", BOOL)
        is_multi = container.question is not None and container.question.type is QuestionType.MULTI
        if container.kind == ANSWER and is_multi and member.kind == TEXT:
            return _Value(f"({container.text} contains {member.text})", BOOL)
        msg = "this 'in' test is not translated (only an answer in a list, or a choice in a multi answer)"
        raise Untranslatable(msg)

    def _coalesce(self, node: Any) -> _Value:
        left, default = self.node(node.left), self.node(node.right)
        if left.kind not in (ANSWER, MAYBE_NUMBER):
            msg = "?? is only translated after an answer or points"
            raise Untranslatable(msg)
        question = left.question
        if question is not None and question.type is QuestionType.MULTI:
            msg = "?? after a multi answer is not translated"
            raise Untranslatable(msg)
        if default.kind == NUMBER and (left.kind == MAYBE_NUMBER or (question and question.type.is_numeric)):
            return _Value(f"iif({left.text}.exists(), {left.text}, {default.text})", NUMBER)
        msg = "?? is only translated with a number default after a number answer or points"
        raise Untranslatable(msg)

    def _attribute(self, node: Any) -> _Value:
        owner = node.object
        if isinstance(owner, re_ast.SymbolExpression) and owner.scope is None:
            if owner.name == "answers":
                question = self._question(node.name)
                kind = MAYBE_NUMBER if question.type.is_numeric else ANSWER
                return _Value(answer_path(question), kind, question)
            if owner.name == "points":
                return self._points(self._question(node.name))
            if owner.name == "scores":
                return self._score(node.name)
            msg = f"'{owner.name}.' names are not translated (only answers, points and scores)"
            raise Untranslatable(msg)
        inner = self.node(owner)
        multi = inner.question is not None and inner.question.type is QuestionType.MULTI
        if inner.kind == ANSWER and multi and node.name == "is_empty":
            return _Value(f"{inner.text}.empty()", BOOL)
        if inner.kind == ANSWER and multi and node.name == "length":
            return _Value(f"{inner.text}.count()", NUMBER)
        msg = f"the attribute '{node.name}' is not translated"
        raise Untranslatable(msg)

    def _question(self, qid: str) -> Question:
        question = self.questions.get(qid)
        if question is None:
            msg = f"there is no question '{qid}'"
            raise Untranslatable(msg)
        return question

    def _points(self, question: Question) -> _Value:
        """points.X: the chosen option's score, as a chain of iif over the option codes."""
        if question.type is not QuestionType.SINGLE:
            msg = "points are only translated for single-choice questions"
            raise Untranslatable(msg)
        path = answer_path(question)
        text = ""
        for opt in reversed(question.options):
            if opt.score is None:
                continue
            test = f"{path} contains {quote(opt.value)}"
            text = f"iif({test}, {_number_text(opt.score)}{', ' + text if text else ''})"
        if not text:
            msg = f"'{question.id}' has no option scores"
            raise Untranslatable(msg)
        return _Value(f"({text})", MAYBE_NUMBER)

    def _score(self, score_id: str) -> _Value:
        score = self.scores.get(score_id)
        if score is None or score_id in self.inlining:
            msg = f"the score '{score_id}' cannot be read here"
            raise Untranslatable(msg)
        self.inlining.add(score_id)
        try:
            value = self._number(score.formula.rule.statement.expression)
        finally:
            self.inlining.discard(score_id)
        return _Value(f"({value.text})", NUMBER)

    def _ternary(self, node: Any) -> _Value:
        condition = _as_bool(self.node(node.condition))
        yes, no = self.node(node.case_true), self.node(node.case_false)
        if yes.kind != no.kind or yes.kind not in (NUMBER, BOOL, TEXT):
            msg = "both sides of ? : must give a value of the same type"
            raise Untranslatable(msg)
        return _Value(f"iif({condition.text}, {yes.text}, {no.text})", yes.kind)

    def _call(self, node: Any) -> _Value:
        function = node.function
        name = function.name if isinstance(function, re_ast.SymbolExpression) else ""
        if name not in ("max", "min") or getattr(function, "scope", None) != "built-in":
            msg = f"the function '${name}' is not translated (only $max and $min)"
            raise Untranslatable(msg)
        if len(node.arguments) != 1 or not isinstance(node.arguments[0], re_ast.ArrayExpression):
            msg = f"${name} is only translated on a written list"
            raise Untranslatable(msg)
        items = [self._number(item) for item in node.arguments[0].value]
        if not items:
            msg = f"${name} of an empty list"
            raise Untranslatable(msg)
        pick = ">=" if name == "max" else "<="
        text = items[0].text
        for item in items[1:]:
            text = f"iif({text} {pick} {item.text}, {text}, {item.text})"
        return _Value(text, NUMBER)

    def _literal(self, node: Any) -> _Value:
        if isinstance(node, re_ast.BooleanExpression):
            return _Value("true" if node.value else "false", BOOL)
        if isinstance(node, re_ast.NullExpression):
            return _Value("{}", NULL)
        if isinstance(node, re_ast.StringExpression):
            return _Value(quote(str(node.value)), TEXT)
        if isinstance(node, re_ast.FloatExpression):
            number = node.value if isinstance(node.value, Decimal) else Decimal(str(node.value))
            return _Value(_number_text(number), NUMBER)
        if isinstance(node, re_ast.ArrayExpression):
            if all(isinstance(item, re_ast.StringExpression) for item in node.value):
                return _Value("", LIST, items=tuple(quote(str(item.value)) for item in node.value))
            msg = "only lists of texts are translated"
            raise Untranslatable(msg)
        msg = f"'{type(node).__name__}' is not translated"
        raise Untranslatable(msg)


EnableAnswer = str | bool | Decimal
"""What an enableWhen compares with: an option code or text, a yes/no as a boolean, or a number."""


@dataclass(frozen=True, slots=True)
class EnableWhen:
    """One FHIR enableWhen test: question id, operator ('=' or '!='), and the answer compared with."""

    question: Question
    operator: str
    answer: EnableAnswer


def enable_when(expression: Expression, questions: Mapping[str, Question]) -> tuple[EnableWhen, ...] | None:
    """Return the plain enableWhen tests (any of them enables) for a simple comparison, else None.

    Simple means one answer compared with one literal: `answers.x == 'v'`, `answers.x != 'v'`,
    `answers.x in ['a', 'b']` (any of them) and `'v' in answers.multi`. A `??` default or an
    ordered comparison changes what a missing answer means, so those go to enableWhenExpression.
    """
    node = expression.rule.statement.expression
    try:
        if isinstance(node, re_ast.ComparisonExpression) and node.type in ("eq", "ne"):
            found = _answer_and_literal(node.left, node.right, questions)
            if found is None or found[0].type is QuestionType.MULTI:
                return None
            question, literal = found
            return (
                EnableWhen(question, "=" if node.type == "eq" else "!=", _enable_answer(question, literal)),
            )
        if isinstance(node, re_ast.ContainsExpression):
            return _enable_when_in(node, questions)
    except Untranslatable:
        return None
    return None


def _enable_when_in(node: Any, questions: Mapping[str, Question]) -> tuple[EnableWhen, ...] | None:
    """`answers.x in ['a', 'b']` (one test per literal) or `'v' in answers.multi`; else None."""
    container, member = node.container, node.member
    if isinstance(container, re_ast.ArrayExpression):
        listed = _answer_question(member, questions)
        literals = [item.value for item in container.value if isinstance(item, re_ast.StringExpression)]
        if listed is None or listed.type is QuestionType.MULTI or len(literals) != len(container.value):
            return None
        return tuple(EnableWhen(listed, "=", _enable_answer(listed, v)) for v in literals) or None
    multi = _answer_question(container, questions)
    if multi is not None and multi.type is QuestionType.MULTI and isinstance(member, re_ast.StringExpression):
        return (EnableWhen(multi, "=", str(member.value)),)
    return None


def _answer_question(node: Any, questions: Mapping[str, Question]) -> Question | None:
    if not isinstance(node, re_ast.GetAttributeExpression):
        return None
    owner = node.object
    if not (isinstance(owner, re_ast.SymbolExpression) and owner.name == "answers" and owner.scope is None):
        return None
    return questions.get(node.name)


def _answer_and_literal(
    left: Any, right: Any, questions: Mapping[str, Question]
) -> tuple[Question, Any] | None:
    for answer, literal in ((left, right), (right, left)):
        question = _answer_question(answer, questions)
        if question is not None and isinstance(literal, (re_ast.StringExpression, re_ast.FloatExpression)):
            return question, literal.value
    return None


def _enable_answer(question: Question, literal: Any) -> EnableAnswer:
    if question.type is QuestionType.YES_NO:
        if literal not in ("yes", "no"):
            msg = "a yes/no answer is compared with something other than 'yes' or 'no'"
            raise Untranslatable(msg)
        return bool(literal == "yes")
    if question.type.is_numeric:
        if not isinstance(literal, Decimal):
            msg = "a number answer is compared with text"
            raise Untranslatable(msg)
        number: Decimal = literal
        return number
    if not isinstance(literal, str):
        msg = "a choice or text answer is compared with a number"
        raise Untranslatable(msg)
    text: str = literal
    return text
