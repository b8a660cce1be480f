"""Compile and evaluate rules. The only module that talks to the JsonLogic backend.

The backend is datalogic-py (a Rust core): a rule is compiled once, and all candidate rules of
an event are evaluated in one native call against one pre-parsed facts document. Nothing
outside this module sees datalogic types.

Thread-safety: an evaluator may be shared between threads. The backend's sessions are bound to
one thread: the thread that created the evaluator reuses one session, other threads open a
short-lived session per call.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any, Literal, NamedTuple

import datalogic_py as _dl

from questline.rules.document import RuleDocument
from questline.rules.facts import (
    EVENT_NAMESPACES,
    MISSING,
    FactCatalog,
    default_catalog,
    lookup_fact,
)
from questline.rules.limits import DEFAULT_OPS_BUDGET
from questline.rules.operators import OperatorRegistry
from questline.rules.vocabulary import ActivityType

__all__ = [
    "CompiledRule",
    "Diagnostic",
    "FactsDocumentError",
    "PreparedFacts",
    "RuleCompileError",
    "RuleEvaluationError",
    "RuleEvaluator",
    "builtin_operator_names",
]

_ALL_ACTIVITY_TYPES = frozenset(ActivityType)


class RuleEvaluationError(Exception):
    """A rule failed while being evaluated. Other rules of the same batch are unaffected.

    ``kind`` is a stable tag (``"budget"``, ``"unknown-operator"``, ``"custom-operator"``,
    ``"thrown"``, ``"type"``, ``"error"``); ``operator`` the innermost failing operator if known.
    """

    def __init__(
        self,
        slug: str | None,
        message: str,
        *,
        kind: str = "error",
        operator: str | None = None,
    ) -> None:
        self.slug = slug
        self.message = message
        self.kind = kind
        self.operator = operator
        super().__init__(f'rule "{slug}": {message}' if slug else message)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RuleEvaluationError) and (self.slug, self.message, self.kind) == (
            other.slug,
            other.message,
            other.kind,
        )

    def __hash__(self) -> int:
        return hash((self.slug, self.message, self.kind))

    def __repr__(self) -> str:
        return f"RuleEvaluationError(slug={self.slug!r}, kind={self.kind!r}, {self.message!r})"


class RuleCompileError(ValueError):
    """A rule's criteria cannot be compiled (unknown operator, wrong argument count, ...)."""

    def __init__(self, slug: str | None, problems: Sequence[str]) -> None:
        self.slug = slug
        self.problems = list(problems)
        head = f'rule "{slug}"' if slug else "criteria"
        super().__init__(f"{head} does not compile: " + "; ".join(self.problems))


class FactsDocumentError(ValueError):
    """The facts document is not JSON-shaped (e.g. holds a datetime)."""


class Diagnostic(NamedTuple):
    """A problem the backend sees in criteria before running it; ``pointer`` is into criteria."""

    code: str
    severity: Literal["error", "warning"]
    message: str
    pointer: str
    operator: str | None


@cache
def builtin_operator_names() -> frozenset[str]:
    """Every built-in operator name (and alias) rules may use."""
    names: set[str] = set()
    for info in _dl.Engine().operators():
        names.add(info["name"])
        names.update(info["aliases"])
    names.add("var")  # answered by "val"
    return frozenset(names)


@dataclass(frozen=True, eq=False)
class CompiledRule:
    """A rule ready to evaluate, with what static analysis knows about it.

    ``reads`` are the dotted fact names the criteria read; ``affected_by`` the activity types
    whose events can change the result (every type when reads are computed at run time or the
    rule reads nothing). ``reads_complete`` is false when some read path is computed.
    """

    document: RuleDocument
    reads: frozenset[str]
    affected_by: frozenset[ActivityType]
    reads_complete: bool
    deterministic: bool
    operators: frozenset[str]
    _native: Any = field(repr=False)
    _owner: Any = field(repr=False)

    @property
    def slug(self) -> str:
        return self.document.slug

    @property
    def criteria(self) -> Any:
        return self.document.criteria

    @cached_property
    def namespaces(self) -> frozenset[str]:
        """The fact namespaces the rule reads (``stats``, ``event``, a plugin's own…)."""
        return frozenset(name.split(".", 1)[0] for name in self.reads)

    @cached_property
    def event_reads(self) -> frozenset[str]:
        """The facts of the event (``event.*``, ``lesson.*``, ``module.*``) the rule reads."""
        return frozenset(n for n in self.reads if n.split(".", 1)[0] in EVENT_NAMESPACES)


