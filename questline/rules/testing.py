"""Hypothesis strategies for rule authors' own property tests (needs ``hypothesis``).

``facts_documents()`` draws facts documents the engine could build: every fact of the catalog
with a value of its type (within its bounds and choices; ``null`` where it may be), and
sometimes no event, as in a backfill. For example::

    from hypothesis import given
    from questline.rules import RuleEvaluator, default_rules
    from questline.rules.testing import facts_documents

    @given(facts_documents())
    def test_my_rules_never_fail(facts):
        evaluator = RuleEvaluator()
        rules = [evaluator.compile(rule) for rule in default_rules()]
        for result in evaluator.evaluate_many(rules, facts).values():
            assert isinstance(result, bool)
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from hypothesis import strategies as st

from questline.rules.facts import FactCatalog, FactSpec, FactType, default_catalog

__all__ = ["facts_documents"]

COUNT_CEILING = 10_000
"""The largest value drawn for a number fact that has no maximum of its own."""


def facts_documents(
    catalog: FactCatalog | None = None,
    *,
    nulls: bool = True,
    count_ceiling: int = COUNT_CEILING,
) -> st.SearchStrategy[dict[str, Any]]:
    """Whole facts documents for `catalog` (default: the built-in facts). With `nulls` false,
    every fact has a value (an event, a lesson, a username…). Number facts without a maximum
    of their own are drawn up to `count_ceiling` (lower it to hit a rule's thresholds)."""
    catalog = catalog if catalog is not None else default_catalog()
    namespaces: defaultdict[str, list[FactSpec]] = defaultdict(list)
    for spec in catalog:
        namespaces[spec.namespace].append(spec)
    return st.fixed_dictionaries(
        {
            namespace: _namespace(specs, nulls, count_ceiling)
            for namespace, specs in namespaces.items()
        }
    )


def _namespace(
    specs: list[FactSpec], nulls: bool, ceiling: int
) -> st.SearchStrategy[dict[str, Any]]:
    """One namespace's facts; a namespace of the event is all null when there is no event."""
    present = st.fixed_dictionaries(
        {spec.name.split(".", 1)[1]: _value(spec, nulls, ceiling) for spec in specs}
    ).map(_nested)
    if not nulls or not specs[0].event_bound:
        return present
    absent = _nested({spec.name.split(".", 1)[1]: None for spec in specs})
    return st.one_of(present, st.just(absent))


def _value(spec: FactSpec, nulls: bool, ceiling: int) -> st.SearchStrategy[Any]:
    values = _typed(spec, ceiling)
    return st.one_of(st.none(), values) if nulls and spec.nullable else values


def _typed(spec: FactSpec, ceiling: int) -> st.SearchStrategy[Any]:
    low = spec.minimum if spec.minimum is not None else 0
    high = spec.maximum if spec.maximum is not None else ceiling
    match spec.type:
        case FactType.INT:
            return st.integers(low, high)
        case FactType.NUMBER:
            return st.floats(low, high, allow_nan=False, allow_infinity=False)
        case FactType.BOOL:
            return st.booleans()
        case FactType.STR if spec.choices:
            return st.sampled_from(spec.choices)
        case FactType.STR:
            return st.text(max_size=20)
        case FactType.LIST:
            return st.lists(st.one_of(st.integers(0, 100), st.text(max_size=10)), max_size=5)
        case _:
            return st.dictionaries(st.text(max_size=8), st.integers(0, 100), max_size=3)


def _nested(flat: dict[str, Any]) -> dict[str, Any]:
    """``{"a.b": 1}`` as ``{"a": {"b": 1}}`` (fact names below a namespace may be dotted)."""
    nested: dict[str, Any] = {}
    for name, value in flat.items():
        *parents, leaf = name.split(".")
        node = nested
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return nested
