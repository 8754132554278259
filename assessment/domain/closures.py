"""Compile checked rule-engine trees into plain Python closures, for speed at request time.

rule-engine stays the language and the checker: it parses, types and rejects expressions at load.
Its tree-walking evaluator, though, re-derives types and coerces values on every step, and
assess() evaluates some 70 expressions (`make bench` compares the two). This module turns the same tree
into nested closures with identical semantics for the subset our questionnaires use; anything
outside that subset returns None and the caller keeps rule-engine's own evaluator. A test checks
both give the same results on every expression of the real questionnaire.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any

from rule_engine import ast as re_ast

from assessment.domain.model import QuestionType
from assessment.domain.model import Urgency

if TYPE_CHECKING:
    from assessment.domain.expressions import Expression
    from assessment.domain.expressions import Part
    from assessment.domain.model import Questionnaire

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


def as_decimal(value: Any) -> Decimal:
    """Turn a number that rule-engine returned into a Decimal."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        return Decimal(int(value))
    return Decimal(str(value))


def _compile(node: Any) -> Fn:
    """Return a closure equal to the checked tree; raise _Unsupported for anything else."""
    # The order of the checks is kept from one long chain: some node classes share base classes.
    if isinstance(node, re_ast.LiteralExpressionBase) and not isinstance(node, re_ast.ArrayExpression):
        return _literal(node)
    if isinstance(node, re_ast.ArrayExpression):
        return _array(node)
    if isinstance(node, re_ast.GetAttributeExpression):
        return _attribute(node)
    if isinstance(node, re_ast.LogicExpression):
        return _logic(node)
    if isinstance(node, re_ast.ComparisonExpression) and node.type in _COMPARE:
        compare = _COMPARE[node.type]
        left, right = _compile(node.left), _compile(node.right)
        return lambda env: compare(left(env), right(env))
    if isinstance(node, re_ast.ContainsExpression):
        container, member = _compile(node.container), _compile(node.member)
        return lambda env: member(env) in container(env)
    return _compile_operator(node)


def _compile_operator(node: Any) -> Fn:
    """The rest of _compile's chain: ??, arithmetic, ternary, unary and built-in calls."""
    if isinstance(node, re_ast.CoalesceExpression):
        return _coalesce(node)
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
        return _unary(node)
    if isinstance(node, re_ast.FunctionCallExpression):
        return _call(node)
    raise _Unsupported


def _literal(node: Any) -> Fn:
    """A string, number, boolean or null; other literals (datetimes, mappings) are not compiled."""
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


def _array(node: Any) -> Fn:
    """A list literal, as a tuple."""
    if all(isinstance(item, re_ast.StringExpression) for item in node.value):
        constant = tuple(item.value for item in node.value)  # built once, not per call
        return lambda env: constant
    items = [_compile(item) for item in node.value]
    return lambda env: tuple(item(env) for item in items)


def _logic(node: Any) -> Fn:
    """'and' or 'or', giving a bool as rule-engine does (not the operand Python would give)."""
    left, right = _compile(node.left), _compile(node.right)
    if node.type == "and":
        return lambda env: bool(left(env) and right(env))
    if node.type == "or":
        return lambda env: bool(left(env) or right(env))
    raise _Unsupported


def _coalesce(node: Any) -> Fn:
    """'a ?? b': the right side only when the left one is null."""
    left, right = _compile(node.left), _compile(node.right)

    def coalesce(env: Env) -> Any:
        value = left(env)
        return right(env) if value is None else value

    return coalesce


def _unary(node: Any) -> Fn:
    """'not x' or '-x'."""
    right = _compile(node.right)
    if node.type == "not":
        return lambda env: not right(env)
    if node.type == "uminus":
        return lambda env: -right(env)
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


