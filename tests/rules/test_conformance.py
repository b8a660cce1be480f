"""JsonLogic conformance, measured through questline's own rules API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import datalogic_py
import pytest

from questline.rules import RuleEvaluationError, RuleEvaluator

DATA = Path(__file__).resolve().parent.parent / "data"


def same(a: Any, b: Any) -> bool:
    """JSON equality: 1 == 1.0, but booleans are not numbers."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def jsonlogic_com_cases() -> list[tuple[Any, Any, Any]]:
    raw = json.loads((DATA / "jsonlogic-com" / "tests.json").read_text(encoding="utf-8"))
    return [tuple(case) for case in raw if isinstance(case, list)]


def compat_value_cases() -> list[dict[str, Any]]:
    root = DATA / "compat-tables"
    cases = []
    for name in json.loads((root / "index.json").read_text(encoding="utf-8")):
        for case in json.loads((root / name).read_text(encoding="utf-8")):
            if isinstance(case, dict) and "result" in case:
                cases.append(case)
    return cases


def test_jsonlogic_com_suite_passes_277_of_277_through_questline() -> None:
    evaluator = RuleEvaluator()
    cases = jsonlogic_com_cases()
    assert len(cases) == 277
    failures = []
    for rule, data, expected in cases:
        try:
            got = evaluator.apply(rule, data)
        except RuleEvaluationError as exc:
            failures.append((rule, data, expected, exc))
            continue
        if not same(got, expected):
            failures.append((rule, data, expected, got))
    assert failures == []


def _count(cases: list[dict[str, Any]], evaluate: Any) -> int:
    passed = 0
    for case in cases:
        try:
            got = evaluate(case["rule"], case.get("data"))
        except Exception:
            continue
        passed += same(got, case["result"])
    return passed


def test_compat_tables_at_least_as_good_as_datalogic_itself() -> None:
    cases = compat_value_cases()
    assert len(cases) == 976
    engine = datalogic_py.Engine()
    # datalogic reads a Python str as JSON text, so hand it JSON text throughout
    theirs = _count(cases, lambda r, d: engine.compile(json.dumps(r)).evaluate(json.dumps(d)))
    ours = _count(cases, RuleEvaluator().apply)
    assert theirs >= 957
    assert ours >= theirs


@pytest.mark.parametrize(
    ("rule", "expected"),
    [("apple", "apple"), ({"cat": ["a", "b"]}, "ab"), ({"var": ""}, {"x": 1})],
)
def test_apply_returns_raw_values(rule: Any, expected: Any) -> None:
    assert RuleEvaluator().apply(rule, {"x": 1}) == expected