def applies(rule: CompiledRule, facts: Mapping[str, Any]) -> bool:
    """Whether ``rule`` is evaluated on ``facts`` at all: a rule that reads a fact of the event
    applies only to events that give every such fact a value. Elsewhere (a LOGIN for a rule on
    ``lesson.score``, a completion sent without a score, no event at all) it is not evaluated
    and does not hold, however its criteria would treat null."""
    return all(lookup_fact(facts, name) not in (None, MISSING) for name in rule.event_reads)


class PreparedFacts:
    """A facts document parsed once for many evaluations (see :meth:`RuleEvaluator.prepare`)."""

    __slots__ = ("_handle", "facts")

    def __init__(self, facts: Mapping[str, Any]) -> None:
        self.facts = facts
        try:
            self._handle = _dl.DataHandle(dict(facts) if not isinstance(facts, dict) else facts)
        except _dl.DataLogicError as exc:
            raise FactsDocumentError(f"facts document is not JSON-shaped: {exc}") from None


_BUDGET_RE = re.compile(r"(\d+) operations charged against a budget of (\d+)")
_OPERATOR_SUFFIX_RE = re.compile(r" \(in operator: [^)]*\)$")


def _json_input(value: Any) -> Any:
    """The backend reads a Python ``str`` as JSON text; pass string values as JSON strings."""
    return json.dumps(value) if isinstance(value, str) else value


def _quote(message: str) -> str:
    return message.replace("`", '"')


def _native_message(message: str) -> str:
    return _OPERATOR_SUFFIX_RE.sub("", message)


