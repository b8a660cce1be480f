"""A learner's lesson rows do not depend on the order their events arrive in."""

from __future__ import annotations

from datetime import timedelta
from itertools import count

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine import Engine, Event, UserProfile
from questline.engine.models import UserProgress
from questline.engine.views import LessonView, UserView
from questline.rules.vocabulary import ActivityType as A

from .conftest import T0, caller_score, lesson_for

KINDS = [A.LESSON_STARTED, A.LESSON_COMPLETED, A.CHALLENGE_ATTEMPTED, A.CHALLENGE_SOLVED]
numbers = count(1)


async def rows(db: AsyncEngine, user: UserView) -> list[tuple]:
    async with db.connect() as connection:
        found = await connection.execute(
            select(
                UserProgress.lesson_id,
                UserProgress.status,
                UserProgress.score,
                UserProgress.attempts,
                UserProgress.started_at,
                UserProgress.completed_at,
                UserProgress.solved_at,
            )
            .where(UserProgress.user_id == user.id)
            .order_by(UserProgress.lesson_id)
        )
        return [tuple(row) for row in found]


def one_solve_per_lesson(items: list[tuple[A, int, int]]) -> bool:
    """A challenge is solved once: a later-recorded solve dated earlier is "already solved"
    and changes nothing (docs/engine.md), so each lesson gets one solve here."""
    solved = [lesson for kind, lesson, _ in items if kind is A.CHALLENGE_SOLVED]
    return len(solved) == len(set(solved))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    items=st.lists(
        st.tuples(st.sampled_from(KINDS), st.integers(0, 3), st.integers(0, 100)),
        min_size=1,
        max_size=12,
        unique_by=lambda item: item[2],
    ).filter(one_solve_per_lesson),
    data=st.data(),
)
async def test_any_arrival_order_gives_the_same_rows(
    engine: Engine, db: AsyncEngine, lessons: list[LessonView], items: list, data: st.DataObject
) -> None:
    """Status, best score, attempts, and the earliest start, completion and solve."""
    shuffled = data.draw(st.permutations(items))
    learners = [
        await engine.register_user(UserProfile(telegram_id=98_000 + next(numbers)))
        for _ in range(2)
    ]
    for learner, order in zip(learners, (sorted(items, key=lambda i: i[2]), shuffled), strict=True):
        for kind, lesson, minute in order:
            await engine.record(
                Event(
                    type=kind,
                    user_id=learner.id,
                    lesson_id=lesson_for(kind, lesson, lessons).id,
                    score=caller_score(kind, minute),
                    occurred_at=T0 + timedelta(minutes=minute),
                )
            )
    in_order, out_of_order = [await rows(db, learner) for learner in learners]
    assert in_order == out_of_order
