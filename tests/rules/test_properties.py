"""Property-based tests over generated rules and facts documents."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from json_logic import jsonLogic

from questline.rules import (
    ActivityType,
    RuleDocument,
    RuleEvaluationError,
    RuleEvaluator,
    progress,
    validate_document,
)
from tests.rules.strategies import CATALOG, criteria, facts_documents, threshold_rules

EVALUATOR = RuleEvaluator(CATALOG)
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def doc(c: Any, slug: str = "generated") -> RuleDocument:
    return RuleDocument(slug=slug, type="MILESTONE", title="Generated", points=1, criteria=c)


@SETTINGS
@given(criteria())
def test_validation_accepts_generated_rules(c: Any) -> None:
    """No errors; the only warnings are orderings on a learner fact that can be null."""
    raw = doc(c).to_json_dict()
    problems = validate_document(raw, "generated.json", CATALOG)
    assert [p for p in problems if p.is_error] == []
    assert all("can be null" in p.message for p in problems)


@SETTINGS
@given(criteria(), facts_documents())
def test_evaluation_is_deterministic_and_only_raises_our_error(c: Any, facts: Any) -> None:
    rule = EVALUATOR.compile(doc(c))
    first = EVALUATOR.evaluate_many([rule], facts)
    second = EVALUATOR.evaluate_many([rule], facts)
    assert first == second
    assert isinstance(first["generated"], bool | RuleEvaluationError)
    try:
        assert EVALUATOR.evaluate(rule, facts) == first["generated"]
    except RuleEvaluationError:
        assert isinstance(first["generated"], RuleEvaluationError)


@SETTINGS
@given(st.lists(criteria(), min_size=1, max_size=8), facts_documents())
def test_batch_equals_one_by_one(cs: list[Any], facts: Any) -> None:
    rules = [EVALUATOR.compile(doc(c, f"rule-{i}")) for i, c in enumerate(cs)]
    batch = EVALUATOR.evaluate_many(rules, facts)
    alone = {r.slug: EVALUATOR.evaluate_many([r], facts)[r.slug] for r in rules}
    assert batch == alone


@SETTINGS
@given(threshold_rules(), facts_documents())
def test_progress_complete_exactly_when_true(c: Any, facts: Any) -> None:
    rule = EVALUATOR.compile(doc(c))
    p = progress(rule, facts, CATALOG)
    assert p is not None
    assert 0.0 <= p.ratio <= 1.0
    assert (p.ratio >= 1.0) is EVALUATOR.evaluate(rule, facts)


def _mix(base: dict[str, Any], other: dict[str, Any], activity: ActivityType) -> dict[str, Any]:
    """``base`` with every fact that ``activity`` can change taken from ``other``."""
    mixed: dict[str, Any] = {}
    for ns in CATALOG.namespaces():
        specs = CATALOG.in_namespace(ns)
        changed = [activity in s.changed_by for s in specs]
        if base[ns] is None or other[ns] is None:
            assert all(changed) or not any(changed)
            mixed[ns] = other[ns] if all(changed) else base[ns]
            continue
        mixed[ns] = {
            s.name.split(".", 1)[1]: (other if ch else base)[ns][s.name.split(".", 1)[1]]
            for s, ch in zip(specs, changed, strict=True)
        }
    return mixed


@SETTINGS
@given(criteria(), facts_documents(), facts_documents(), st.sampled_from(list(ActivityType)))
def test_unrelated_activity_never_changes_result(
    c: Any, facts: Any, other: Any, activity: ActivityType
) -> None:
    rule = EVALUATOR.compile(doc(c))
    if activity in rule.affected_by:
        return
    changed = _mix(facts, other, activity)
    assert EVALUATOR.evaluate_many([rule], facts) == EVALUATOR.evaluate_many([rule], changed)


@SETTINGS
@given(criteria(), facts_documents(nulls=False))
def test_pure_python_jsonlogic_agrees(c: Any, facts: Any) -> None:
    # No nulls: JsonLogic implementations disagree on comparisons with null.
    ours = EVALUATOR.evaluate(EVALUATOR.compile(doc(c)), facts)
    theirs = jsonLogic(c, facts)
    assert ours is EVALUATOR.truthy(theirs)