def _builtin(node: Any) -> Callable[..., Any]:
    """The function a call node names; only rule-engine's built-ins that _BUILTINS mirrors."""
    function = node.function
    if not (isinstance(function, re_ast.SymbolExpression) and function.scope == "built-in"):
        raise _Unsupported
    builtin = _BUILTINS.get(function.name)
    if builtin is None:
        raise _Unsupported
    return builtin


def _call(node: Any) -> Fn:
    """A call of a built-in function, its arguments compiled."""
    builtin = _builtin(node)
    arguments = [_compile(argument) for argument in node.arguments]
    return lambda env: builtin(*(argument(env) for argument in arguments))


# -- Python source for the whole questionnaire ----------------------------------------------------
#
# The closures above still cost a Python call per tree node. assess() instead runs one function
# generated per questionnaire: every visible_if, formula, condition and variant inlined as a plain
# Python expression over local variables, in file order. Only text this module writes ever reaches
# compile(): operators, parentheses, keywords and names it makes up itself (a3, c1, _k7). Every
# value an author wrote (texts, numbers, question ids) is passed in as a constant of the
# function's namespace, never pasted into the source, and names come from the checked tree's
# structure; so nothing in questions.yaml can change what the generated code does beyond the
# expression the checker already accepted. The namespace has no builtins.

_OPERATORS = {
    "eq": "==",
    "ne": "!=",
    "gt": ">",
    "ge": ">=",
    "lt": "<",
    "le": "<=",
    "add": "+",
    "sub": "-",
    "mul": "*",
    "tdiv": "/",
    "fdiv": "//",
    "mod": "%",
}

Ref = Callable[[str, str], str]
"""Return the Python name holding namespace.name (such as 'a3' for answers.age)."""


