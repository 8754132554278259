"""Compile checked rule-engine trees into plain Python closures, for speed at request time.

rule-engine stays the language and the checker: it parses, types and rejects expressions at load.
Its tree-walking evaluator, though, re-derives types and coerces values on every step (about 50 us
per expression here), and assess() evaluates some 70 expressions. This module turns the same tree
into nested closures with identical semantics for the subset our questionnaires use; anything
outside that subset returns None and the caller keeps rule-engine's own evaluator. A test checks
both give the same results on every expression of the real questionnaire.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from rule_engine import ast as re_ast

Env = Mapping[str, Any]
Fn = Callable[[Env], Any]

_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}
_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "tdiv": operator.truediv,
    "fdiv": operator.floordiv,
    "mod": operator.mod,
}
_BUILTINS: dict[str, Callable[..., Any]] = {"max": max, "min": min, "abs": abs, "sum": sum}


class _Unsupported(Exception):
    """The tree uses something this compiler does not translate."""


def compile_tree(node: Any) -> Fn | None:
    """Return a closure equal to evaluating the tree, or None when it cannot be translated."""
    try:
        return _compile(node)
    except _Unsupported:
        return None


def number(value: Any) -> Any:
    """Numbers are Decimals in rule-engine; give ints the same type so arithmetic matches."""
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    return value


def _compile(node: Any) -> Fn:
    if isinstance(node, re_ast.LiteralExpressionBase) and not isinstance(node, re_ast.ArrayExpression):
        if isinstance(
            node,
            (
                re_ast.StringExpression,
                re_ast.FloatExpression,
                re_ast.BooleanExpression,
                re_ast.NullExpression,
            ),
        ):
            value = node.value
            return lambda env: value
        raise _Unsupported
    if isinstance(node, re_ast.ArrayExpression):
        items = [_compile(item) for item in node.value]
        return lambda env: tuple(item(env) for item in items)
    if isinstance(node, re_ast.GetAttributeExpression):
        return _attribute(node)
    if isinstance(node, re_ast.LogicExpression):
        left, right = _compile(node.left), _compile(node.right)
        if node.type == "and":
            return lambda env: bool(left(env) and right(env))
        if node.type == "or":
            return lambda env: bool(left(env) or right(env))
        raise _Unsupported
    if isinstance(node, re_ast.ComparisonExpression) and node.type in _COMPARE:
        compare = _COMPARE[node.type]
        left, right = _compile(node.left), _compile(node.right)
        return lambda env: compare(left(env), right(env))
    if isinstance(node, re_ast.ContainsExpression):
        container, member = _compile(node.container), _compile(node.member)
        return lambda env: member(env) in container(env)
    if isinstance(node, re_ast.CoalesceExpression):
        left, right = _compile(node.left), _compile(node.right)

        def coalesce(env: Env) -> Any:
            value = left(env)
            return right(env) if value is None else value

        return coalesce
    if isinstance(node, (re_ast.AddExpression, re_ast.SubtractExpression, re_ast.ArithmeticExpression)):
        if node.type not in _ARITHMETIC:
            raise _Unsupported
        arithmetic = _ARITHMETIC[node.type]
        left, right = _compile(node.left), _compile(node.right)
        return lambda env: arithmetic(left(env), right(env))
    if isinstance(node, re_ast.TernaryExpression):
        condition, if_true, if_false = (
            _compile(node.condition),
            _compile(node.case_true),
            _compile(node.case_false),
        )
        return lambda env: if_true(env) if condition(env) else if_false(env)
    if isinstance(node, re_ast.UnaryExpression):
        right = _compile(node.right)
        if node.type == "not":
            return lambda env: not right(env)
        if node.type == "uminus":
            return lambda env: -right(env)
        raise _Unsupported
    if isinstance(node, re_ast.FunctionCallExpression):
        return _call(node)
    raise _Unsupported


def _attribute(node: Any) -> Fn:
    """answers.X, points.X, scores.X or rules.X from the records; or a list's is_empty/length."""
    target = node.object
    if not isinstance(target, re_ast.SymbolExpression):
        # Built-in attributes of a list, such as answers.foods.is_empty.
        inner = _compile(target)
        if node.name == "is_empty":
            return lambda env: len(inner(env)) == 0
        if node.name == "length":
            return lambda env: Decimal(len(inner(env)))
        raise _Unsupported
    if target.scope is not None:
        raise _Unsupported
    namespace, name = target.name, node.name
    return lambda env: env[namespace].values.get(name)


def _call(node: Any) -> Fn:
    function = node.function
    if not (isinstance(function, re_ast.SymbolExpression) and function.scope == "built-in"):
        raise _Unsupported
    builtin = _BUILTINS.get(function.name)
    if builtin is None:
        raise _Unsupported
    arguments = [_compile(argument) for argument in node.arguments]
    return lambda env: builtin(*(argument(env) for argument in arguments))
