"""Daily goals: set and cleared, today's progress, days in a row met, and rules on them."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from itertools import count
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine import Engine, Event, UserProfile
from questline.engine.errors import InvalidGoal, QuestlineError, UnknownUser
from questline.engine.views import LessonView, UserView
from questline.rules.vocabulary import ActivityType as A

from .conftest import T0, row_counts

numbers = count(1)


async def learner(engine: Engine) -> UserView:
    return await engine.register_user(UserProfile(telegram_id=95_000 + next(numbers)))


async def complete(engine: Engine, user: UserView, lesson: LessonView, at: datetime) -> set[str]:
    result = await engine.record(
        Event(type=A.LESSON_COMPLETED, user_id=user.id, lesson_id=lesson.id, occurred_at=at)
    )
    return {award.slug for award in result.awards}


async def test_a_goal_is_set_changed_and_cleared(engine: Engine, lessons: list[LessonView]) -> None:
    someone = await learner(engine)
    assert (await engine.daily_goal(user_id=someone.id, at=T0)).lessons is None
    assert (await engine.set_daily_goal(2, user_id=someone.id)).lessons == 2
    await complete(engine, someone, lessons[0], T0)
    standing = await engine.daily_goal(user_id=someone.id, at=T0 + timedelta(hours=1))
    assert (standing.lessons, standing.done_today, standing.met_today) == (2, 1, False)
    await engine.set_daily_goal(1, telegram_id=someone.telegram_id)
    standing = await engine.daily_goal(user_id=someone.id, at=T0 + timedelta(hours=1))
    assert (standing.lessons, standing.met_today, standing.days_met_in_a_row) == (1, True, 1)
    await engine.set_daily_goal(None, user_id=someone.id)
    assert (await engine.daily_goal(user_id=someone.id, at=T0)).lessons is None


@pytest.mark.parametrize("lessons", [0, -1, 21])
async def test_a_goal_out_of_range_is_refused(
    engine: Engine, db: AsyncEngine, lessons: int
) -> None:
    someone = await learner(engine)
    before = await row_counts(db)
    with pytest.raises(InvalidGoal, match=f"a daily goal is 1 to 20 lessons, not {lessons}"):
        await engine.set_daily_goal(lessons, user_id=someone.id)
    assert await row_counts(db) == before


async def test_unknown_learners_and_naive_moments_are_refused(engine: Engine) -> None:
    with pytest.raises(UnknownUser):
        await engine.set_daily_goal(2, telegram_id=123_456_789)
    someone = await learner(engine)
    with pytest.raises(QuestlineError, match="the moment must include a time zone"):
        await engine.daily_goal(user_id=someone.id, at=datetime(2026, 3, 2))


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    goal=st.integers(1, 3),
    days=st.lists(st.integers(0, 9), max_size=14),
    today=st.integers(0, 10),
)
async def test_days_in_a_row_equal_a_count_by_day(
    engine: Engine, lessons: list[LessonView], goal: int, days: list[int], today: int
) -> None:
    """Counted back from today, or from yesterday while today is not met yet."""
    someone = await learner(engine)
    await engine.set_daily_goal(goal, user_id=someone.id)
    for position, day in enumerate(sorted(days)):
        moment = T0 + timedelta(days=day, minutes=position)
        await complete(engine, someone, lessons[position % len(lessons)], moment)
    per_day = Counter(day for day in days if day <= today)
    start = today if per_day[today] >= goal else today - 1
    expected = 0
    while per_day[start - expected] >= goal:
        expected += 1
    standing = await engine.daily_goal(user_id=someone.id, at=T0 + timedelta(days=today))
    assert (standing.done_today, standing.days_met_in_a_row) == (per_day[today], expected)


async def test_a_rule_on_days_in_a_row_fires_on_the_completion_that_makes_them(
    engine: Engine, lessons: list[LessonView], tmp_path: Path
) -> None:
    rule = {
        "slug": "steady",
        "type": "STREAK",
        "title": "Steady",
        "points": 5,
        "criteria": {">=": [{"var": "goal.days_met_in_a_row"}, 3]},
    }
    path = tmp_path / "steady.json"
    path.write_text(json.dumps(rule))
    await engine.load_rules([path])
    someone, without = await learner(engine), await learner(engine)
    await engine.set_daily_goal(2, user_id=someone.id)
    earned: list[set[str]] = []
    for day in range(3):
        for n in range(2):
            moment = T0 + timedelta(days=day, hours=n)
            earned.append(await complete(engine, someone, lessons[(2 * day + n) % 5], moment))
            await complete(engine, without, lessons[(2 * day + n) % 5], moment)
    assert ["steady" in awards for awards in earned] == [False] * 5 + [True]
    statuses = await engine.achievements(user_id=without.id)
    assert "steady" not in {status.slug for status in statuses if status.earned_at}
