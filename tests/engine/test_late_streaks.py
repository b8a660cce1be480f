"""Streak rules fire on late events as they would in order: a late day that joins a run is
judged with the run that holds it."""

from __future__ import annotations

from datetime import timedelta
from itertools import count

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from questline.engine import Engine, Event, UserProfile
from questline.engine.views import LessonView, UserView
from questline.rules.vocabulary import ActivityType as A

from .conftest import T0

STREAK_RULES = {"streak-3": 3, "streak-7": 7}
numbers = count(1)


async def learner(engine: Engine) -> UserView:
    return await engine.register_user(UserProfile(telegram_id=99_000 + next(numbers)))


async def streak_awards(
    engine: Engine, lessons: list[LessonView], user: UserView, days: list[int]
) -> set[str]:
    earned: set[str] = set()
    for day in days:
        result = await engine.record(
            Event(
                type=A.LESSON_COMPLETED,
                user_id=user.id,
                lesson_id=lessons[day % len(lessons)].id,
                occurred_at=T0 + timedelta(days=day, hours=1),
            )
        )
        earned |= {award.slug for award in result.awards} & set(STREAK_RULES)
    return earned


def longest_run(days: list[int]) -> int:
    unique, best, run = sorted(set(days)), 0, 0
    for position, day in enumerate(unique):
        run = run + 1 if position and day == unique[position - 1] + 1 else 1
        best = max(best, run)
    return best


async def test_a_late_day_that_completes_a_run_fires_the_streak(
    engine: Engine, lessons: list[LessonView]
) -> None:
    someone = await learner(engine)
    assert await streak_awards(engine, lessons, someone, [10, 12, 11]) == {"streak-3"}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(days=st.lists(st.integers(0, 14), min_size=1, max_size=12, unique=True), data=st.data())
async def test_any_arrival_order_earns_the_streaks_in_order_recording_earns(
    engine: Engine, lessons: list[LessonView], days: list[int], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(days))
    in_order = await streak_awards(engine, lessons, await learner(engine), sorted(days))
    late = await streak_awards(engine, lessons, await learner(engine), shuffled)
    expected = {slug for slug, length in STREAK_RULES.items() if longest_run(days) >= length}
    assert in_order == late == expected
