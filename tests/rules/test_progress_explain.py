"""Progress of threshold rules and explanations of false rules."""

from __future__ import annotations

from typing import Any

import pytest

from questline.rules import (
    RuleEvaluator,
    Shortfall,
    default_catalog,
    default_rules,
    explain,
    progress,
    threshold_parts,
)

CATALOG = default_catalog()
FACTS = {
    "stats": {"lessons_completed": 7, "challenges_solved": 5, "points": 99, "total_score": 120},
    "streak": {"current": 4, "longest": 6},
    "event": {"type": "LESSON_COMPLETED", "local_hour": 14},
    "lesson": {"score": None},
}


def by_slug(slug: str) -> Any:
    return next(d for d in default_rules() if d.slug == slug)


def test_progress_single_threshold() -> None:
    p = progress(by_slug("ten-lessons"), FACTS, CATALOG)
    assert p is not None
    [part] = p.parts
    assert (part.fact, part.current, part.target, part.satisfied) == (
        "stats.lessons_completed",
        7,
        10,
        False,
    )
    assert p.ratio == pytest.approx(0.7)
    assert not p.complete


def test_a_rule_document_as_json_is_read_for_its_criteria() -> None:
    """The document as loaded from a rule file (a mapping), as the docs' snippets pass it."""
    document = by_slug("ten-lessons").model_dump(mode="json")
    p = progress(document, FACTS, CATALOG)
    assert p is not None and p.ratio == pytest.approx(0.7)
    assert explain(document, FACTS).text == explain(by_slug("ten-lessons"), FACTS).text


def test_progress_and_of_thresholds_is_min_of_parts() -> None:
    p = progress(by_slug("well-rounded"), FACTS, CATALOG)
    assert p is not None
    assert [(x.fact, x.current, x.target) for x in p.parts] == [
        ("stats.lessons_completed", 7, 5),
        ("stats.challenges_solved", 5, 5),
        ("streak.current", 4, 3),
    ]
    assert p.ratio == 1.0 and p.complete


@pytest.mark.parametrize(
    ("criteria", "target", "ratio"),
    [
        ({">=": [{"var": "streak.current"}, 7]}, 7, 4 / 7),
        ({"<=": [7, {"var": "streak.current"}]}, 7, 4 / 7),
        ({">": [{"var": "streak.current"}, 7]}, 8, 4 / 8),
        ({"<": [7, {"var": "streak.current"}]}, 8, 4 / 8),
        ({"==": [{"var": "streak.current"}, 8]}, 8, 4 / 8),
        ({"==": [2, {"var": "streak.current"}]}, 2, 0.0),  # overshot an exact target
        ({">=": [{"var": "streak.current"}, 2.5]}, 3, 1.0),
        ({">": [{"var": "streak.current"}, 3]}, 4, 1.0),
    ],
)
def test_progress_shapes(criteria: Any, target: int, ratio: float) -> None:
    p = progress(criteria, FACTS, CATALOG)
    assert p is not None
    assert p.parts[0].target == target
    assert p.ratio == pytest.approx(ratio)


def test_progress_treats_null_as_zero() -> None:
    p = progress({">=": [{"var": "lesson.score"}, 80]}, FACTS, CATALOG)
    assert p is not None and p.parts[0].current == 0 and p.ratio == 0.0


@pytest.mark.parametrize(
    "criteria",
    [
        {"or": [{">=": [{"var": "stats.points"}, 1]}, {">=": [{"var": "stats.logins"}, 1]}]},
        {"==": [{"var": "event.type"}, "LOGIN"]},
        {"<": [{"var": "stats.points"}, 10]},
        {">=": [{"var": "stats.points"}, {"var": "stats.logins"}]},
        {"and": [{">=": [{"var": "stats.points"}, 1]}, {"==": [{"var": "event.type"}, "LOGIN"]}]},
        {"and": []},
        True,
    ],
)
def test_progress_none_for_other_shapes(criteria: Any) -> None:
    assert progress(criteria, FACTS, CATALOG) is None
    assert threshold_parts(criteria, CATALOG) is None


def test_progress_ratio_one_iff_rule_true_on_catalog() -> None:
    ev = RuleEvaluator()
    for d in default_rules():
        p = progress(d, FACTS, CATALOG)
        if p is not None:
            assert p.complete is ev.evaluate(ev.compile(d), FACTS), d.slug


@pytest.mark.parametrize(
    ("slug", "text"),
    [
        ("ten-lessons", "needs 3 more completed lessons (7/10)"),
        ("streak-7", "needs a 7-day streak (current 4)"),
        ("hundred-points", "needs 1 more achievement point (99/100)"),
        ("score-500", "needs 380 more score points (120/500)"),
        ("first-module", "needs 1 more completed module (0/1)"),
        (
            "night-owl",
            "needs event.local_hour >= 22 or event.local_hour < 5 (event.local_hour is 14)",
        ),
    ],
)
def test_explain_text(slug: str, text: str) -> None:
    assert explain(by_slug(slug), FACTS).text == text


def test_explain_structure_for_localisation() -> None:
    e = explain(by_slug("ten-lessons"), FACTS)
    assert not e.satisfied
    assert e.shortfalls == (
        Shortfall(
            "threshold",
            "needs 3 more completed lessons (7/10)",
            "stats.lessons_completed",
            7,
            10,
            "",
        ),
    )


def test_explain_lists_only_failing_conditions() -> None:
    criteria = {
        "and": [
            {">=": [{"var": "stats.lessons_completed"}, 10]},
            {">=": [{"var": "stats.challenges_solved"}, 5]},
            {"==": [{"var": "event.type"}, "LOGIN"]},
        ]
    }
    e = explain(criteria, FACTS)
    assert [(s.kind, s.fact, s.current, s.target, s.pointer) for s in e.shortfalls] == [
        ("threshold", "stats.lessons_completed", 7, 10, "/and/0"),
        ("condition", "event.type", "LESSON_COMPLETED", None, "/and/2"),
    ]
    assert e.text == (
        "needs 3 more completed lessons (7/10); "
        'needs event.type == "LOGIN" (event.type is "LESSON_COMPLETED")'
    )


def test_explain_true_rule() -> None:
    e = explain(by_slug("first-lesson"), FACTS)
    assert e.satisfied and e.shortfalls == () and e.text == "all conditions are met"


def test_explain_error() -> None:
    e = explain({">": [{"*": ["abc", 2]}, 1]}, FACTS)
    assert [s.kind for s in e.shortfalls] == ["error"]
    assert (
        e.text == "could not be evaluated: arithmetic on a value that is not a number in "
        'operator "*"'
    )
