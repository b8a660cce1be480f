"""Running the examples a rule document carries: facts in, expected result and progress out."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from questline.rules.analysis import progress
from questline.rules.document import RuleDocument, RuleExample
from questline.rules.evaluation import CompiledRule, RuleEvaluationError, RuleEvaluator, applies
from questline.rules.facts import FactCatalog

PROGRESS_TOLERANCE = 0.005
"""How far a computed progress may be from the expected one (examples write 0.33 for 1/3)."""


def fact_names(facts: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    """The dotted names of a nested facts document's values (objects are walked into)."""
    for key, value in facts.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            yield from fact_names(value, f"{name}.")
        else:
            yield name


def example_problems(
    document: RuleDocument, evaluator: RuleEvaluator, catalog: FactCatalog
) -> list[tuple[str, str]]:
    """Every example of `document` that fails, as (pointer below the document, message)."""
    if not document.examples:
        return []
    compiled = evaluator.compile(document)
    problems = []
    for index, example in enumerate(document.examples):
        where = f"/examples/{index}"
        unknown = [name for name in fact_names(example.facts) if catalog.get(name) is None]
        if unknown:
            problems.append((f"{where}/facts", catalog.unknown_message(unknown[0])))
            continue
        message = _failure(compiled, evaluator, catalog, example)
        if message:
            label = f'example "{example.name}": ' if example.name else "example: "
            problems.append((where, label + message))
    return problems


def _failure(
    compiled: CompiledRule, evaluator: RuleEvaluator, catalog: FactCatalog, example: RuleExample
) -> str | None:
    """Why `example` fails (None when it passes)."""
    if applies(compiled, example.facts):
        outcome = evaluator.evaluate_many([compiled], example.facts)[compiled.slug]
        if isinstance(outcome, RuleEvaluationError):
            return f"the rule failed: {outcome.message}"
        result = bool(outcome)
    else:
        result = False
    if result != example.expect:
        why = "" if applies(compiled, example.facts) else " (a fact of the event is absent)"
        return f"expected {_json(example.expect)}, got {_json(result)}{why}"
    if example.progress is None:
        return None
    measured = progress(compiled, example.facts, catalog)
    if measured is None:
        return "gives a progress, but the rule is not a threshold rule, which has none"
    if abs(measured.ratio - example.progress) > PROGRESS_TOLERANCE:
        return f"expected progress {example.progress:g}, got {measured.ratio:.3g}"
    return None


def _json(value: bool) -> str:
    return "true" if value else "false"