class RuleEvaluator:
    """Compiles :class:`RuleDocument` objects and evaluates them against facts documents.

    ``catalog`` tells which activity types affect which facts; ``operators`` adds custom
    operators (snapshotted at construction); ``ops_budget`` caps the operations one rule may
    charge per evaluation (``None``: unbounded — not recommended for untrusted rules).
    """

    def __init__(
        self,
        catalog: FactCatalog | None = None,
        operators: OperatorRegistry | None = None,
        *,
        ops_budget: int | None = DEFAULT_OPS_BUDGET,
    ) -> None:
        if ops_budget is not None and ops_budget < 1:
            raise ValueError("ops_budget must be a positive number of operations, or None")
        self.catalog = catalog if catalog is not None else default_catalog()
        self.operators = operators if operators is not None else OperatorRegistry()
        self.ops_budget = ops_budget
        self._operators_version = self.operators.version
        try:
            self._engine = _dl.Engine(
                custom_operators=self.operators.json_callables() or None,
                config={"ops_budget": ops_budget},
                strict_operator_names=True,
            )
        except _dl.DataLogicError as exc:
            raise ValueError(f"cannot set up the rule engine: {exc}") from None
        self._thread = threading.get_ident()
        self._session: Any = None

    # -- introspection -------------------------------------------------------------------

    def operator_names(self) -> frozenset[str]:
        """Built-in and custom operator names this evaluator knows."""
        return builtin_operator_names() | frozenset(self.operators.names())

    def check(self, criteria: Any) -> list[Diagnostic]:
        """Problems the backend sees in ``criteria`` before running it (pointers into it)."""
        try:
            found = self._engine.check(_json_input(criteria))
        except _dl.DataLogicError as exc:
            return [Diagnostic("ParseError", "error", _native_message(str(exc)), "", None)]
        return [
            Diagnostic(d["code"], d["severity"], d["message"], d["pointer"], d["operator"])
            for d in found
        ]

    def truthy(self, value: Any) -> bool:
        """JsonLogic truthiness of a JSON value (``[]``, ``{}``, ``0``, ``""``, null are false)."""
        return bool(self._engine.truthy(json.dumps(value)))

    # -- compilation ---------------------------------------------------------------------

    def compile(self, document: RuleDocument | Mapping[str, Any]) -> CompiledRule:
        """Compile a rule document; raises :class:`RuleCompileError` if the criteria can't run.

        Run :func:`questline.rules.validation.validate_document` first for the full set of
        checks (unknown facts, types, limits); compile only checks what would fail to run.
        """
        if self.operators.version != self._operators_version:
            raise RuntimeError(
                "custom operators changed after this RuleEvaluator was created; "
                "create a new RuleEvaluator"
            )
        doc = (
            document
            if isinstance(document, RuleDocument)
            else RuleDocument.model_validate(document)
        )
        errors = [
            f"{d.pointer or '/'}: {_quote(d.message)}"
            for d in self.check(doc.criteria)
            if d.severity == "error"
        ]
        if errors:
            raise RuleCompileError(doc.slug, errors)
        try:
            native = self._engine.compile(_json_input(doc.criteria))
        except _dl.DataLogicError as exc:
            raise RuleCompileError(doc.slug, [_native_message(str(exc))]) from None
        info = native.facts()
        reads = frozenset(".".join(path) for path in info["reads"])
        complete = not info["computed_reads"]
        if not complete or not reads:
            affected = _ALL_ACTIVITY_TYPES
        else:
            affected = self.catalog.changed_by(reads)
        return CompiledRule(
            document=doc,
            reads=reads,
            affected_by=affected,
            reads_complete=complete,
            deterministic=bool(info["deterministic"]),
            operators=frozenset(info["operators"]) | frozenset(info["custom_operators"]),
            _native=native,
            _owner=self._engine,
        )

    # -- evaluation ----------------------------------------------------------------------

    def prepare(self, facts: Mapping[str, Any] | PreparedFacts) -> PreparedFacts:
        """Parse a facts document once, to evaluate several batches against it."""
        return facts if isinstance(facts, PreparedFacts) else PreparedFacts(facts)

    def _run_many(self, natives: list[Any], handle: Any) -> list[Any]:
        # Sessions are bound to their thread and must also be dropped there: the evaluator's
        # own thread (the engine's asyncio thread) reuses one; other threads open one per call.
        if threading.get_ident() == self._thread:
            if self._session is None:
                self._session = self._engine.session()
            return self._session.evaluate_many(natives, handle)
        with self._engine.session() as session:
            return session.evaluate_many(natives, handle)

    def evaluate_many(
        self,
        rules: Sequence[CompiledRule],
        facts: Mapping[str, Any] | PreparedFacts,
    ) -> dict[str, bool | RuleEvaluationError]:
        """Evaluate ``rules`` against one facts document, in one native call.

        Returns slug → JsonLogic truthiness of the result, or a :class:`RuleEvaluationError`
        for a rule that failed (which never stops the others).
        """
        if not rules:
            return {}
        prepared = self.prepare(facts)
        for rule in rules:
            if rule._owner is not self._engine:
                raise ValueError(f'rule "{rule.slug}" was compiled by another RuleEvaluator')
        raw = self._run_many([r._native for r in rules], prepared._handle)
        out: dict[str, bool | RuleEvaluationError] = {}
        truthy = self._engine.truthy
        for rule, res in zip(rules, raw, strict=True):
            if isinstance(res, str):
                out[rule.slug] = True if res == "true" else False if res == "false" else truthy(res)
            else:
                out[rule.slug] = self._batch_error(rule.slug, res)
        if len(out) != len(rules):
            raise ValueError("evaluate_many got two rules with the same slug")
        return out

    def evaluate(self, rule: CompiledRule, facts: Mapping[str, Any] | PreparedFacts) -> bool:
        """Evaluate one rule; raises :class:`RuleEvaluationError` if it fails."""
        result = self.evaluate_many([rule], facts)[rule.slug]
        if isinstance(result, RuleEvaluationError):
            raise result
        return result

    def apply(self, criteria: Any, data: Any = None, *, budget: int | None = None) -> Any:
        """Evaluate raw JsonLogic and return the raw JSON result (not truthiness).

        For tools and conformance tests; raises :class:`RuleEvaluationError` (slug ``None``).
        """
        try:
            native = self._engine.compile(_json_input(criteria))
            text, _ops = native.evaluate_metered(_json_input(data), budget)
        except _dl.DataLogicError as exc:
            raise self._exception_error(None, exc) from None
        return json.loads(text)

    def metered(self, rule: CompiledRule, facts: Mapping[str, Any]) -> tuple[bool, int]:
        """Evaluate one rule and report the operations it charged: ``(result, ops)``."""
        try:
            text, ops = rule._native.evaluate_metered(facts, None)
        except _dl.DataLogicError as exc:
            raise self._exception_error(rule.slug, exc) from None
        return bool(self._engine.truthy(text)), ops

    def trace(self, criteria: Any, data: Any) -> dict[str, Any]:
        """Step-by-step evaluation of ``criteria`` for explanations.

        Returns ``{"result", "error", "values"}`` where ``values`` maps the JSON pointer (into
        ``criteria``) of every evaluated node to its last result.
        """
        envelope = json.loads(
            self._engine.evaluate_with_trace(json.dumps(criteria), json.dumps(data))
        )
        pointers: dict[str, str] = envelope.get("pointers") or {}
        values: dict[str, Any] = {}
        for step in envelope.get("steps") or []:
            pointer = pointers.get(str(step.get("node_id")))
            if pointer is not None and step.get("error") is None:
                values[pointer] = step.get("result")
        return {
            "result": envelope.get("result"),
            "error": envelope.get("error"),
            "values": values,
        }

    # -- errors --------------------------------------------------------------------------

    def _describe(self, tag: str, message: str, operator: str | None) -> tuple[str, str]:
        where = f' in operator "{operator}"' if operator else ""
        if tag == "BudgetExceeded":
            m = _BUDGET_RE.search(message)
            spent = f"{m.group(1)} operations charged, " if m else ""
            return "budget", (
                f"stopped: exceeded the operations budget ({spent}budget {self.ops_budget})"
                f"{where}; simplify the rule or raise the budget"
            )
        if tag == "InvalidOperator":
            return "unknown-operator", f'unknown operator "{operator}"' if operator else (
                _native_message(message)
            )
        if tag == "Custom":
            detail = _native_message(message)
            detail = re.sub(r"^custom operator '[^']*' ", "", detail)
            return "custom-operator", f'custom operator "{operator}" failed: {detail}'
        if tag == "Thrown":
            detail = _native_message(message).removeprefix("Thrown: ")
            if '"NaN"' in detail:
                return "thrown", f"arithmetic on a value that is not a number{where}"
            return "thrown", f"the rule threw {detail}{where}"
        if tag == "InvalidArgument":
            return "error", f"rule cannot run here: {_native_message(message)}"
        return "error", f"{tag}: {_native_message(message)}"

    def _batch_error(self, slug: str, err: Any) -> RuleEvaluationError:
        kind, text = self._describe(err.tag, err.message, err.operator)
        return RuleEvaluationError(slug, text, kind=kind, operator=err.operator)

    def _exception_error(self, slug: str | None, exc: Any) -> RuleEvaluationError:
        tag = getattr(exc, "error_type", "error")
        operator = getattr(exc, "operator", None)
        kind, text = self._describe(tag, str(exc), operator)
        return RuleEvaluationError(slug, text, kind=kind, operator=operator)
