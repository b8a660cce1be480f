"""Hypothesis strategies: rules over the facts catalog, and facts documents that fit it."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from questline.rules import FactCatalog, FactSpec, FactType, RuleDocument, default_catalog
from questline.rules.testing import facts_documents as public_facts_documents

CATALOG = default_catalog()
NUMERIC = [s for s in CATALOG if s.type.is_numeric and (s.event_bound or not s.nullable)]
"""Numbers a rule may order without a null guard (the leaderboard ranks need one)."""
CHOICE_STR = [s for s in CATALOG if s.type is FactType.STR and s.choices]
BOOLS = [s for s in CATALOG if s.type is FactType.BOOL]


def var(spec: FactSpec) -> dict[str, Any]:
    return {"var": spec.name}


def _int_value(spec: FactSpec) -> st.SearchStrategy[int]:
    lo = spec.minimum if spec.minimum is not None else 0
    hi = spec.maximum if spec.maximum is not None else 40
    return st.integers(lo, hi)


def facts_documents(
    catalog: FactCatalog = CATALOG, *, nulls: bool = True
) -> st.SearchStrategy[dict[str, Any]]:
    """The public strategy, with counts low enough to land on both sides of a threshold."""
    return public_facts_documents(catalog, nulls=nulls, count_ceiling=40)


_MIRROR = {">=": "<=", ">": "<", "==": "=="}


@st.composite
def thresholds(draw: st.DrawFn) -> dict[str, Any]:
    spec = draw(st.sampled_from(NUMERIC))
    op = draw(st.sampled_from([">=", ">", "=="]))
    lo = spec.minimum if spec.minimum is not None else 0
    hi = spec.maximum if spec.maximum is not None else 45
    const = draw(st.integers(lo, hi))
    if draw(st.booleans()):
        return {op: [var(spec), const]}
    return {_MIRROR[op]: [const, var(spec)]}


@st.composite
def threshold_rules(draw: st.DrawFn) -> dict[str, Any]:
    parts = draw(st.lists(thresholds(), min_size=1, max_size=4))
    return parts[0] if len(parts) == 1 and draw(st.booleans()) else {"and": parts}


@st.composite
def other_leaves(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["cmp", "choice", "bool", "in", "between", "not"]))
    if kind == "cmp":
        spec = draw(st.sampled_from(NUMERIC))
        op = draw(st.sampled_from(["<", "<=", "!=", "=="]))
        return {op: [var(spec), draw(_int_value(spec))]}
    if kind == "choice":
        spec = draw(st.sampled_from(CHOICE_STR))
        op = draw(st.sampled_from(["==", "!=", "===", "!=="]))
        return {op: [var(spec), draw(st.sampled_from(spec.choices or ("",)))]}
    if kind == "bool":
        spec = draw(st.sampled_from(BOOLS))
        return {"==": [var(spec), draw(st.booleans())]}
    if kind == "in":
        spec = draw(st.sampled_from(CHOICE_STR))
        values = draw(st.lists(st.sampled_from(spec.choices or ("",)), max_size=3, unique=True))
        return {"in": [var(spec), values]}
    if kind == "between":
        spec = draw(st.sampled_from(NUMERIC))
        a, b = sorted([draw(_int_value(spec)), draw(_int_value(spec))])
        return {"<=": [a, var(spec), b]}
    spec = draw(st.sampled_from(NUMERIC))
    return {"!": [{">": [var(spec), draw(_int_value(spec))]}]}


def criteria() -> st.SearchStrategy[Any]:
    leaves = thresholds() | other_leaves()
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.builds(lambda xs: {"and": xs}, st.lists(children, min_size=1, max_size=3)),
            st.builds(lambda xs: {"or": xs}, st.lists(children, min_size=1, max_size=3)),
            st.builds(lambda x: {"!": [x]}, children),
            st.builds(lambda c, a, b: {"if": [c, a, b]}, children, children, children),
        ),
        max_leaves=8,
    )


def documents(criteria_strategy: st.SearchStrategy[Any], slug: str = "generated") -> Any:
    return criteria_strategy.map(
        lambda c: RuleDocument(slug=slug, type="MILESTONE", title="Generated", points=1, criteria=c)
    )
