"""JSON and YAML parsing that refuses duplicate keys.

Both formats let a later key silently replace an earlier one; in a rule that would drop a
condition without a word (`{">=": …, ">=": …}`), so authors' files are parsed strictly.
"""

from __future__ import annotations

import json
from collections.abc import Hashable
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode

__all__ = ["DuplicateKeyError", "parse_json", "parse_yaml"]


class DuplicateKeyError(ValueError):
    """A JSON object holds the same key twice."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f'duplicate key "{key}" in an object')


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise DuplicateKeyError(key)
        result[key] = value
    return result


def parse_json(text: str) -> Any:
    """Parse JSON; raises json.JSONDecodeError, or DuplicateKeyError for a repeated key."""
    return json.loads(text, object_pairs_hook=_unique_object)


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that reports a repeated mapping key with its line and column."""

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


def parse_yaml(text: str) -> Any:
    """Parse YAML safely; raises yaml.YAMLError (a marked one for a repeated key)."""
    return yaml.load(text, Loader=_UniqueKeyLoader)