class Emitter:
    """Write Python expressions for checked trees, collecting the constants they use."""

    def __init__(self) -> None:
        self.constants: dict[str, Any] = {"_Decimal": Decimal, "_len": len}
        self._temps = 0

    def constant(self, value: Any) -> str:
        """Return the name of a new constant holding value."""
        name = f"_k{len(self.constants)}"
        self.constants[name] = value
        return name

    def temp(self) -> str:
        """Return a fresh local name for an intermediate value."""
        self._temps += 1
        return f"_t{self._temps}"

    def source(self, node: Any, ref: Ref, truth: bool = False) -> str:
        """Return a parenthesised Python expression equal to the tree; raise _Unsupported if not.

        With truth=True only the result's truth value is kept (a condition), which lets 'a or b
        or c' stay one Python expression instead of a bool() call per operator.
        """
        if truth and isinstance(node, re_ast.LogicExpression) and node.type in ("and", "or"):
            return self._logic(node, ref)
        return self._emit(node, ref)

    def _logic(self, node: Any, ref: Ref) -> str:
        """'and'/'or' whose value is only tested for truth: operands need no bool() of their own."""
        sides = []
        for side in (node.left, node.right):
            if isinstance(side, re_ast.LogicExpression) and side.type in ("and", "or"):
                sides.append(self._logic(side, ref))
            else:
                sides.append(self._emit(side, ref))
        return f"({sides[0]} {node.type} {sides[1]})"

    def _emit(self, node: Any, ref: Ref) -> str:
        """Return a Python expression whose value equals the tree's; raise _Unsupported if none."""
        # The order of the checks is kept from one long chain: some node classes share base classes.
        if isinstance(node, re_ast.ArrayExpression):
            if all(isinstance(item, re_ast.StringExpression) for item in node.value):
                return self.constant(tuple(item.value for item in node.value))  # built once, not per call
            items = [self._emit(item, ref) for item in node.value]
            return "(" + "".join(f"{item}, " for item in items) + ")"
        if isinstance(node, re_ast.LiteralExpressionBase):
            literals = (re_ast.StringExpression, re_ast.FloatExpression, re_ast.BooleanExpression)
            if isinstance(node, (*literals, re_ast.NullExpression)):
                return self.constant(node.value)
            raise _Unsupported
        if isinstance(node, re_ast.GetAttributeExpression):
            return self._attribute(node, ref)
        if isinstance(node, re_ast.LogicExpression):
            if node.type not in ("and", "or"):
                raise _Unsupported
            return f"_bool{self._logic(node, ref)}"
        if isinstance(node, re_ast.ComparisonExpression) and node.type in _COMPARE:
            return f"({self._emit(node.left, ref)} {_OPERATORS[node.type]} {self._emit(node.right, ref)})"
        if isinstance(node, re_ast.ContainsExpression):
            return f"({self._emit(node.member, ref)} in {self._emit(node.container, ref)})"
        return self._emit_operator(node, ref)

    def _emit_operator(self, node: Any, ref: Ref) -> str:
        """The rest of _emit's chain: ??, arithmetic, ternary, unary and built-in calls."""
        if isinstance(node, re_ast.CoalesceExpression):
            temp = self.temp()
            left, right = self._emit(node.left, ref), self._emit(node.right, ref)
            return f"({temp} if ({temp} := {left}) is not None else {right})"
        if isinstance(node, (re_ast.AddExpression, re_ast.SubtractExpression, re_ast.ArithmeticExpression)):
            if node.type not in _ARITHMETIC:
                raise _Unsupported
            return f"({self._emit(node.left, ref)} {_OPERATORS[node.type]} {self._emit(node.right, ref)})"
        if isinstance(node, re_ast.TernaryExpression):
            condition = self._emit(node.condition, ref)
            if_true, if_false = self._emit(node.case_true, ref), self._emit(node.case_false, ref)
            return f"({if_true} if {condition} else {if_false})"
        if isinstance(node, re_ast.UnaryExpression):
            return self._unary(node, ref)
        if isinstance(node, re_ast.FunctionCallExpression):
            builtin = _builtin(node)
            arguments = ", ".join(self._emit(argument, ref) for argument in node.arguments)
            return f"{self.constant(builtin)}({arguments})"
        raise _Unsupported

    def _unary(self, node: Any, ref: Ref) -> str:
        """'not x' (whose operand is only tested for truth) or '-x'."""
        if node.type == "not":
            return f"(not {self.source(node.right, ref, truth=True)})"
        if node.type == "uminus":
            return f"(-{self._emit(node.right, ref)})"
        raise _Unsupported

    def _attribute(self, node: Any, ref: Ref) -> str:
        """answers.X and the like by the name ref gives; or a list's is_empty/length."""
        target = node.object
        if not isinstance(target, re_ast.SymbolExpression):
            inner = self._emit(target, ref)
            if node.name == "is_empty":
                return f"(_len({inner}) == 0)"
            if node.name == "length":
                return f"_Decimal(_len({inner}))"
            raise _Unsupported
        if target.scope is not None:
            raise _Unsupported
        return ref(target.name, node.name)


class _Record:
    """The record type rule-engine reads through its accessor (same shape as expressions.Record)."""

    __slots__ = ("values",)

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = values


Getter = Callable[[str, Any], Any]
PathFlags = tuple[tuple[bool, ...], tuple[bool, ...]]
RunResult = tuple[
    dict[str, Any],  # the answers on the visible path, in questionnaire order
    tuple[bool, ...],  # each section shown
    tuple[bool, ...],  # each question shown
    tuple[Any, ...],  # each question's value as expressions read it (None, () when hidden)
    tuple[Any, ...],  # each scored question's points
    tuple[Decimal, ...],  # each score's unrounded value
    tuple[bool, ...],  # each rule's condition held
    tuple[int, ...],  # the index of the variant used per rule (-1: none)
]


Why = Callable[
    [tuple[Any, ...], tuple[Any, ...], tuple[Decimal, ...], tuple[bool, ...], tuple[bool, ...]],
    tuple[Any, ...],
]
"""What the held parts of a true condition read (Expression.reads_that_held), from what run() gave:
answers, points, scores, rules, then each level reached by any fired rule (by rank)."""


