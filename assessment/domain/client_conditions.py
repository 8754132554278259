"""Translate a visible_if into a JSON condition for the browser script, and into words for pages without it.

The browser only shows and hides questions at once; the server always decides again after a post,
so a condition that cannot be translated is simply left out (the question then stays visible).

Shape of a condition (every node is a JSON object with one operator key):
- ``{"and": [c, ...]}``, ``{"or": [c, ...]}``, ``{"not": c}``
- ``{"eq": [a, b]}``, ``{"ne": [a, b]}``, ``{"lt"|"le"|"gt"|"ge": [a, b]}`` (numbers only)
- ``{"in": [member, container]}``: a value in a list (multi answer or literal list), or text in text
- ``{"empty": a}``: a multi answer with nothing ticked
- ``{"answer": "qid", "kind": "number"|"list"|"text", "default": v}``: an answer; ``default`` comes
  from ``??`` and is only present when one was written
- ``{"value": v}``: a literal (text, number, true/false, null, or a list of those)
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from rule_engine import ast as re_ast

from assessment.domain.expressions import Expression
from assessment.domain.model import Question
from assessment.domain.model import QuestionType
from assessment.domain.model import Section

Condition = dict[str, Any]
"""A JSON-ready condition node (see the module docstring)."""

Literal = str | int | float | bool | None | list[Any]

_ORDERED = ("lt", "le", "gt", "ge")


class _Untranslatable(Exception):
    """The expression uses something the browser script does not evaluate."""


def reads_same_page(question: Question, section: Section) -> bool:
    """Say whether a question's visible_if reads an answer given on the same page (the browser
    then shows or hides it as the person answers)."""
    if question.visible_if is None:
        return False
    here = {q.id for q in section.questions}
    return any(ref.namespace == "answers" and ref.name in here for ref in question.visible_if.reads)


def client_condition(expression: Expression, questions: Mapping[str, Question]) -> Condition | None:
    """Return the JSON condition for a visible_if expression, or None when it cannot be translated."""
    try:
        return _node(expression.rule.statement.expression, questions)
    except _Untranslatable:
        return None


def answer_refs(condition: Condition) -> set[str]:
    """Return the ids of every answer a condition reads."""
    found: set[str] = set()
    _collect(condition, found)
    return found


def _collect(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        if "answer" in node and isinstance(node["answer"], str):
            found.add(node["answer"])
        for key, value in node.items():
            if key != "value":
                _collect(value, found)
    elif isinstance(node, list):
        for item in node:
            _collect(item, found)


def _node(node: Any, questions: Mapping[str, Question]) -> Condition:
    """Translate one rule-engine node; raise _Untranslatable for anything unsupported."""
    if isinstance(node, re_ast.LogicExpression) and node.type in ("and", "or"):
        return {node.type: _flatten(node.type, node, questions)}
    if isinstance(node, re_ast.UnaryExpression) and node.type == "not":
        return {"not": _node(node.right, questions)}
    # FuzzyComparisonExpression (regex) is a ComparisonExpression too; the loader bans it anyway.
    if isinstance(node, re_ast.FuzzyComparisonExpression):
        raise _Untranslatable
    if isinstance(node, re_ast.ArithmeticComparisonExpression) and node.type in _ORDERED:
        return {node.type: [_node(node.left, questions), _node(node.right, questions)]}
    if isinstance(node, re_ast.ComparisonExpression) and node.type in ("eq", "ne"):
        return {node.type: [_node(node.left, questions), _node(node.right, questions)]}
    if isinstance(node, re_ast.ContainsExpression):
        return {"in": [_node(node.member, questions), _node(node.container, questions)]}
    if isinstance(node, re_ast.CoalesceExpression):
        return _coalesce(node, questions)
    if isinstance(node, re_ast.GetAttributeExpression):
        return _attribute(node, questions)
    return {"value": _literal(node)}


def _flatten(kind: str, node: Any, questions: Mapping[str, Question]) -> list[Condition]:
    """Turn nested a and (b and c) into one list, so the JSON stays flat and short."""
    out: list[Condition] = []
    for side in (node.left, node.right):
        if isinstance(side, re_ast.LogicExpression) and side.type == kind:
            out.extend(_flatten(kind, side, questions))
        else:
            out.append(_node(side, questions))
    return out


def _coalesce(node: Any, questions: Mapping[str, Question]) -> Condition:
    """Translate `answers.x ?? literal`; anything else on either side is not supported."""
    ref = _answer(node.left, questions)
    if ref is None:
        raise _Untranslatable
    ref["default"] = _literal(node.right)
    return ref


def _attribute(node: Any, questions: Mapping[str, Question]) -> Condition:
    ref = _answer(node, questions)
    if ref is not None:
        return ref
    # `answers.x.is_empty` on a multi answer: the only attribute of a value that we translate.
    if node.name == "is_empty":
        inner = _answer(node.object, questions)
        if inner is not None and inner["kind"] == "list":
            return {"empty": inner}
    raise _Untranslatable


def _answer(node: Any, questions: Mapping[str, Question]) -> Condition | None:
    """Return an answer reference for `answers.<id>`, or None for any other node."""
    if not isinstance(node, re_ast.GetAttributeExpression):
        return None
    owner = node.object
    if not isinstance(owner, re_ast.SymbolExpression) or owner.name != "answers":
        return None
    question = questions.get(node.name)
    if question is None:
        raise _Untranslatable
    return {"answer": question.id, "kind": _kind(question)}


def _kind(question: Question) -> str:
    if question.type is QuestionType.MULTI:
        return "list"
    if question.type.is_numeric:
        return "number"
    return "text"


def _literal(node: Any) -> Literal:
    """Return the JSON value of a literal node."""
    if isinstance(node, re_ast.BooleanExpression):
        return bool(node.value)
    if isinstance(node, re_ast.NullExpression):
        return None
    if isinstance(node, re_ast.StringExpression):
        return str(node.value)
    if isinstance(node, re_ast.FloatExpression):
        return _number(node.value)
    if isinstance(node, re_ast.ArrayExpression):
        return [_literal(item) for item in node.value]
    raise _Untranslatable


def _number(value: Any) -> int | float:
    """Write a rule-engine number (a Decimal) as a JSON number."""
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if not number.is_finite():
        raise _Untranslatable
    if number == number.to_integral_value():
        return int(number)
    return float(number)


def condition_cue(condition: Condition, questions: Mapping[str, Question]) -> str:
    """Say in words when a question applies, for a page without its script ('' when we cannot)."""
    phrase = _cue(condition, questions)
    return f"Answer only if {phrase}." if phrase else ""


def _quote(text: str) -> str:
    return f"\u201c{text}\u201d"


def _options_text(question: Question, values: Sequence[Any]) -> str:
    labels = [_quote(opt.label if (opt := question.option(str(v))) else str(v)) for v in values]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " or " + labels[-1]


def _cue(node: Mapping[str, Any], questions: Mapping[str, Question]) -> str:
    """Return the phrase for one condition node, or '' for anything not worth saying in words."""

    def answer(ref: Any) -> Question | None:
        return questions.get(ref["answer"]) if isinstance(ref, dict) and "answer" in ref else None

    def literal(ref: Any) -> list[Any] | None:
        if isinstance(ref, dict) and "value" in ref:
            value = ref["value"]
            return value if isinstance(value, list) else [value]
        return None

    if "and" in node:
        parts = node["and"]
        # "ticked something, but not None of these": one phrase.
        if len(parts) == 2 and "not" in parts[0] and "not" in parts[1]:
            first, second = parts[0]["not"], parts[1]["not"]
            question = answer(first.get("empty")) if "empty" in first else None
            excluded = literal(second["in"][0]) if "in" in second else None
            if question is not None and excluded and answer(second["in"][1]) is question:
                other = _options_text(question, excluded)
                return f"you ticked an answer other than {other} for {_quote(question.label)}"
        phrases = [_cue(part, questions) for part in parts]
        return " and ".join(phrases) if all(phrases) else ""
    for op, verb in (("eq", "answered"), ("ne", "did not answer")):
        if op in node:
            question, values = answer(node[op][0]), literal(node[op][1])
            if question is not None and values is not None and question.type.has_options:
                return f"you {verb} {_options_text(question, values)} to {_quote(question.label)}"
            return ""
    if "in" in node:
        left, right = node["in"]
        question, values = answer(left), literal(right)
        if question is not None and values is not None and question.type.has_options:
            return f"you answered {_options_text(question, values)} to {_quote(question.label)}"
        question, values = answer(right), literal(left)
        if question is not None and values is not None and question.type is QuestionType.MULTI:
            return f"you ticked {_options_text(question, values)} for {_quote(question.label)}"
    return ""
