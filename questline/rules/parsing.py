"""Strict JSON and YAML parsing for authors' files and event lines.

Both formats let a later key silently replace an earlier one; in a rule that would drop a
condition without a word (`{">=": …, ">=": …}`), so repeated keys are refused. Parsed data is
also checked before anything else walks it (:func:`check_tree`): nesting deeper than a limit
(deep enough input makes the parsers themselves fail), NaN and Infinity (Python's JSON reader
accepts them, and ``1e400`` becomes Infinity, but they are not JSON) and lone surrogates
(``"\\ud800"``: not Unicode, so no database can store them). YAML aliases (``*name``) are
refused: they can make a small file expand into an enormous or self-containing document.
YAML reads what looks like a date (``2026-12-31``) as text, as JSON would have it; a value
JSON has no type for (``!!timestamp``, ``!!binary``, ``!!set``) is refused.
"""

from __future__ import annotations

import json
import math
from collections.abc import Hashable
from typing import Any, ClassVar

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode

from questline.plain_errors import shortened

__all__ = [
    "BOM",
    "DuplicateKeyError",
    "TreeError",
    "check_tree",
    "nesting_problem",
    "parse_json",
    "parse_yaml",
    "utf8_problem",
    "without_bom",
]

BOM = "\ufeff"
"""The byte order mark some Windows tools write at the start of a UTF-8 file."""


class DuplicateKeyError(ValueError):
    """A JSON object holds the same key twice."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f'duplicate key "{key}" in an object')


class TreeError(ValueError):
    """Parsed data holds something refused; ``pointer`` (RFC 6901) says where, "" for the top."""

    def __init__(self, pointer: str, problem: str) -> None:
        self.pointer = pointer
        self.problem = problem
        super().__init__(f"{pointer}: {problem}" if pointer else problem)


def utf8_problem(reason: str, offset: int) -> str:
    """The message for a file that is not UTF-8 text: the decoder's reason, and the offset of
    the first bad byte from the start of the file."""
    return f"not UTF-8 text ({reason} at byte {offset})"


def nesting_problem(max_depth: int) -> str:
    """The message for data nested deeper than ``max_depth`` objects and lists."""
    return f"nested more than {max_depth} levels deep"


def without_bom(text: str) -> str:
    """``text`` without a byte order mark at its very start (one anywhere else stays)."""
    return text.removeprefix(BOM)


def _escape(key: object) -> str:
    # a lone surrogate in a key is shown as its escape: the pointer must stay printable
    text = shortened(str(key)).encode("utf-8", "backslashreplace").decode("utf-8")
    return text.replace("~", "~0").replace("/", "~1")


def _text_problem(text: str) -> str | None:
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        code = ord(text[error.start])
        return f"text holds a lone surrogate (U+{code:04X}), which is not Unicode"
    return None


_JSON_SCALARS = (str, bool, int, float, type(None))


def _kind(node: object) -> str:
    names = {"date": "a date", "datetime": "a date and time", "bytes": "binary data"}
    return names.get(type(node).__name__, f"a {type(node).__name__}")


def check_tree(value: Any, max_depth: int) -> None:
    """Raise :class:`TreeError` at the first refused place of ``value``, in document order.

    Objects and lists may nest ``max_depth`` levels (the outermost one is level 1); numbers
    must be finite; keys and strings must be Unicode (no lone surrogates).
    """
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        node, pointer, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth == max_depth:
                raise TreeError(pointer, nesting_problem(max_depth))
            items = list(node.items() if isinstance(node, dict) else enumerate(node))
            for key, child in reversed(items):
                where = f"{pointer}/{_escape(key)}"
                problem = _text_problem(key) if isinstance(key, str) else None
                if problem is not None:
                    raise TreeError(where, f"key {problem}")
                stack.append((child, where, depth + 1))
        elif not isinstance(node, _JSON_SCALARS):
            raise TreeError(pointer, f"{_kind(node)} is not a JSON value; write it as text")
        elif isinstance(node, float) and not math.isfinite(node):
            name = "NaN" if math.isnan(node) else "Infinity" if node > 0 else "-Infinity"
            raise TreeError(pointer, f"{name} is not a JSON number; numbers must be finite")
        elif isinstance(node, str) and (problem := _text_problem(node)) is not None:
            raise TreeError(pointer, problem)


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise DuplicateKeyError(key)
        result[key] = value
    return result


_TIMESTAMP = "tag:yaml.org,2002:timestamp"


def parse_json(text: str, max_depth: int) -> Any:
    """Parse JSON and :func:`check_tree` it.

    Raises json.JSONDecodeError, DuplicateKeyError for a repeated key, or TreeError.
    """
    try:
        data = json.loads(text, object_pairs_hook=_unique_object)
    except RecursionError:
        raise TreeError("", nesting_problem(max_depth)) from None
    check_tree(data, max_depth)
    return data


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses repeated keys, aliases and deep nesting, with line and column,
    and reads dates as text."""

    max_depth = 0
    _depth = 0
    yaml_implicit_resolvers: ClassVar[dict[Any, list[tuple[Any, Any]]]] = {
        first: [(tag, pattern) for tag, pattern in resolvers if tag != _TIMESTAMP]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def compose_node(self, parent: Node | None, index: object) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            raise ComposerError(
                None,
                None,
                "aliases (*name) are not supported; write the value out",
                self.peek_event().start_mark,
            )
        if not self.check_event(yaml.MappingStartEvent, yaml.SequenceStartEvent):
            return super().compose_node(parent, index)
        if self._depth == self.max_depth:
            mark = self.peek_event().start_mark
            raise ComposerError(None, None, nesting_problem(self.max_depth), mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, KeyError, AttributeError, TypeError, OverflowError):
            # an explicit tag on a value it cannot read (`!!timestamp x`, `!!int abc`)
            shown = f" {shortened(str(node.value))!r}" if isinstance(node, ScalarNode) else ""
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            raise ConstructorError(
                None, None, f"{tag} cannot read the value{shown}", node.start_mark
            ) from None

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[Hashable] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, Hashable) and key in seen:
                raise ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f'duplicate key "{key}"',
                    key_node.start_mark,
                )
            if isinstance(key, Hashable):
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def parse_yaml(text: str, max_depth: int) -> Any:
    """Parse YAML safely and :func:`check_tree` it.

    Raises yaml.YAMLError (a marked one, with line and column, for a repeated key, an alias or
    nesting deeper than ``max_depth``) or TreeError.
    """
    loader = _StrictLoader(text)
    loader.max_depth = max_depth
    try:
        data = loader.get_single_data()
    finally:
        loader.dispose()
    check_tree(data, max_depth)
    return data
