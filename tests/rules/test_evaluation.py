"""Compiling and evaluating rules: batches, isolation of failures, budgets, custom operators."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from questline.rules import (
    ActivityType,
    OperatorRegistry,
    RuleCompileError,
    RuleDocument,
    RuleEvaluationError,
    RuleEvaluator,
    default_rules,
)

FACTS = {
    "user": {
        "id": 1,
        "telegram_id": 42,
        "username": "ada",
        "language_code": "en",
        "days_since_joined": 3,
    },
    "event": {
        "type": "LESSON_COMPLETED",
        "entity_id": 7,
        "entity_type": "lesson",
        "score": 90,
        "local_hour": 23,
        "local_weekday": 5,
    },
    "stats": {
        "lessons_started": 8,
        "lessons_completed": 7,
        "modules_completed": 1,
        "challenges_attempted": 2,
        "challenges_solved": 1,
        "total_score": 430,
        "achievements_count": 3,
        "points": 60,
        "logins": 4,
        "days_active": 5,
    },
    "streak": {"current": 4, "longest": 6},
    "module": None,
    "lesson": None,
}


def doc(slug: str, criteria: Any) -> RuleDocument:
    return RuleDocument(slug=slug, type="MILESTONE", title=slug, points=1, criteria=criteria)


def test_default_catalog_batch() -> None:
    ev = RuleEvaluator()
    rules = [ev.compile(d) for d in default_rules()]
    results = ev.evaluate_many(rules, FACTS)
    assert results == {
        "first-challenge": True,
        "ten-challenges": False,
        "first-lesson": True,
        "ten-lessons": False,
        "night-owl": True,
        "first-module": True,
        "hundred-points": False,
        "score-500": False,
        "five-active-days": True,
        "well-rounded": False,
        "streak-3": True,
        "streak-7": False,
        "weekly-podium": False,
        "monthly-champion": False,
    }
    for rule in rules:
        assert ev.evaluate(rule, FACTS) is results[rule.slug]


def test_reads_and_affected_by() -> None:
    ev = RuleEvaluator()
    rule = ev.compile(
        doc(
            "x",
            {
                "and": [
                    {">=": [{"var": "stats.lessons_completed"}, 10]},
                    {">=": [{"var": "streak.current"}, 3]},
                ]
            },
        )
    )
    assert rule.slug == "x"
    assert rule.reads == {"stats.lessons_completed", "streak.current"}
    assert rule.affected_by == {ActivityType.LESSON_COMPLETED, ActivityType.CHALLENGE_SOLVED}
    awards = ev.compile(doc("y", {">=": [{"var": "stats.points"}, 100]}))
    assert awards.affected_by == {ActivityType.ACHIEVEMENT_EARNED}
    constant = ev.compile(doc("z", True))
    assert constant.reads == frozenset() and constant.affected_by == frozenset(ActivityType)


def test_truthiness() -> None:
    ev = RuleEvaluator()
    cases = {
        "zero": 0,
        "empty-str": "",
        "empty-list": [],
        "null": None,
        "one": 1,
        "str": "a",
        "list": [0],
        "cat": {"cat": ["", ""]},
    }
    rules = [ev.compile(doc(k, v)) for k, v in cases.items()]
    assert ev.evaluate_many(rules, {}) == {
        "zero": False,
        "empty-str": False,
        "empty-list": False,
        "null": False,
        "one": True,
        "str": True,
        "list": True,
        "cat": False,
    }


def test_erroring_rule_is_isolated() -> None:
    ops = OperatorRegistry()

    @ops.operator("boom")
    def boom(*args: Any) -> Any:
        raise ValueError("kaput")

    ev = RuleEvaluator(operators=ops)
    rules = [
        ev.compile(doc("ok", {">=": [{"var": "stats.points"}, 1]})),
        ev.compile(doc("nan", {">": [{"*": ["abc", {"var": "stats.points"}]}, 1]})),
        ev.compile(doc("boom", {"boom": [1]})),
        ev.compile(doc("throw", {"throw": "nope"})),
        ev.compile(doc("ok2", {"<": [{"var": "stats.points"}, 1]})),
    ]
    results = ev.evaluate_many(rules, FACTS)
    assert results["ok"] is True and results["ok2"] is False
    nan, boom_err, thrown = results["nan"], results["boom"], results["throw"]
    assert isinstance(nan, RuleEvaluationError) and nan.slug == "nan"
    assert nan.message == 'arithmetic on a value that is not a number in operator "*"'
    assert isinstance(boom_err, RuleEvaluationError)
    assert boom_err.message == 'custom operator "boom" failed: raised: ValueError: kaput'
    assert str(boom_err) == 'rule "boom": custom operator "boom" failed: raised: ValueError: kaput'
    assert isinstance(thrown, RuleEvaluationError) and thrown.kind == "thrown"
    with pytest.raises(RuleEvaluationError) as info:
        ev.evaluate(rules[2], FACTS)
    assert info.value.slug == "boom"


def test_budget_stops_a_runaway_rule() -> None:
    ev = RuleEvaluator(ops_budget=50)
    slow = ev.compile(
        doc(
            "slow",
            {
                "some": [
                    {"merge": [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12], [13, 14, 15]]},
                    {"==": [{"+": [{"var": ""}, 1]}, 0]},
                ]
            },
        )
    )
    fast = ev.compile(doc("fast", {">=": [{"var": "stats.points"}, 1]}))
    results = ev.evaluate_many([slow, fast], FACTS)
    assert results["fast"] is True
    err = results["slow"]
    assert isinstance(err, RuleEvaluationError) and err.kind == "budget"
    assert "exceeded the operations budget" in err.message and "budget 50" in err.message
    assert ev.metered(fast, FACTS)[0] is True
    unbounded = RuleEvaluator(ops_budget=None)
    assert unbounded.evaluate(unbounded.compile(slow.document), FACTS) is False


def test_compile_rejects_what_cannot_run() -> None:
    ev = RuleEvaluator()
    with pytest.raises(RuleCompileError) as info:
        ev.compile(doc("bad", {"and": [True, {"nope": 1}]}))
    assert str(info.value) == (
        'rule "bad" does not compile: /and/1: unknown operator "nope"; did you mean "none"?'
    )


def test_custom_operator_evaluates_like_builtin() -> None:
    ops = OperatorRegistry()
    ops.register("clamp", lambda v, lo, hi: max(lo, min(hi, v)), description="Clamp a number")
    ev = RuleEvaluator(operators=ops)
    rule = ev.compile(doc("c", {">=": [{"clamp": [{"var": "event.score"}, 0, 50]}, 50]}))
    assert rule.reads == {"event.score"}
    assert ev.evaluate(rule, FACTS) is True
    assert ev.apply({"clamp": [120, 0, 100]}) == 100


def test_operator_registry_refuses_builtin_and_duplicate_names() -> None:
    ops = OperatorRegistry()
    with pytest.raises(ValueError, match="clashes with the built-in"):
        ops.register("max", max)
    with pytest.raises(ValueError, match="clashes with the built-in"):
        ops.register("var", max)
    ops.register("twice", lambda x: 2 * x)
    with pytest.raises(ValueError, match="already registered"):
        ops.register("twice", lambda x: 2 * x)
    with pytest.raises(ValueError, match="must start with"):
        ops.register("9lives", lambda x: x)


def test_registry_change_after_evaluator_is_noticed() -> None:
    ops = OperatorRegistry()
    ev = RuleEvaluator(operators=ops)
    ops.register("late", lambda: 1)
    with pytest.raises(RuntimeError, match="create a new RuleEvaluator"):
        ev.compile(doc("x", True))


def test_rules_from_another_evaluator_are_refused() -> None:
    rule = RuleEvaluator().compile(doc("x", True))
    with pytest.raises(ValueError, match="another RuleEvaluator"):
        RuleEvaluator().evaluate_many([rule], {})


def test_prepared_facts_and_threads() -> None:
    ev = RuleEvaluator()
    rules = [ev.compile(d) for d in default_rules()]
    prepared = ev.prepare(FACTS)
    expected = ev.evaluate_many(rules, prepared)
    seen: list[dict[str, Any]] = []

    def work() -> None:
        for _ in range(50):
            seen.append(ev.evaluate_many(rules, prepared))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 200 and all(s == expected for s in seen)


def test_non_json_facts_are_a_clear_error() -> None:
    import datetime

    from questline.rules import FactsDocumentError

    ev = RuleEvaluator()
    with pytest.raises(FactsDocumentError, match="not JSON-shaped"):
        ev.evaluate_many([ev.compile(doc("x", True))], {"event": {"at": datetime.date.today()}})