@dataclass(frozen=True, slots=True)
class Plan:
    """A questionnaire's expressions as generated functions: the visible path, everything, and why."""

    source: str = field(repr=False)
    path: Callable[[Getter], PathFlags] = field(repr=False)
    run: Callable[[Getter], RunResult] = field(repr=False)
    scored: tuple[str, ...] = ()
    # Per rule, the Why of its condition then of each variant; None where rule-engine must walk it.
    why: tuple[tuple[Why | None, ...], ...] = field(default=(), repr=False)


_MISSING = object()


class _Writer:
    """Build the generated module's lines; names depend only on positions in the questionnaire."""

    def __init__(self, questionnaire: Questionnaire) -> None:
        self.q = questionnaire
        self.emit = Emitter()
        self.emit.constants.update(
            {
                "_bool": bool,
                "_isinstance": isinstance,
                "_int": int,
                "_str": str,
                "_tuple": tuple,
                "_as_decimal": as_decimal,
                "_M": _MISSING,
                "_Record": _Record,
                "_fromkeys": dict.fromkeys,
            }
        )
        self._positions: dict[int, str] = {}
        self.ids = list(questionnaire.questions)
        self.index = {qid: i for i, qid in enumerate(self.ids)}
        self.scored = [
            q.id for q in questionnaire.questions.values() if any(o.score is not None for o in q.options)
        ]
        self.score_index = {s.id: i for i, s in enumerate(questionnaire.scores)}
        self.rule_index = {r.id: i for i, r in enumerate(questionnaire.rules)}
        self.level_index = {u.value: u.rank for u in Urgency}
        self.scores_done = 0
        self.rules_done = 0
        self.points_done = False
        self.levels_started = False

    def ref(self, namespace: str, name: str) -> str:
        """Local name of a value; None for one not worked out at this point (as the records gave)."""
        if namespace == "answers" and name in self.index:
            return f"a{self.index[name]}"
        if namespace == "points" and self.points_done and name in self.index:
            return f"p{self.index[name]}" if name in self.scored else "None"
        if namespace == "scores" and self.score_index.get(name, self.scores_done) < self.scores_done:
            return f"c{self.score_index[name]}"
        if namespace == "rules" and self.rule_index.get(name, self.rules_done) < self.rules_done:
            return f"r{self.rule_index[name]}"
        if namespace == "levels" and name in self.level_index:
            # l<k>: a rule above fired at level k or a more urgent one (kept up to date rule by rule).
            return f"l{self.level_index[name]}"
        return "None"

    def why_ref(self, namespace: str, name: str) -> str:
        """A value as a why function reads it: from the complete tuples run() returned."""
        positions = {
            "answers": self.index,
            "points": {qid: i for i, qid in enumerate(self.scored)},
            "scores": self.score_index,
            "rules": self.rule_index,
            "levels": self.level_index,
        }.get(namespace, {})
        if name not in positions:
            return "None"
        # The position is a constant too, so the source holds no numbers but variants and ranks.
        position = positions[name]
        if position not in self._positions:
            self._positions[position] = self.emit.constant(position)
        return f"{_WHY_ARGUMENTS[namespace]}[{self._positions[position]}]"

    def why(self, name: str, expr: Expression) -> list[str]:
        """A function giving what a true condition's held parts read; no lines when untranslatable."""
        reads = self.emit.constant(expr.reads)
        try:
            held = reads if expr.parts is None else f"_tuple(_fromkeys({self._held(expr.parts)})) or {reads}"
        except _Unsupported:
            return []
        return [f"def {name}({', '.join(_WHY_ARGUMENTS.values())}):", f"    return {held}", ""]

    def _held(self, part: Part) -> str:
        """Python text for Part.reads_that_held: the reads of every leaf on a side that held."""
        if part.kind == "leaf":
            return self.emit.constant(part.reads)
        if part.kind == "and":
            return "(" + " + ".join(self._held(child) for child in part.children) + ")"
        sides = [
            f"({self._held(side)} if {self.emit.source(side.node, self.why_ref, truth=True)} else ())"
            for side in _alternatives(part)
        ]
        return "(" + " + ".join(sides) + ")"

    def expression(self, expr: Expression, truth: bool = True) -> str:
        """Python text for a checked expression; rule-engine's evaluator for what has no translation."""
        try:
            return self.emit.source(expr.rule.statement.expression, self.ref, truth)
        except _Unsupported:
            return f"{self.emit.constant(expr.evaluate)}({self._env()})"

    def _env(self) -> str:
        """Python text building the records rule-engine would read, from the locals so far."""

        def record(pairs: list[tuple[str, str]]) -> str:
            items = ", ".join(f"{self.emit.constant(key)}: {name}" for key, name in pairs)
            return f"_Record({{{items}}})"

        spaces = {"answers": record([(qid, self.ref("answers", qid)) for qid in self.ids])}
        if self.points_done:
            spaces["points"] = record([(qid, self.ref("points", qid)) for qid in self.scored])
        if self.scores_done or self.rules_done:
            scores = self.q.scores[: self.scores_done]
            spaces["scores"] = record([(s.id, self.ref("scores", s.id)) for s in scores])
        if self.rules_done:
            rules = self.q.rules[: self.rules_done]
            spaces["rules"] = record([(r.id, self.ref("rules", r.id)) for r in rules])
        if self.levels_started:
            spaces["levels"] = record([(name, self.ref("levels", name)) for name in self.level_index])
        return "{" + ", ".join(f"{self.emit.constant(k)}: {v}" for k, v in spaces.items()) + "}"

    def visibility(self, keep_answers: bool) -> list[str]:
        """Lines that work out the visible path, filling a<i> (and out) as questions show."""
        lines = [
            f"    a{i} = {'()' if q.type is QuestionType.MULTI else 'None'}"
            for i, q in enumerate(self.q.questions.values())
        ]
        lines += [f"    q{i} = False" for i in range(len(self.ids))]
        lines += [f"    s{i} = False" for i in range(len(self.q.sections))]
        if keep_answers:
            lines.append("    out = {}")
        for number, section in enumerate(self.q.sections):
            condition = "True" if section.visible_if is None else self.expression(section.visible_if)
            lines.append(f"    if {condition}:")
            shown = []
            for question in section.questions:
                i = self.index[question.id]
                shown.append(f"q{i}")
                condition = "True" if question.visible_if is None else self.expression(question.visible_if)
                key = self.emit.constant(question.id)
                if question.type is QuestionType.MULTI:
                    value = "x if _isinstance(x, _tuple) else ()"
                else:  # numbers are Decimals in rule-engine
                    value = "_Decimal(x) if _isinstance(x, _int) and not _isinstance(x, _bool) else x"
                lines += [
                    f"        q{i} = {condition}",
                    f"        if q{i}:",
                    f"            x = get({key}, _M)",
                    "            if x is not _M:",
                    *([f"                out[{key}] = x"] if keep_answers else []),
                    f"                a{i} = {value}",
                ]
            lines.append(f"        s{number} = {' or '.join(shown) if shown else 'False'}")
        return lines

    def flags(self) -> str:
        sections = "".join(f"s{i}, " for i in range(len(self.q.sections)))
        questions = "".join(f"q{i}, " for i in range(len(self.ids)))
        return f"({sections}), ({questions})"

    def source(self) -> str:
        """The module: path(get) and run(get)."""
        lines = ["def path(get):", *self.visibility(keep_answers=False), f"    return {self.flags()}", ""]
        lines += ["def run(get):", *self.visibility(keep_answers=True)]
        lines += self._points()
        lines += self._scores()
        lines += self._rules()

        def row(prefix: str, names: list[str] | range) -> str:
            return "(" + "".join(f"{prefix}{name}, " for name in names) + ")"

        points = "(" + "".join(f"p{self.index[qid]}, " for qid in self.scored) + ")"
        lines.append(
            f"    return out, {self.flags()}, {row('a', range(len(self.ids)))}, {points}, "
            f"{row('c', range(len(self.q.scores)))}, {row('r', range(len(self.q.rules)))}, "
            f"{row('m', range(len(self.q.rules)))}"
        )
        lines.append("")
        for number, rule in enumerate(self.q.rules):
            for slot, expr in enumerate((rule.when, *(v.when for v in rule.variants))):
                lines += self.why(_why_name(number, slot), expr)
        return "\n".join(lines) + "\n"

    def _points(self) -> list[str]:
        """p<i> = the points of each scored question's answer (the first option of a value wins)."""
        lines: list[str] = []
        for qid in self.scored:
            options: dict[str, Any] = {}
            for option in self.q.questions[qid].options:
                options.setdefault(option.value, option.score)
            i = self.index[qid]
            lines.append(
                f"    p{i} = {self.emit.constant(options)}.get(a{i}) if _isinstance(a{i}, _str) else None"
            )
        self.points_done = True
        return lines

    def _scores(self) -> list[str]:
        """c<n> = each score's formula, in file order (a later score may use an earlier one)."""
        lines: list[str] = []
        for number, score in enumerate(self.q.scores):
            lines.append(f"    c{number} = _as_decimal({self.expression(score.formula, truth=False)})")
            self.scores_done = number + 1
        return lines

    def _rules(self) -> list[str]:
        """r<n>, m<n> and l<rank>: whether each rule fired, its variant and the levels reached."""
        lines = [f"    l{rank} = False" for rank in self.level_index.values()]
        self.levels_started = True
        for number, rule in enumerate(self.q.rules):
            lines += [f"    r{number} = _bool({self.expression(rule.when)})", f"    m{number} = -1"]
            if rule.variants:
                lines.append(f"    if r{number}:")
                for index, variant in enumerate(rule.variants):
                    keyword = "if" if index == 0 else "elif"
                    lines += [
                        f"        {keyword} {self.expression(variant.when)}:",
                        f"            m{number} = {index}",
                    ]
            # The level this rule ended at (its matched variant's, else its own), by rank.
            ranks = tuple(urgency.rank for urgency, _ in rule.forms)
            lines.append(f"    if r{number}:")
            lines.append(f"        k = {self.emit.constant(ranks)}[m{number} + 1]")
            lines += [f"        l{rank} = l{rank} or k <= {rank}" for rank in self.level_index.values()]
            self.rules_done = number + 1
        return lines


