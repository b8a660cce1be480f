"""Reading rule files: JSON or YAML, one rule or a list of rules per file, or a folder of them.

Parsing lives here; checking lives in :mod:`questline.rules.validation`. :func:`load_rules` does
both and refuses to return anything if a problem was found.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from questline.rules.limits import MAX_FILE_DEPTH
from questline.rules.parsing import (
    DuplicateKeyError,
    TreeError,
    parse_json,
    parse_yaml,
    without_bom,
)

if TYPE_CHECKING:
    from questline.rules.document import RuleDocument
    from questline.rules.facts import FactCatalog
    from questline.rules.operators import OperatorRegistry
    from questline.rules.validation import Problem

__all__ = [
    "CATALOG_DIR",
    "RULE_FILE_SUFFIXES",
    "RuleLoadError",
    "default_rules",
    "load_rules",
    "read_rule_file",
    "rule_files",
]

RULE_FILE_SUFFIXES = (".json", ".yaml", ".yml")
CATALOG_DIR = Path(__file__).parent / "catalog"

PathLike = str | Path


class RuleLoadError(ValueError):
    """Rule files had problems; ``problems`` lists each one (``str(p)`` is one line)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(str(p) for p in problems)
        super().__init__(f"{len(problems)} problem(s) in rule files:\n{lines}")


def _problem(source: str, pointer: str, message: str, severity: str = "error") -> Problem:
    from questline.rules.validation import Problem

    return Problem(source, pointer, message, severity)


def rule_files(paths: Iterable[PathLike]) -> tuple[list[tuple[Path, str]], list[Problem]]:
    """The rule files named by ``paths`` (folders are searched recursively, sorted).

    Returns ``(path, source)`` pairs, where ``source`` is how messages name the file, and the
    problems found (missing paths, unsupported file types, empty folders).
    """
    found: list[tuple[Path, str]] = []
    problems: list[Problem] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files, outside = _folder_files(path)
            problems.extend(
                _problem(
                    link.as_posix(), "", "links to a place outside the folder; skipped", "warning"
                )
                for link in outside
            )
            if not files:
                problems.append(
                    _problem(
                        str(path),
                        "",
                        "no rule files (.json, .yaml, .yml) in this folder",
                        "warning",
                    )
                )
            found.extend((p, p.as_posix()) for p in files)
        elif path.is_file():
            if path.suffix.lower() not in RULE_FILE_SUFFIXES:
                problems.append(
                    _problem(
                        str(raw),
                        "",
                        f'unsupported file type "{path.suffix}"; use .json, .yaml or .yml',
                    )
                )
            else:
                found.append((path, path.as_posix()))
        else:
            problems.append(_problem(str(raw), "", "no such file or folder"))
    return found, problems


def _folder_files(folder: Path) -> tuple[list[Path], list[Path]]:
    """Rule files in ``folder`` (recursively, sorted, hidden ones left out), and the links
    among them or among its subfolders that lead outside the folder (never read)."""
    root = folder.resolve()
    files: list[Path] = []
    outside: list[Path] = []
    for found in sorted(folder.rglob("*")):
        if any(part.startswith(".") for part in found.relative_to(folder).parts):
            continue
        if not (found.is_dir() or found.suffix.lower() in RULE_FILE_SUFFIXES):
            continue
        if not found.resolve().is_relative_to(root):
            outside.append(found)
        elif found.is_file():
            files.append(found)
    return files, outside


def read_rule_file(
    path: PathLike, source: str | None = None
) -> tuple[list[tuple[str, Any]], list[Problem]]:
    """Parse one rule file into ``(pointer prefix, raw rule)`` items.

    A file holding one rule gives one item with prefix ``""``; a list gives ``"/0"``, ``"/1"``…
    Syntax errors are reported with their line and column.
    """
    path = Path(path)
    source = source if source is not None else path.as_posix()
    try:
        text = without_bom(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        return [], [_problem(source, "", f"file is not UTF-8 text ({exc.reason})")]
    except OSError as exc:
        return [], [_problem(source, "", f"cannot read file: {exc.strerror or exc}")]
    if not text.strip():
        return [], [_problem(source, "", "file is empty; expected a rule or a list of rules")]
    data: Any
    if path.suffix.lower() == ".json":
        try:
            data = parse_json(text, MAX_FILE_DEPTH)
        except json.JSONDecodeError as exc:
            return [], [
                _problem(
                    source, "", f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
                )
            ]
        except DuplicateKeyError as exc:
            return [], [_problem(source, "", f"invalid JSON: {exc}")]
        except TreeError as exc:
            return [], [_problem(source, exc.pointer, exc.problem)]
    else:
        try:
            data = parse_yaml(text, MAX_FILE_DEPTH)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            what = exc.problem or exc.context or "syntax error"
            return [], [_problem(source, "", f"invalid YAML{where}: {what}")]
        except yaml.YAMLError as exc:
            return [], [_problem(source, "", f"invalid YAML: {exc}")]
        except TreeError as exc:
            return [], [_problem(source, exc.pointer, exc.problem)]
    if isinstance(data, dict):
        return [("", data)], []
    if isinstance(data, list):
        if not data:
            return [], [_problem(source, "", "the list of rules is empty", "warning")]
        return [(f"/{i}", item) for i, item in enumerate(data)], []
    return [], [
        _problem(
            source,
            "",
            f"expected a rule (an object) or a list of rules, got {_json_type(data)}",
        )
    ]


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def load_rules(
    paths: PathLike | Iterable[PathLike],
    catalog: FactCatalog | None = None,
    operators: OperatorRegistry | None = None,
) -> list[RuleDocument]:
    """Load and fully validate rule files; raises :class:`RuleLoadError` on any error.

    ``paths`` is a file, a folder, or several. Warnings do not stop loading.
    """
    from questline.rules.validation import validate_paths

    if isinstance(paths, str | Path):
        paths = [paths]
    report = validate_paths(paths, catalog, operators)
    if report.errors:
        raise RuleLoadError(report.errors)
    return report.rules


def default_rules(
    catalog: FactCatalog | None = None, operators: OperatorRegistry | None = None
) -> list[RuleDocument]:
    """The example achievements shipped with questline (``questline/rules/catalog``)."""
    return load_rules(CATALOG_DIR, catalog, operators)
