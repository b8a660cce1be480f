"""Static analysis of rule criteria: which facts they read, which events can change them, and
how far a learner is from a threshold rule (progress).

Pure Python; knows JsonLogic's shape but never evaluates through the backend.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from questline.rules.facts import MISSING, FactCatalog, FactType, lookup_fact
from questline.rules.vocabulary import ActivityType

__all__ = [
    "FactRead",
    "ProgressPart",
    "RuleProgress",
    "Threshold",
    "affected_by",
    "escape_pointer",
    "fact_reads",
    "progress",
    "threshold_parts",
]

# Operators whose arguments after the first are evaluated once per item of the first
# (inside them, {"var": ...} reads the current item, not the facts document).
ITERATING_OPERATORS = frozenset({"map", "filter", "reduce", "all", "some", "none", "sort"})
COMPARISONS = frozenset({"==", "===", "!=", "!==", "<", "<=", ">", ">="})
_MIRROR = {">=": "<=", "<=": ">=", ">": "<", "<": ">", "==": "==", "===": "==="}
_THRESHOLD_OPS = frozenset({">=", ">", "==", "==="})


def escape_pointer(token: str | int) -> str:
    """One RFC 6901 reference token."""
    return str(token).replace("~", "~0").replace("/", "~1")


def operator_call(node: Any) -> tuple[str, Any] | None:
    """``(operator, argument)`` if ``node`` is an operator call (a one-key object)."""
    if isinstance(node, dict) and len(node) == 1:
        ((op, arg),) = node.items()
        return op, arg
    return None


def arguments(arg: Any) -> list[Any]:
    """An operator's argument list (a lone non-list argument is one argument)."""
    return arg if isinstance(arg, list) else [arg]


@dataclass(frozen=True, slots=True)
class FactRead:
    """One read of the facts document found in criteria.

    ``name`` is the dotted path (``None`` when ``computed``: the path is only known at run time);
    ``pointer`` is the RFC 6901 pointer of the read's operator node within the criteria;
    ``operator`` the reading operator (``var``, ``val``, ``missing``, ...).
    """

    name: str | None
    pointer: str
    operator: str
    computed: bool = False