def _alternatives(part: Part) -> list[Part]:
    """The sides of an 'or' with nested 'or's opened: a false 'or' has no side that held, so testing
    each side once gives what the walk gives, without testing the same side at every level."""
    return [alt for side in part.children for alt in (_alternatives(side) if side.kind == "or" else [side])]


_WHY_ARGUMENTS = {"answers": "A", "points": "P", "scores": "S", "rules": "R", "levels": "L"}


def _why_name(number: int, slot: int) -> str:
    return f"why{number}_{slot}"


def build_plan(questionnaire: Questionnaire) -> Plan:
    """Generate, compile and return the questionnaire's plan."""
    writer = _Writer(questionnaire)
    source = writer.source()
    namespace: dict[str, Any] = {**writer.emit.constants, "__builtins__": {}}
    # Safe to run: the source is text this module wrote from the checked trees alone (see above);
    # every author-written value is a constant in the namespace, which has no builtins.
    exec(compile(source, f"<plan of {questionnaire.meta.id}>", "exec"), namespace)
    why = tuple(
        tuple(namespace.get(_why_name(number, slot)) for slot in range(1 + len(rule.variants)))
        for number, rule in enumerate(questionnaire.rules)
    )
    return Plan(source, namespace["path"], namespace["run"], tuple(writer.scored), why)
