"""The facts catalog: built-in names, lookups, suggestions, extension by plugins."""

from __future__ import annotations

import pytest

from questline.rules import ActivityType, FactCatalog, FactSpec, FactType, default_catalog
from questline.rules.facts import MISSING, lookup_fact

A = ActivityType
LEARNING = {A.LESSON_STARTED, A.LESSON_COMPLETED, A.CHALLENGE_ATTEMPTED, A.CHALLENGE_SOLVED}


def test_builtin_fact_names_and_changed_by() -> None:
    c = default_catalog()
    expected = {
        "user.id": {A.LOGIN},
        "user.days_since_joined": {A.LOGIN},
        "event.type": set(A) - {A.ACHIEVEMENT_EARNED},
        "event.local_hour": set(A) - {A.ACHIEVEMENT_EARNED},
        "stats.lessons_started": {A.LESSON_STARTED},
        "stats.lessons_completed": {A.LESSON_COMPLETED},
        "stats.modules_completed": {A.LESSON_COMPLETED},
        "stats.challenges_attempted": {A.CHALLENGE_ATTEMPTED},
        "stats.challenges_solved": {A.CHALLENGE_SOLVED},
        "stats.total_score": {A.LESSON_COMPLETED, A.CHALLENGE_SOLVED, A.ACHIEVEMENT_EARNED},
        "stats.achievements_count": {A.ACHIEVEMENT_EARNED},
        "stats.points": {A.ACHIEVEMENT_EARNED},
        "stats.logins": {A.LOGIN},
        "stats.days_active": LEARNING | {A.LOGIN},
        "streak.current": {A.LESSON_COMPLETED, A.CHALLENGE_SOLVED},
        "streak.longest": {A.LESSON_COMPLETED, A.CHALLENGE_SOLVED},
        "streak.freezes": {A.LESSON_COMPLETED, A.CHALLENGE_SOLVED, A.ACHIEVEMENT_EARNED},
        "streak.freezes_used": {A.LESSON_COMPLETED, A.CHALLENGE_SOLVED},
        "module.completed": LEARNING,
        "lesson.status": LEARNING,
        "stats.completed_module_slugs": {A.LESSON_COMPLETED},
        "event.timestamp": set(A) - {A.ACHIEVEMENT_EARNED},
        "today.lessons_completed": {A.LESSON_COMPLETED},
        "week.challenges_solved": {A.CHALLENGE_SOLVED},
        "month.activities": set(A) - {A.ACHIEVEMENT_EARNED},
    }
    for name, changed in expected.items():
        assert c[name].changed_by == changed, name
    assert len(c) == 66
    assert c.namespaces() == [
        "event",
        "goal",
        "leaderboard",
        "lesson",
        "module",
        "month",
        "rule",
        "stats",
        "streak",
        "today",
        "user",
        "week",
    ]
    assert c["module.completed"].type is FactType.BOOL
    assert c["lesson.status"].choices == ("NOT_STARTED", "IN_PROGRESS", "COMPLETED")


def test_suggestions() -> None:
    c = default_catalog()
    assert c.suggest("streak.curent") == "streak.current"
    assert c.suggest("zzz") is None
    assert c.unknown_message("stats.lesons_completed") == (
        'unknown fact "stats.lesons_completed" (did you mean "stats.lessons_completed"?)'
    )
    with pytest.raises(KeyError, match="did you mean"):
        c["stats.pionts"]


def test_plugins_extend_a_copy() -> None:
    c = default_catalog()
    c.register(FactSpec("quiz.streak", FactType.INT, "Quiz streak.", {A.CHALLENGE_SOLVED}))
    assert "quiz.streak" in c and "quiz.streak" not in default_catalog()
    with pytest.raises(ValueError, match="already registered"):
        c.register(FactSpec("quiz.streak", FactType.INT, "Again.", set()))
    with pytest.raises(ValueError, match="clashes"):
        c.register(FactSpec("quiz.streak.best", FactType.INT, "Nested.", set()))
    with pytest.raises(ValueError, match="namespaced"):
        FactSpec("toplevel", FactType.INT, "No namespace.", set())


def test_changed_by_for_names_and_namespaces() -> None:
    c = default_catalog()
    assert c.changed_by(["stats.logins", "streak.current"]) == {
        A.LOGIN,
        A.LESSON_COMPLETED,
        A.CHALLENGE_SOLVED,
    }
    assert c.changed_by(["streak"]) == {
        A.LESSON_COMPLETED,
        A.CHALLENGE_SOLVED,
        A.ACHIEVEMENT_EARNED,
    }
    assert c.changed_by(["nope.nothing"]) == set(A)
    assert isinstance(c, FactCatalog)


def test_lookup_fact() -> None:
    facts = {"stats": {"points": 3}, "lesson": None}
    assert lookup_fact(facts, "stats.points") == 3
    assert lookup_fact(facts, "lesson.score") is MISSING
    assert lookup_fact(facts, "stats.logins") is MISSING