def _literal_path(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def fact_reads(criteria: Any, pointer: str = "") -> Iterator[FactRead]:
    """Every read of the facts document in ``criteria`` (reads of iterated items excluded)."""
    yield from _walk(criteria, pointer)


def _walk(node: Any, ptr: str) -> Iterator[FactRead]:
    if isinstance(node, list):
        for i, item in enumerate(node):
            yield from _walk(item, f"{ptr}/{i}")
        return
    call = operator_call(node)
    if call is None:
        if isinstance(node, dict):
            for key, item in node.items():
                yield from _walk(item, f"{ptr}/{escape_pointer(key)}")
        return
    op, arg = call
    here = f"{ptr}/{escape_pointer(op)}"
    args = arguments(arg)
    arg_ptr = (lambda i: f"{here}/{i}") if isinstance(arg, list) else (lambda i: here)
    if op == "var":
        path = args[0] if args else ""
        if path is None:
            path = ""
        literal = _literal_path(path)
        if literal is None:
            yield FactRead(None, ptr, op, computed=True)
            yield from _walk(path, arg_ptr(0))
        else:
            yield FactRead(literal, ptr, op)
        for i, extra in enumerate(args[1:], start=1):
            yield from _walk(extra, arg_ptr(i))
        return
    if op in ("val", "exists"):
        if args and isinstance(args[0], list):  # scope-relative access: not the document
            return
        segments = [_literal_path(a) for a in args]
        if any(s is None for s in segments):
            yield FactRead(None, ptr, op, computed=True)
            for i, a in enumerate(args):
                yield from _walk(a, arg_ptr(i))
        else:
            yield FactRead(".".join(s for s in segments if s is not None), ptr, op)
        return
    if op in ("missing", "missing_some"):
        names_arg, names_ptr = (args, here) if op == "missing" else (None, None)
        if op == "missing_some":
            if len(args) >= 2:
                yield from _walk(args[0], arg_ptr(0))
                names_arg, names_ptr = args[1], arg_ptr(1)
            else:
                return
        names = names_arg if isinstance(names_arg, list) else [names_arg]
        for i, name in enumerate(names):
            literal = _literal_path(name)
            item_ptr = f"{names_ptr}/{i}" if isinstance(names_arg, list) else names_ptr
            if literal is None:
                yield FactRead(None, item_ptr, op, computed=True)
                yield from _walk(name, item_ptr)
            else:
                yield FactRead(literal, item_ptr, op)
        return
    if op in ITERATING_OPERATORS:
        if args:
            yield from _walk(args[0], arg_ptr(0))
        return
    for i, a in enumerate(args):
        yield from _walk(a, arg_ptr(i))


def affected_by(reads: Iterable[str], catalog: FactCatalog) -> frozenset[ActivityType]:
    """The activity types whose events can change a rule reading ``reads``.

    A rule that reads nothing is affected by every activity type (it is decided on the first
    event); so is one reading an unknown name.
    """
    names = list(reads)
    if not names:
        return frozenset(ActivityType)
    return catalog.changed_by(names)


# -- thresholds and progress ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Threshold:
    """``fact op constant`` with ``op`` one of ``>=``, ``>``, ``==`` (operands normalised)."""

    fact: str
    op: str
    constant: int | float
    pointer: str


@dataclass(frozen=True, slots=True)
class ProgressPart:
    """One threshold's state: ``current`` of ``target`` (``ratio`` in [0, 1])."""

    fact: str
    op: str
    current: int | float
    target: int | float
    ratio: float
    satisfied: bool
    pointer: str

    @property
    def missing(self) -> int | float:
        """How much ``current`` must still grow (0 when satisfied or overshot)."""
        return max(self.target - self.current, 0) if not self.satisfied else 0


@dataclass(frozen=True, slots=True)
class RuleProgress:
    """Progress towards a threshold rule: its parts and the overall ratio (min of parts)."""

    parts: tuple[ProgressPart, ...]
    ratio: float

    @property
    def complete(self) -> bool:
        return self.ratio >= 1.0


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _var_name(node: Any) -> str | None:
    call = operator_call(node)
    if call is None or call[0] != "var":
        return None
    args = arguments(call[1])
    if len(args) != 1:
        return None
    return args[0] if isinstance(args[0], str) and args[0] else None


def _threshold(node: Any, ptr: str) -> Threshold | None:
    call = operator_call(node)
    if call is None or call[0] not in _MIRROR or not isinstance(call[1], list):
        return None
    op, args = call
    if len(args) != 2:
        return None
    left, right = args
    if (fact := _var_name(left)) is not None and _is_number(right):
        rel, const = op, right
    elif (fact := _var_name(right)) is not None and _is_number(left):
        rel, const = _MIRROR[op], left
    else:
        return None
    if rel not in _THRESHOLD_OPS:
        return None
    if not math.isfinite(const):
        return None
    return Threshold(fact, ">=" if rel == ">=" else ">" if rel == ">" else rel, const, ptr)


def _conjuncts(node: Any, ptr: str) -> Iterator[tuple[Any, str]]:
    call = operator_call(node)
    if call is not None and call[0] == "and" and isinstance(call[1], list):
        for i, child in enumerate(call[1]):
            yield from _conjuncts(child, f"{ptr}/and/{i}")
    else:
        yield node, ptr


def threshold_parts(criteria: Any, catalog: FactCatalog | None = None) -> list[Threshold] | None:
    """The thresholds of a threshold rule, or ``None`` if the criteria have another shape.

    A threshold rule is a comparison ``>=``, ``>``, ``==`` (or ``<=``/``<`` with the fact on
    the right) of a numeric fact against a number, or an ``and`` of such comparisons.
    """
    call = operator_call(criteria)
    if call is not None and call[0] == "and" and not (isinstance(call[1], list) and call[1]):
        return None
    parts: list[Threshold] = []
    for node, ptr in _conjuncts(criteria, ""):
        part = _threshold(node, ptr)
        if part is None:
            return None
        if catalog is not None:
            spec = catalog.get(part.fact)
            if spec is None or not spec.type.is_numeric:
                return None
        parts.append(part)
    return parts or None


_BELOW_ONE = math.nextafter(1.0, 0.0)


def _numeric_current(value: Any) -> int | float | None:
    if value is MISSING or value is None:
        return 0  # JsonLogic compares null as 0
    if isinstance(value, bool):
        return int(value)
    if _is_number(value):
        return value
    return None


def _part_progress(
    part: Threshold, facts: Mapping[str, Any], catalog: FactCatalog | None
) -> ProgressPart | None:
    raw = lookup_fact(facts, part.fact)
    current = _numeric_current(raw)
    if current is None:
        return None
    spec = catalog.get(part.fact) if catalog is not None else None
    integral = (spec.type is FactType.INT) if spec is not None else isinstance(current, int)
    const = part.constant
    if part.op == ">=":
        target: int | float = math.ceil(const) if integral else const
        satisfied = current >= const
    elif part.op == ">":
        target = math.floor(const) + 1 if integral else const
        satisfied = current > const
    else:  # == / ===
        target = const
        strict_null = part.op == "===" and (raw is None or raw is MISSING)
        satisfied = current == const and not strict_null and not isinstance(raw, bool)
    if isinstance(target, float) and target.is_integer():
        target = int(target)
    if satisfied:
        ratio = 1.0
    elif part.op in ("==", "===") and current > const:
        ratio = 0.0  # overshot an exact target: growing further never meets it
    elif target > 0:
        ratio = min(max(current / target, 0.0), _BELOW_ONE)
    else:
        ratio = 0.0
    op = "==" if part.op == "===" else part.op
    return ProgressPart(part.fact, op, current, target, ratio, satisfied, part.pointer)


def criteria_of(rule: Any) -> Any:
    """The criteria of ``rule``: a compiled rule or a rule document (an object, or its JSON
    mapping with a ``criteria`` member), or bare criteria as they are."""
    if hasattr(rule, "criteria"):
        return rule.criteria
    if isinstance(rule, Mapping) and "criteria" in rule:  # no JsonLogic operator has the name
        return rule["criteria"]
    return rule


def progress(
    rule: Any, facts: Mapping[str, Any], catalog: FactCatalog | None = None
) -> RuleProgress | None:
    """Progress of a threshold rule on ``facts``; ``None`` for rules of other shapes.

    ``rule`` is a compiled rule, a rule document or bare criteria (see `criteria_of`). The
    ratio is the minimum over the parts, each ``current / target`` capped at 1; it is 1
    exactly when the rule holds.
    """
    parts = threshold_parts(criteria_of(rule), catalog)
    if parts is None:
        return None
    states: list[ProgressPart] = []
    for part in parts:
        state = _part_progress(part, facts, catalog)
        if state is None:
            return None
        states.append(state)
    return RuleProgress(tuple(states), min(min(s.ratio for s in states), 1.0))
