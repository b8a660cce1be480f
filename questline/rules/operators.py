"""Custom JsonLogic operators: a registry of Python callables rules may call like built-ins.

A custom operator receives its arguments already evaluated (JSON values, positionally) and
returns a JSON value::

    registry = OperatorRegistry()

    @registry.operator("clamp")
    def clamp(value, low, high):
        return max(low, min(high, value))

    # a rule may now say {"clamp": [{"var": "event.score"}, 0, 100]}

Names that clash with a built-in operator are refused (a built-in would always win).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["CustomOperator", "OperatorRegistry"]

OPERATOR_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:-]*$")


@dataclass(frozen=True, slots=True)
class CustomOperator:
    """One registered operator: its name, the callable and a one-line description."""

    name: str
    func: Callable[..., Any]
    description: str = ""

    def call_json(self, args_json: str) -> str:
        """The adapter the evaluation backend calls: JSON array of args in, JSON value out."""
        args = json.loads(args_json)
        if not isinstance(args, list):
            args = [args]
        return json.dumps(self.func(*args), allow_nan=False)


class OperatorRegistry:
    """Name → :class:`CustomOperator`. Plugins register their operators here."""

    def __init__(self) -> None:
        self._ops: dict[str, CustomOperator] = {}
        self.version = 0  # bumped on every change, so evaluators can notice

    def register(
        self, name: str, func: Callable[..., Any], *, description: str = ""
    ) -> CustomOperator:
        """Register ``func`` as operator ``name``; built-in and duplicate names are errors."""
        from questline.rules.evaluation import builtin_operator_names

        if not OPERATOR_NAME_RE.match(name):
            raise ValueError(
                f"operator name {name!r} must start with a letter or underscore and hold only "
                "letters, digits, '_', '.', ':' or '-'"
            )
        if name in builtin_operator_names():
            raise ValueError(f'operator "{name}" clashes with the built-in JsonLogic operator')
        if name in self._ops:
            raise ValueError(f'operator "{name}" is already registered')
        if not callable(func):
            raise TypeError(f'operator "{name}" must be callable')
        op = CustomOperator(name, func, description or (func.__doc__ or "").strip().split("\n")[0])
        self._ops[name] = op
        self.version += 1
        return op

    def operator(
        self, name: str, *, description: str = ""
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator form of :meth:`register`."""

        def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
            self.register(name, func, description=description)
            return func

        return decorate

    def get(self, name: str) -> CustomOperator | None:
        return self._ops.get(name)

    def names(self) -> list[str]:
        return sorted(self._ops)

    def __contains__(self, name: object) -> bool:
        return name in self._ops

    def __iter__(self) -> Iterator[CustomOperator]:
        return iter(sorted(self._ops.values(), key=lambda op: op.name))

    def __len__(self) -> int:
        return len(self._ops)

    def json_callables(self) -> dict[str, Callable[[str], str]]:
        """The registry in the backend's calling convention (JSON text in and out)."""
        return {name: op.call_json for name, op in self._ops.items()}
