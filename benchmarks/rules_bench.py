"""Rule evaluation throughput: questline (datalogic-py) batched vs one-by-one, and a
pure-Python JsonLogic library (panzi-json-logic) on the same rules and facts.

Run from the repository root:  .venv/bin/python benchmarks/rules_bench.py [--seconds S]
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from json_logic import jsonLogic

from questline.rules import (
    FactType,
    RuleDocument,
    RuleEvaluator,
    default_catalog,
    default_rules,
)

FACTS: dict[str, Any] = {
    "user": {
        "id": 1,
        "telegram_id": 4242,
        "username": "ada",
        "language_code": "en",
        "days_since_joined": 12,
    },
    "event": {
        "type": "LESSON_COMPLETED",
        "entity_id": 17,
        "entity_type": "lesson",
        "score": 88,
        "local_hour": 23,
        "local_weekday": 3,
    },
    "stats": {
        "lessons_started": 9,
        "lessons_completed": 8,
        "modules_completed": 1,
        "challenges_attempted": 6,
        "challenges_solved": 4,
        "total_score": 640,
        "achievements_count": 5,
        "points": 120,
        "logins": 14,
        "days_active": 6,
    },
    "streak": {"current": 4, "longest": 6},
    "module": {
        "id": 2,
        "title": "Loops",
        "order": 2,
        "lessons_total": 5,
        "lessons_completed": 3,
        "completed": False,
    },
    "lesson": {
        "id": 17,
        "title": "While",
        "order": 3,
        "status": "COMPLETED",
        "attempts": 2,
        "score": 88,
        "estimated_duration": 15,
    },
}


def generated_rules(n: int, seed: int = 7) -> list[RuleDocument]:
    """``n`` rules shaped like real ones: thresholds, ``and``/``or`` of 1-4 conditions."""
    rng = random.Random(seed)
    catalog = default_catalog()
    numeric = [s for s in catalog if s.type.is_numeric]
    choices = [s for s in catalog if s.type is FactType.STR and s.choices]

    def condition() -> dict[str, Any]:
        if rng.random() < 0.8:
            spec = rng.choice(numeric)
            return {rng.choice([">=", ">", "<", "=="]): [{"var": spec.name}, rng.randint(0, 30)]}
        spec = rng.choice(choices)
        return {"==": [{"var": spec.name}, rng.choice(spec.choices or ("",))]}

    docs = []
    for i in range(n):
        parts = [condition() for _ in range(rng.randint(1, 4))]
        crit = parts[0] if len(parts) == 1 else {rng.choice(["and", "and", "or"]): parts}
        docs.append(
            RuleDocument(
                slug=f"gen-{i}", type="MILESTONE", title=f"Generated {i}", points=1, criteria=crit
            )
        )
    return docs


def rate(fn: Callable[[], Any], evaluations_per_call: int, seconds: float) -> float:
    """Evaluations per second, best of 3 timed runs of about ``seconds`` each."""
    fn()
    calls = 1
    while True:  # calibrate
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed > seconds / 10:
            break
        calls *= 2
    calls = max(1, int(calls * (seconds / max(elapsed, 1e-9))))
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, time.perf_counter() - start)
    return calls * evaluations_per_call / best


def bench(name: str, docs: list[RuleDocument], seconds: float) -> None:
    ev = RuleEvaluator()
    rules = [ev.compile(d) for d in docs]
    prepared = ev.prepare(FACTS)
    criteria = [d.criteria for d in docs]
    n = len(rules)

    # sanity: every way agrees on the results
    batch = ev.evaluate_many(rules, FACTS)
    assert batch == {r.slug: ev.evaluate(r, FACTS) for r in rules}
    assert batch == {d.slug: ev.truthy(jsonLogic(d.criteria, FACTS)) for d in docs}

    figures = {
        "questline evaluate_many (facts dict per call)": rate(
            lambda: ev.evaluate_many(rules, FACTS), n, seconds
        ),
        "questline evaluate_many (prepared facts)": rate(
            lambda: ev.evaluate_many(rules, prepared), n, seconds
        ),
        "questline evaluate, one by one": rate(
            lambda: [ev.evaluate(r, prepared) for r in rules], n, seconds
        ),
        "panzi-json-logic (pure Python)": rate(
            lambda: [jsonLogic(c, FACTS) for c in criteria], n, seconds
        ),
    }
    base = figures["panzi-json-logic (pure Python)"]
    print(f"\n{name}: {n} rules, {sum(batch.values())} true")
    print(f"| {'method':<48} | {'evaluations/s':>14} | {'vs pure Python':>14} |")
    print(f"|{'-' * 50}|{'-' * 16}|{'-' * 16}|")
    for label, value in figures.items():
        print(f"| {label:<48} | {value:>14,.0f} | {value / base:>13.1f}x |")
    per_event = n / figures["questline evaluate_many (facts dict per call)"] * 1e6
    print(f"one event against all {n} rules (batched, facts dict): {per_event:,.1f} µs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=0.5, help="time per measurement")
    args = parser.parse_args()
    print(f"Python {platform.python_version()} on {platform.machine()} ({platform.system()})")
    bench("default catalog", default_rules(), args.seconds)
    bench("generated rules", generated_rules(1000), args.seconds)


if __name__ == "__main__":
    main()
