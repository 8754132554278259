"""A thin, strict wrapper around rule-engine for visible_if, score formulas and rule conditions."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import NamedTuple

import rule_engine
from rule_engine import ast as re_ast
from rule_engine import errors as re_errors

from assessment.domain.closures import Fn
from assessment.domain.closures import as_decimal as as_decimal  # re-exported: it lived here
from assessment.domain.closures import compile_tree
from assessment.domain.model import Question
from assessment.domain.model import QuestionType
from assessment.domain.model import Urgency

D = rule_engine.DataType

NAMESPACES = ("answers", "points", "scores", "rules")
"""The names an expression can read: answers.ID, points.ID, scores.ID and rules.ID."""


class Record:
    """A small record read through an accessor: rule-engine would re-coerce a whole dict per lookup."""

    __slots__ = ("values",)

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = values


def _read(record: Record, name: str) -> Any:
    return record.values.get(name)


class Ref(NamedTuple):
    """One name an expression reads, such as ('answers', 'age').

    A named tuple, so hashing one (a "why" list drops repeats on every results page) runs in C.
    `option` is set only where a part of a condition tests one option of a multiple-choice answer
    ('liver' in answers.conditions): "why you see this" then names that option, not every one ticked.
    `absent` marks a test that the option was not ticked (not 'coeliac' in answers.conditions).
    """

    namespace: str
    name: str
    option: str | None = None
    absent: bool = False


@dataclass(frozen=True, slots=True)
class Part:
    """A condition split at 'and'/'or', each part compiled, so a fired rule can say which parts held."""

    kind: str
    fn: Fn = field(repr=False, compare=False)
    reads: tuple[Ref, ...] = ()
    children: tuple[Part, ...] = ()
    node: Any = field(default=None, repr=False, compare=False)  # the tree, for generated code

    def reads_that_held(self, env: Mapping[str, Record]) -> list[Ref]:
        """Names read by the parts that were true (this part is known to be true)."""
        if self.kind == "or":
            return [ref for child in self.children if child.fn(env) for ref in child.reads_that_held(env)]
        if self.kind == "and":
            return [ref for child in self.children for ref in child.reads_that_held(env)]
        return list(self.reads)


@dataclass(frozen=True, slots=True)
class Expression:
    """A checked expression, ready to evaluate, that knows what it reads."""

    source: str
    rule: rule_engine.Rule = field(repr=False, compare=False)
    reads: tuple[Ref, ...] = ()
    parts: Part | None = field(default=None, repr=False, compare=False)

    def evaluate(self, env: Mapping[str, Record]) -> Any:
        """Evaluate against records for answers, points, scores and rules."""
        if self.parts is not None:
            return self.parts.fn(env)
        return self.rule.evaluate(env)

    def matches(self, env: Mapping[str, Record]) -> bool:
        """Evaluate as a condition."""
        return bool(self.evaluate(env))

    def reads_that_held(self, env: Mapping[str, Record]) -> tuple[Ref, ...]:
        """For a condition that holds, the names read by the parts of it that were true.

        In 'a or b' only the true side explains why a rule fired: listing what the false side
        read ("blood: none") would only add noise to "why you see this".
        """
        if self.parts is None:
            return self.reads
        return tuple(dict.fromkeys(self.parts.reads_that_held(env))) or self.reads


class ExpressionProblem(Exception):
    """An expression an author wrote cannot be used; the message says why in plain words."""


@dataclass(frozen=True, slots=True)
class Schema:
    """What expressions may read, with types: built once from the questionnaire."""

    questions: Mapping[str, Question]
    score_ids: tuple[str, ...]
    rule_ids: tuple[str, ...]
    context: rule_engine.Context = field(repr=False, compare=False)


def build_schema(
    questions: Mapping[str, Question], score_ids: Sequence[str], rule_ids: Sequence[str]
) -> Schema:
    """Build the typed schema: every answer may be missing, so non-list answers are NULLABLE."""
    answer_types: dict[str, Any] = {}
    point_types: dict[str, Any] = {}
    for qid, question in questions.items():
        answer_types[qid] = _answer_type(question)
        if any(opt.score is not None for opt in question.options):
            point_types[qid] = D.NULLABLE(D.FLOAT)
    types = {
        "answers": D.OBJECT("answers", attributes=answer_types, accessor=_read),
        "points": D.OBJECT("points", attributes=point_types, accessor=_read),
        "scores": D.OBJECT("scores", attributes={s: D.FLOAT for s in score_ids}, accessor=_read),
        "rules": D.OBJECT("rules", attributes={r: D.BOOLEAN for r in rule_ids}, accessor=_read),
        # levels.soon: a rule above fired at soon or a more urgent level (likewise for each level).
        "levels": D.OBJECT("levels", attributes={u.value: D.BOOLEAN for u in Urgency}, accessor=_read),
    }
    context = rule_engine.Context(type_resolver=rule_engine.type_resolver_from_dict(types))
    return Schema(questions, tuple(score_ids), tuple(rule_ids), context)


def _answer_type(question: Question) -> Any:
    if question.type is QuestionType.MULTI:
        return D.ARRAY(D.STRING)
    if question.type.is_numeric:
        return D.NULLABLE(D.FLOAT)
    return D.NULLABLE(D.STRING)


def compile_expression(source: object, schema: Schema) -> Expression:
    """Parse and check an expression; raise ExpressionProblem with a helpful message."""
    if isinstance(source, (int, float)) and not isinstance(source, bool):
        source = str(source)
    if not isinstance(source, str) or not source.strip():
        message = "the expression must be a non-empty text"
        raise ExpressionProblem(message)
    text = " ".join(source.split())
    try:
        rule = rule_engine.Rule(text, context=schema.context)
    except re_errors.AttributeResolutionError as exc:
        raise ExpressionProblem(_unknown_name(exc, schema)) from None
    except re_errors.SymbolResolutionError as exc:
        message = f"unknown name '{exc.symbol_name}': use one of {', '.join(NAMESPACES)}"
        raise ExpressionProblem(message) from None
    except re_errors.RuleSyntaxError as exc:
        token = getattr(exc.token, "value", None)
        where = f" near '{token}'" if token is not None else " (it ends too early)"
        message = f"syntax error{where}"
        raise ExpressionProblem(message) from None
    except re_errors.EngineError as exc:
        raise ExpressionProblem(_type_message(exc)) from None
    nodes = list(_walk(rule.statement.expression))
    reads = tuple(dict.fromkeys(ref for node in nodes if (ref := _ref(node)) is not None))
    for node in nodes:
        _check_node(node, schema)
    return Expression(text, rule, reads, _split(rule.statement.expression))


def _split(node: Any) -> Part | None:
    """Compile the tree into parts split at and/or; None when the compiler cannot translate it.

    Built bottom-up, so each node is compiled and walked once (recompiling every subtree at each
    level made load time grow with the square of a condition's length).
    """
    if isinstance(node, re_ast.LogicExpression) and node.type in ("and", "or"):
        left, right = _split(node.left), _split(node.right)
        if left is not None and right is not None:
            reads = tuple(dict.fromkeys(left.reads + right.reads))
            return Part(node.type, _join(node.type, left.fn, right.fn), reads, (left, right), node)
    leaf = compile_tree(node)
    if leaf is None:
        return None
    tested = _tested_options(node)
    if tested:
        return Part("leaf", leaf, tested, node=node)
    reads = tuple(dict.fromkeys(ref for part in _walk(node) if (ref := _ref(part)) is not None))
    return Part("leaf", leaf, reads, node=node)


def _tested_options(node: Any) -> tuple[Ref, ...]:
    """For "'x' in answers.q", the answer read with the option it tests; for "not ('x' in answers.q
    or 'y' in answers.q)", each option it needs unticked. Empty for any other part.

    Only a true part explains a rule. The first is true only when x was ticked, so x is what to
    show; the second only when neither was, so "not x or y" is.
    """
    if isinstance(node, re_ast.UnaryExpression) and node.type == "not":
        options = _options_tested(node.right)
        names = {ref.name for ref in options}
        if len(names) != 1:  # tests of two answers: "not (a or b)" has no one answer to show
            return ()
        return tuple(ref._replace(absent=True) for ref in options)
    return _options_tested(node) if isinstance(node, re_ast.ContainsExpression) else ()


def _options_tested(node: Any) -> tuple[Ref, ...]:
    """The options "'x' in answers.q", or an 'or' of such tests, look for; empty for anything else."""
    if isinstance(node, re_ast.LogicExpression) and node.type == "or":
        left, right = _options_tested(node.left), _options_tested(node.right)
        return left + right if left and right else ()
    if isinstance(node, re_ast.ContainsExpression) and isinstance(node.member, re_ast.StringExpression):
        ref = _ref(node.container)
        if ref is not None and ref.namespace == "answers":
            return (Ref(ref.namespace, ref.name, node.member.value),)
    return ()


def _join(kind: str, left: Fn, right: Fn) -> Fn:
    """The closure compile_tree makes for 'left and right' or 'left or right'."""
    if kind == "and":
        return lambda env: bool(left(env) and right(env))
    return lambda env: bool(left(env) or right(env))


def _unknown_name(exc: re_errors.AttributeResolutionError, schema: Schema) -> str:
    name = str(exc.attribute_name)
    known = list(schema.questions) + list(schema.score_ids) + list(schema.rule_ids)
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    if name in schema.questions:
        return f"'{name}' has no option scores, so points.{name} does not exist"
    return f"unknown answer, score or rule '{name}'{hint}"


def _type_message(exc: re_errors.EngineError) -> str:
    text = str(exc.message) if exc.message else type(exc).__name__
    if "nullable" in text:
        return (
            "an answer may be missing, so give a default with ?? before comparing or "
            "calculating, e.g. (answers.age ?? 0) >= 50"
        )
    return f"the expression does not fit together: {text}"


def _walk(node: Any) -> Iterator[Any]:
    """Yield every node of a rule-engine expression tree (children live in slots or __dict__)."""
    yield node
    names = [slot for cls in type(node).__mro__ for slot in getattr(cls, "__slots__", ())]
    names += list(getattr(node, "__dict__", {}))
    for name in dict.fromkeys(names):
        if name == "context":
            continue
        child = getattr(node, name, None)
        if isinstance(child, re_ast.ExpressionBase):
            yield from _walk(child)
        elif isinstance(child, (tuple, list)):
            for item in child:
                if isinstance(item, re_ast.ExpressionBase):
                    yield from _walk(item)


def _ref(node: Any) -> Ref | None:
    if isinstance(node, re_ast.GetAttributeExpression) and isinstance(node.object, re_ast.SymbolExpression):
        if node.object.name in NAMESPACES:
            return Ref(node.object.name, node.name)
    return None


def _answer_ref(node: Any, schema: Schema) -> Question | None:
    ref = _ref(node)
    if ref is not None and ref.namespace == "answers":
        return schema.questions.get(ref.name)
    return None


def _check_node(node: Any, schema: Schema) -> None:
    if isinstance(node, re_ast.FuzzyComparisonExpression):
        message = (
            "regular-expression operators (=~, =~~, !~, !~~) are not allowed: compare with == or 'in' instead"
        )
        raise ExpressionProblem(message)
    if isinstance(node, re_ast.ComparisonExpression) and node.type in ("eq", "ne"):
        _check_pair(node.left, node.right, schema)
        _check_pair(node.right, node.left, schema)
    elif isinstance(node, re_ast.ArithmeticComparisonExpression):
        _check_pair(node.left, node.right, schema)
        _check_pair(node.right, node.left, schema)
    elif isinstance(node, re_ast.ContainsExpression):
        question = _answer_ref(node.container, schema)
        if question is not None:
            _check_literal(question, node.member)
        question = _answer_ref(node.member, schema)
        if question is not None and isinstance(node.container, re_ast.ArrayExpression):
            for item in node.container.value:
                _check_literal(question, item)


def _check_pair(side: Any, other: Any, schema: Schema) -> None:
    question = _answer_ref(side, schema)
    if question is not None:
        _check_literal(question, other)


def _check_literal(question: Question, literal: Any) -> None:
    """Reject a text literal that is not an option of the question it is compared with."""
    if isinstance(literal, re_ast.StringExpression):
        if question.type.is_numeric or question.type is QuestionType.TEXT:
            if question.type.is_numeric:
                message = (
                    f"'{question.id}' is a number question, but it is compared with the text "
                    f"'{literal.value}'"
                )
                raise ExpressionProblem(message)
            return
        values = [opt.value for opt in question.options]
        if literal.value not in values:
            close = difflib.get_close_matches(str(literal.value), values, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            message = (
                f"'{literal.value}' is not an option of '{question.id}'{hint}; "
                f"valid values: {', '.join(values)}"
            )
            raise ExpressionProblem(message)
    elif isinstance(literal, re_ast.FloatExpression) and question.type.has_options:
        message = (
            f"'{question.id}' is answered by choosing an option, but it is compared with the "
            f"number {literal.value}"
        )
        raise ExpressionProblem(message)
