"""Safe YAML loading that keeps line numbers and refuses duplicate keys."""

from __future__ import annotations

from typing import Any

import yaml

from assessment.domain.errors import Problem

# Unquoted words that YAML 1.1 turns into true/false although an author usually meant text.
BOOLEAN_WORDS = frozenset(w.lower() for w in ("yes", "no", "on", "off", "y", "n", "true", "false"))


# libyaml's C parser is about 10x faster than the pure-Python one and keeps the same marks.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Invalid:
    """Stands for a value that was already reported as a problem, so readers stay quiet about it."""

    def __repr__(self) -> str:
        return "<invalid>"


INVALID = Invalid()

_PLAIN_TAGS = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})


class LineMap(dict[str, Any]):
    """A YAML mapping that remembers its own line, each key's line and each scalar's source text."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[str, int] = {}
        self.raw: dict[str, str] = {}

    def line_of(self, key: str) -> int:
        """Return the line of a key, or of the mapping when the key is absent."""
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    """A YAML sequence that remembers its own line and each item's line."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []
        self.raw: list[str] = []


def load_yaml(text: str, filename: str) -> tuple[Any, list[Problem]]:
    """Parse YAML safely into LineMap/LineList trees; return the tree and any problems found."""
    loader = _SafeLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        what = exc.problem or "this is not valid YAML"
        return None, [Problem(filename, line, f"YAML syntax error: {what}")]
    except yaml.YAMLError as exc:
        return None, [Problem(filename, 1, f"YAML syntax error: {exc}")]
    finally:
        loader.dispose()
    if node is None:
        return None, [Problem(filename, 1, "the file is empty")]
    problems: list[Problem] = []
    tree = _convert(node, loader, filename, problems)
    return tree, problems


def _convert(node: yaml.Node, loader: Any, filename: str, problems: list[Problem]) -> Any:
    line = node.start_mark.line + 1
    if not isinstance(node, yaml.ScalarNode) and node.tag not in _PLAIN_TAGS:
        problems.append(Problem(filename, line, f"unsupported YAML tag: {node.tag}"))
        return INVALID
    if isinstance(node, yaml.MappingNode):
        mapping = LineMap(line)
        for key_node, value_node in node.value:
            key = _scalar(key_node, loader, filename, problems)
            key_line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                problems.append(Problem(filename, key_line, f"key {key!r} must be a word"))
                continue
            if key in mapping:
                first = mapping.key_lines[key]
                problems.append(
                    Problem(filename, key_line, f"duplicate key '{key}' (first given on line {first})")
                )
                continue
            mapping[key] = _convert(value_node, loader, filename, problems)
            mapping.key_lines[key] = key_line
            if isinstance(value_node, yaml.ScalarNode):
                mapping.raw[key] = str(value_node.value)
        return mapping
    if isinstance(node, yaml.SequenceNode):
        seq = LineList(line)
        for item in node.value:
            seq.append(_convert(item, loader, filename, problems))
            seq.item_lines.append(item.start_mark.line + 1)
            seq.raw.append(str(item.value) if isinstance(item, yaml.ScalarNode) else "")
        return seq
    return _scalar(node, loader, filename, problems)


def _scalar(node: yaml.Node, loader: Any, filename: str, problems: list[Problem]) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        problems.append(Problem(filename, node.start_mark.line + 1, "a key must be a plain word"))
        return None
    try:
        return loader.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError as exc:
        # SafeLoader refuses tags such as !!python/object: report it instead of crashing.
        problems.append(Problem(filename, node.start_mark.line + 1, f"unsupported YAML tag: {exc.problem}"))
        return None
