"""Validation of rule documents, reported as ``file: /json/pointer: message`` lines.

Checks, in order: nesting, numbers and text (see :func:`~questline.rules.parsing.check_tree`);
the document's schema; the criteria's nesting depth and size; operators the
engine does not know; reads of unknown facts (with a "did you mean"); reads whose path is
computed at run time; comparisons whose types cannot match. Pointers are RFC 6901 paths into
the file (``/criteria/and/1/var``; ``/2/criteria/...`` for the third rule of a list file).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from questline.plain_errors import plain_message, shortened
from questline.rules.analysis import (
    COMPARISONS,
    ITERATING_OPERATORS,
    arguments,
    escape_pointer,
    fact_reads,
    operator_call,
)
from questline.rules.document import (
    MAX_ICON_LENGTH,
    MAX_SLUG_LENGTH,
    MAX_TITLE_LENGTH,
    RuleDocument,
    RuleExample,
)
from questline.rules.evaluation import RuleEvaluator
from questline.rules.examples import example_problems
from questline.rules.facts import FactCatalog, FactSpec, FactType, default_catalog
from questline.rules.limits import MAX_CRITERIA_BYTES, MAX_CRITERIA_DEPTH, MAX_FILE_DEPTH
from questline.rules.loading import read_rule_file, rule_files
from questline.rules.operators import OperatorRegistry
from questline.rules.parsing import TreeError, check_tree
from questline.rules.translations import json_type_name
from questline.rules.vocabulary import AchievementType

__all__ = [
    "Problem",
    "ValidationReport",
    "validate_command_lines",
    "validate_document",
    "validate_paths",
]

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding. ``str(problem)`` is ``"{source}: {pointer}: {message}"`` (the pointer part
    is left out when the problem concerns the whole file, i.e. the pointer is empty)."""

    source: str
    pointer: str
    message: str
    severity: Severity = "error"
    example: bool = False
    """A failing example the rule carries, rather than a problem of the rule itself."""

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def __str__(self) -> str:
        if not self.pointer:
            return f"{self.source}: {self.message}"
        return f"{self.source}: {self.pointer}: {self.message}"


@dataclass
class ValidationReport:
    """What :func:`validate_paths` found: the valid rules and every problem."""

    rules: list[RuleDocument] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    examples_run: int = 0
    """Examples run: those of every rule that has no problem of its own."""
    examples_skipped: int = 0
    """Examples not run, because their rule has a problem of its own."""

    @property
    def examples_failed(self) -> int:
        return sum(1 for p in self.problems if p.example)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]

    @property
    def ok(self) -> bool:
        return not self.errors


def _range(spec: FactSpec) -> str:
    """The values a number fact takes: "between 0 and 23", "at least 0", "at most 10"."""
    if spec.maximum is None:
        return f"at least {spec.minimum}"
    if spec.minimum is None:
        return f"at most {spec.maximum}"
    return f"between {spec.minimum} and {spec.maximum}"


# -- schema ------------------------------------------------------------------------------

_FIELD_LIMITS = {"slug": MAX_SLUG_LENGTH, "title": MAX_TITLE_LENGTH, "icon": MAX_ICON_LENGTH}


OPERATOR_SPELLINGS = {
    "gte": ">=",
    "ge": ">=",
    "gt": ">",
    "lte": "<=",
    "le": "<=",
    "lt": "<",
    "eq": "==",
    "equals": "==",
    "ne": "!=",
    "neq": "!=",
    "not": "!",
}
"""Names other rule languages give JsonLogic's comparison operators, for a hint."""


