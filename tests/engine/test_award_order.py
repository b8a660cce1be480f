"""Arrival order does not decide which achievements a learner earns: with the default
catalog, any permutation of a learner's events earns what recording them in time order earns."""

from __future__ import annotations

from datetime import timedelta
from itertools import count

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine import Engine, Event, UserProfile
from questline.engine.models import Achievement, UserAchievement
from questline.engine.views import LessonView, UserView
from questline.rules.vocabulary import ActivityType as A

from .conftest import T0, caller_score, lesson_for
from .test_progress_order import one_solve_per_lesson

KINDS = [A.LOGIN, A.LESSON_STARTED, A.LESSON_COMPLETED, A.CHALLENGE_ATTEMPTED, A.CHALLENGE_SOLVED]
numbers = count(1)
# (kind, lesson index, hours after T0): distinct moments over twelve days, any hour of the day;
# one solve per challenge (a second solve is "already solved" and writes nothing, so the one
# recorded first is the one the log keeps: docs/engine.md)
events = st.lists(
    st.tuples(st.sampled_from(KINDS), st.integers(0, 11), st.integers(0, 12 * 24 - 1)),
    min_size=1,
    max_size=30,
    unique_by=lambda item: item[2],
).filter(one_solve_per_lesson)


async def earned(db: AsyncEngine, user: UserView) -> set[str]:
    async with db.connect() as connection:
        slugs = await connection.scalars(
            select(Achievement.slug)
            .join(UserAchievement, UserAchievement.achievement_id == Achievement.id)
            .where(UserAchievement.user_id == user.id)
        )
        return set(slugs)


async def record_all(
    engine: Engine, lessons: list[LessonView], items: list[tuple[A, int, int]]
) -> UserView:
    user = await engine.register_user(UserProfile(telegram_id=97_000 + next(numbers)))
    for kind, lesson, hour in items:
        await engine.record(
            Event(
                type=kind,
                user_id=user.id,
                lesson_id=None if kind is A.LOGIN else lesson_for(kind, lesson, lessons).id,
                score=caller_score(kind, 40 + hour % 60),
                occurred_at=T0 + timedelta(hours=hour, minutes=7),
            )
        )
    return user


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(items=events, data=st.data())
async def test_any_arrival_order_earns_what_time_order_earns(
    engine: Engine, db: AsyncEngine, lessons: list[LessonView], items: list, data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(items))
    in_order = await record_all(engine, lessons, sorted(items, key=lambda item: item[2]))
    late = await record_all(engine, lessons, shuffled)
    assert await earned(db, late) == await earned(db, in_order)