def _schema_message(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    loc = error["loc"]
    name = str(loc[0]) if loc else ""
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        in_example = name == "examples"
        model = RuleExample if in_example else RuleDocument
        field_name = str(loc[-1]) if in_example else name
        allowed = ", ".join(model.model_fields)
        return f'unknown field "{shortened(field_name)}" (allowed: {allowed})'
    if kind == "tuple_type" and name == "examples":
        return "must be a list of examples"
    if kind == "float_type":
        return "must be a number"
    if kind == "string_pattern_mismatch" and name == "slug":
        return (
            "must be lowercase letters and digits, words separated by single dashes, "
            'e.g. "ten-lessons"'
        )
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length', _FIELD_LIMITS.get(name))} characters"
    if kind == "string_too_short":
        return "must not be empty"
    if kind in ("greater_than_equal", "less_than_equal"):
        return plain_message(error)
    if kind == "enum" and name == "type":
        return "must be one of " + ", ".join(t.value for t in AchievementType)
    if kind == "int_type":
        return "must be a whole number"
    if kind == "string_type":
        return "must be a string" + (" or null" if name in ("description", "icon") else "")
    if kind == "bool_type":
        return "must be true or false"
    msg = str(error.get("msg", kind)).removeprefix("Value error, ")
    return msg[:1].lower() + msg[1:]


def _schema_problems(raw: Mapping[str, Any], source: str, prefix: str) -> list[Problem]:
    try:
        RuleDocument.model_validate(raw)
    except ValidationError as exc:
        problems = []
        seen: set[str] = set()
        for err in exc.errors():
            loc = err["loc"]
            if loc and loc[0] == "criteria" and err["type"] != "missing":
                pointer = prefix + "/criteria"
                message = "must be JSON data (objects, lists, strings, numbers, booleans, null)"
            else:
                # union members (e.g. "icon": str | None) repeat the location; keep the first
                loc = tuple(p for p in loc if not (isinstance(p, str) and p.endswith("]")))
                depth = len(loc) if loc and loc[0] == "examples" else 1
                pointer = prefix + "".join(
                    f"/{escape_pointer(shortened(str(p)))}" for p in loc[:depth]
                )
                message = _schema_message(err)
            if pointer in seen:
                continue
            seen.add(pointer)
            problems.append(Problem(source, pointer, message))
        return problems
    return []


# -- criteria ------------------------------------------------------------------------------


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of containers (a scalar is 0); stops counting past ``limit``."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, d = stack.pop()
        if isinstance(node, dict | list):
            d += 1
            deepest = max(deepest, d)
            if d > limit:
                return d
            children = node.values() if isinstance(node, dict) else node
            stack.extend((c, d) for c in children)
    return deepest


def _quote_backticks(message: str) -> str:
    return message.replace("`", '"')


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _read_problems(criteria: Any, source: str, base: str, catalog: FactCatalog) -> list[Problem]:
    problems: list[Problem] = []
    for read in fact_reads(criteria):
        pointer = f"{base}{read.pointer}/{escape_pointer(read.operator)}"
        if read.operator in ("missing", "missing_some"):
            pointer = base + read.pointer
        if read.computed:
            problems.append(
                Problem(
                    source,
                    pointer,
                    "the fact name must be a literal string: a computed name can't be checked, "
                    "and questline can't tell which events may change this rule",
                )
            )
            continue
        name = read.name or ""
        if name in catalog:
            continue
        if name == "":
            message = 'reads the whole facts document; read a fact, e.g. "stats.points"'
        elif catalog.is_namespace(name):
            example = catalog.in_namespace(name)[0].name if catalog.in_namespace(name) else ""
            message = (
                f'"{name}" is a group of facts, not a fact; read one of them, e.g. "{example}"'
            )
        else:
            message = catalog.unknown_message(name)
        problems.append(Problem(source, pointer, message))
    return problems


def _plain_number(number: float) -> str:
    """How to write `number` so that JSON and YAML both read a number (YAML reads ``1e3``,
    an exponent without a dot, as text)."""
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    text = repr(number)
    return text.replace("e", ".0e") if "e" in text and "." not in text else text


def _compare_problem(op: str, spec: FactSpec, value: Any) -> str | None:
    """Why ``fact op value`` can't be what the author meant (``None`` if fine)."""
    fact = spec.name
    if value is None:
        return None
    if spec.type.is_numeric:
        if isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                return f'compares number fact "{fact}" with text {_json_text(value)}'
            return (
                f'compares number fact "{fact}" with text {_json_text(value)}; '
                f"write it as a number: {_plain_number(number)}"
            )
        if isinstance(value, bool | list | dict):
            return f'compares number fact "{fact}" with {json_type_name(value)}'
        if op in ("==", "===") and (
            (spec.minimum is not None and value < spec.minimum)
            or (spec.maximum is not None and value > spec.maximum)
        ):
            return f'"{fact}" is {_range(spec)}; it is never {value}'
        return None
    if spec.type is FactType.STR:
        if op in ("<", "<=", ">", ">="):
            return (
                f'"{op}" on text fact "{fact}" compares text, not numbers; '
                'use "==" or "!=" with text, or compare a number fact'
            )
        if not isinstance(value, str):
            return f'compares text fact "{fact}" with {json_type_name(value)}'
        if spec.choices and value not in spec.choices:
            hint = difflib.get_close_matches(value, spec.choices, n=1, cutoff=0.6)
            did = f' (did you mean "{hint[0]}"?)' if hint else ""
            return f'"{fact}" is never {_json_text(value)}{did}; it is one of ' + ", ".join(
                spec.choices
            )
        return None
    if spec.type is FactType.BOOL and not isinstance(value, bool):
        return f'compares true/false fact "{fact}" with {json_type_name(value)}'
    return None


ORDERINGS = frozenset({"<", "<=", ">", ">="})


def _null_warning(op: str, spec: FactSpec) -> str:
    """Why an ordering on a fact that can be null may hold for the wrong learners."""
    guard = json.dumps({"!!": {"var": spec.name}})
    return (
        f'warning: "{spec.name}" can be null, and JsonLogic orders null like 0, so "{op}" can'
        f" hold for a learner who has no value; guard it, e.g. {guard}"
    )


def _fact_of(node: Any) -> str | None:
    call = operator_call(node)
    if call is None or call[0] != "var":
        return None
    args = arguments(call[1])
    return args[0] if args and isinstance(args[0], str) else None


def _guarded(criteria: Any) -> set[str]:
    """Facts the criteria test for a value somewhere (``{"!!": {"var": …}}``, or ``!=`` /
    ``!==`` null): an ordering on them is taken to be guarded."""
    found: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                visit(item)
            return
        call = operator_call(node)
        if call is None:
            if isinstance(node, dict):
                for value in node.values():
                    visit(value)
            return
        op, arg = call
        args = arguments(arg)
        if op == "!!" and args and (name := _fact_of(args[0])):
            found.add(name)
        if op in ("!=", "!==") and len(args) == 2 and None in args:
            found.update(name for a in args if (name := _fact_of(a)))
        for child in args:
            visit(child)

    visit(criteria)
    return found


def _call_problems(criteria: Any, source: str, base: str, catalog: FactCatalog) -> list[Problem]:
    """Each operator call's problems: a comparison of more values than it takes, and types
    that cannot be what the author meant (warnings for orderings on facts that can be null)."""
    problems: list[Problem] = []
    guarded = _guarded(criteria)

    def visit(node: Any, ptr: str, scoped: bool) -> None:
        if isinstance(node, list):
            for i, item in enumerate(node):
                visit(item, f"{ptr}/{i}", scoped)
            return
        call = operator_call(node)
        if call is None:
            if isinstance(node, dict):
                for k, v in node.items():
                    visit(v, f"{ptr}/{escape_pointer(k)}", scoped)
            return
        op, arg = call
        here = f"{ptr}/{escape_pointer(op)}"
        args = arguments(arg)
        if (counted := _count_problem(op, args)) is not None:
            problems.append(Problem(source, f"{base}{here}", counted))
        if op in COMPARISONS and isinstance(arg, list) and not scoped:
            facts = [_fact_of(a) for a in args]
            for i, name in enumerate(facts):
                spec = catalog.get(name) if name else None
                if spec is None:
                    continue
                if (
                    op in ORDERINGS
                    and spec.nullable
                    and not spec.event_bound
                    and name not in guarded
                ):
                    warning = _null_warning(op, spec)
                    problems.append(Problem(source, f"{base}{here}/{i}", warning, "warning"))
                for j, other in enumerate(args):
                    if j == i or operator_call(other) is not None:
                        continue
                    message = _compare_problem(op, spec, other)
                    if message:
                        problems.append(Problem(source, f"{base}{here}/{j}", message))
        for i, a in enumerate(args):
            child_ptr = f"{here}/{i}" if isinstance(arg, list) else here
            visit(a, child_ptr, scoped or (op in ITERATING_OPERATORS and i > 0))

    visit(criteria, "", False)
    return problems


PAIRWISE = {
    "==": "to compare with several values write {in}",
    "===": "to compare with several values write {in}",
    ">": 'for a value between two others write {{"<": [low, value, high]}}',
    ">=": 'for a value between two others write {{"<=": [low, value, high]}}',
}
"""Comparisons of exactly two values that the backend would chain, with what to write
instead of a third ({in}: the comparison as "in", with the values given): {"==": [x, 3, 5]}
never holds. (The backend reports "!=" and "!==" itself.)"""
BETWEEN = frozenset({"<", "<="})
"""Comparisons of two values, or of a value between two others."""


def _count_problem(op: str, args: list[Any]) -> str | None:
    """Why a comparison is given more values than JsonLogic defines (the backend accepts
    them), or None."""
    if op in PAIRWISE and len(args) > 2:
        instead = shortened(_json_text({"in": [args[0], args[1:]]}))
        return f'"{op}" compares 2 values, not {len(args)}; ' + PAIRWISE[op].format(
            **{"in": instead}
        )
    if op in BETWEEN and len(args) > 3:
        return f'"{op}" compares 2 values, or a value between 2 others; not {len(args)}'
    return None


def _criteria_problems(
    criteria: Any, source: str, base: str, catalog: FactCatalog, evaluator: RuleEvaluator
) -> list[Problem]:
    depth = _depth(criteria, MAX_CRITERIA_DEPTH)
    if depth > MAX_CRITERIA_DEPTH:
        return [
            Problem(
                source,
                base,
                f"criteria nest deeper than the limit of {MAX_CRITERIA_DEPTH} levels",
            )
        ]
    size = len(json.dumps(criteria, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    if size > MAX_CRITERIA_BYTES:
        return [
            Problem(
                source,
                base,
                f"criteria are {size} bytes of JSON; the limit is {MAX_CRITERIA_BYTES} bytes",
            )
        ]
    problems: list[Problem] = []
    known_ops = sorted(evaluator.operator_names())
    for diag in evaluator.check(criteria):
        pointer = base + diag.pointer
        if diag.code == "UnknownOperator" and diag.operator is not None:
            lower = diag.operator.lower()
            spelled = OPERATOR_SPELLINGS.get(lower) or (lower if lower in known_ops else None)
            hint = (
                [spelled]
                if spelled
                else difflib.get_close_matches(diag.operator, known_ops, n=1, cutoff=0.6)
            )
            did = f' (did you mean "{hint[0]}"?)' if hint else ""
            message = f'unknown operator "{shortened(diag.operator)}"{did}'
        elif diag.code == "NotAnOperator":
            message = (
                "an object with several keys is not an operator call; "
                'write one operator per object, e.g. {"and": [...]}'
            )
        else:
            message = _quote_backticks(diag.message)
        # arguments an operator never reads are a mistake, not a style: an error, as docs say
        if diag.severity == "warning" and diag.code != "ArgumentCount":
            problems.append(Problem(source, pointer, f"warning: {message}", "warning"))
        else:
            problems.append(Problem(source, pointer, message))
    problems.extend(_read_problems(criteria, source, base, catalog))
    problems.extend(_call_problems(criteria, source, base, catalog))
    return problems


def validate_document(
    raw: Any,
    source: str,
    catalog: FactCatalog | None = None,
    operators: OperatorRegistry | None = None,
    *,
    prefix: str = "",
    evaluator: RuleEvaluator | None = None,
) -> list[Problem]:
    """Every problem in one raw rule document (as parsed from JSON/YAML).

    ``prefix`` is prepended to pointers (``"/3"`` for the fourth rule of a list file).
    An empty list means the document is a valid rule.
    """
    catalog = catalog if catalog is not None else default_catalog()
    if evaluator is None:
        evaluator = RuleEvaluator(catalog, operators)
    if not isinstance(raw, Mapping):
        return [Problem(source, prefix, f"expected a rule (an object), got {json_type_name(raw)}")]
    try:
        check_tree(raw, MAX_FILE_DEPTH)
    except TreeError as error:
        return [Problem(source, prefix + error.pointer, error.problem)]
    problems = _schema_problems(raw, source, prefix)
    if "criteria" in raw:
        problems.extend(
            _criteria_problems(raw["criteria"], source, prefix + "/criteria", catalog, evaluator)
        )
    if not any(problem.is_error for problem in problems) and raw.get("examples"):
        document = RuleDocument.model_validate(raw)
        for pointer, message in example_problems(document, evaluator, catalog):
            problems.append(Problem(source, prefix + pointer, message, example=True))
    return problems


def validate_paths(
    paths: Iterable[str | Path] | str | Path,
    catalog: FactCatalog | None = None,
    operators: OperatorRegistry | None = None,
) -> ValidationReport:
    """Validate rule files and folders. A file with any error contributes no rules;
    a slug defined twice (in one file or across files) is an error in the later place."""
    if isinstance(paths, str | Path):
        paths = [paths]
    catalog = catalog if catalog is not None else default_catalog()
    evaluator = RuleEvaluator(catalog, operators)
    files, problems = rule_files(paths)
    report = ValidationReport(problems=list(problems))
    first_seen: dict[str, str] = {}
    for path, source in files:
        report.files.append(source)
        items, file_problems = read_rule_file(path, source)
        docs: list[tuple[str, RuleDocument]] = []
        for prefix, raw in items:
            found = validate_document(
                raw, source, catalog, operators, prefix=prefix, evaluator=evaluator
            )
            file_problems.extend(found)
            if isinstance(raw, Mapping) and isinstance(raw.get("examples"), list):
                if any(p.is_error and not p.example for p in found):
                    report.examples_skipped += len(raw["examples"])
                else:
                    report.examples_run += len(raw["examples"])
            if not any(p.is_error for p in found):
                docs.append((prefix, RuleDocument.model_validate(raw)))
        local: dict[str, str] = {}
        for prefix, doc in docs:
            if doc.slug in local:
                file_problems.append(
                    Problem(
                        source,
                        f"{prefix}/slug",
                        f'duplicate slug "{doc.slug}" (also used at {local[doc.slug]})',
                    )
                )
            elif doc.slug in first_seen:
                file_problems.append(
                    Problem(
                        source,
                        f"{prefix}/slug",
                        f'duplicate slug "{doc.slug}" (already defined in {first_seen[doc.slug]})',
                    )
                )
            local.setdefault(doc.slug, prefix or "/")
        report.problems.extend(file_problems)
        if any(p.is_error for p in file_problems):
            continue
        for _prefix, doc in docs:
            first_seen.setdefault(doc.slug, source)
            report.rules.append(doc)
    return report


def validate_command_lines(
    paths: Iterable[str | Path] | str | Path,
    catalog: FactCatalog | None = None,
    operators: OperatorRegistry | None = None,
) -> tuple[list[str], int]:
    """What ``questline rules validate PATHS`` prints, and its exit code (0 ok, 1 errors)."""
    report = validate_paths(paths, catalog, operators)
    lines = [str(p) for p in report.problems]
    n_files = len(report.files)
    files = f"{n_files} file{'s' if n_files != 1 else ''}"
    if report.errors:
        n = len(report.errors)
        bad = len({problem.source for problem in report.errors})
        where = files if bad >= n_files else f"{bad} of {files}"
        lines.append(f"{n} error{'s' if n != 1 else ''} in {where}; no rules were changed")
        return lines, 1
    n_rules = len(report.rules)
    warn = f", {len(report.warnings)} warning(s)" if report.warnings else ""
    lines.append(f"{n_rules} rule{'s' if n_rules != 1 else ''} OK in {files}{warn}")
    return lines, 0


def examples_command_lines(
    paths: Iterable[str | Path] | str | Path,
    catalog: FactCatalog | None = None,
    operators: OperatorRegistry | None = None,
) -> tuple[list[str], int]:
    """What ``questline rules test PATHS`` prints, and its exit code (0 all passed, 1 else)."""
    report = validate_paths(paths, catalog, operators)
    lines = [str(p) for p in report.problems]
    run, skipped = report.examples_run, report.examples_skipped
    summary = f"{run - report.examples_failed} of {run} example{'s' if run != 1 else ''} passed"
    if skipped:
        summary += f"; {skipped} not run: their rules have errors (see above)"
    lines.append(summary)
    return lines, 1 if report.errors else 0
