"""Learner aggregates: kept incrementally they equal a rebuild from the log, in any order."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import timedelta
from itertools import count
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine import Engine, Event, UserProfile
from questline.engine.models import LearnerDay, LearnerTotals, UserProgress
from questline.engine.views import LessonView, UserView
from questline.rules.vocabulary import ActivityType as A

from .conftest import T0, caller_score, lesson_for, make_engine

KINDS = [A.LOGIN, A.LESSON_STARTED, A.LESSON_COMPLETED, A.CHALLENGE_ATTEMPTED, A.CHALLENGE_SOLVED]


@pytest.fixture
async def zoned(db: AsyncEngine) -> AsyncIterator[Engine]:
    """An engine whose days are Kathmandu days (UTC+5:45): day boundaries off the hour."""
    engine = await make_engine(db, timezone="Asia/Kathmandu")
    yield engine
    await engine.shutdown()


async def stored(db: AsyncEngine, user_ids: list[int]) -> list[Any]:
    """The aggregates rows and first-solve times of these learners, as plain tuples."""
    async with db.connect() as connection:
        totals = (
            await connection.execute(
                select(LearnerTotals.__table__)
                .where(LearnerTotals.user_id.in_(user_ids))
                .order_by(LearnerTotals.user_id)
            )
        ).all()
        days = (
            await connection.execute(
                select(LearnerDay.__table__)
                .where(LearnerDay.user_id.in_(user_ids))
                .order_by(LearnerDay.user_id, LearnerDay.day)
            )
        ).all()
        solved = (
            await connection.execute(
                select(UserProgress.user_id, UserProgress.lesson_id, UserProgress.solved_at)
                .where(UserProgress.user_id.in_(user_ids))
                .order_by(UserProgress.user_id, UserProgress.lesson_id)
            )
        ).all()
    return [[tuple(row) for row in rows] for rows in (totals, days, solved)]


cohorts = count()


async def cohort(engine: Engine, size: int = 2) -> list[UserView]:
    number = next(cohorts)
    return [
        await engine.register_user(UserProfile(telegram_id=50_000 + 10 * number + n))
        for n in range(size)
    ]


@st.composite
def streams(draw: st.DrawFn) -> list[tuple[int, A, int, int]]:
    """(learner, kind, lesson index, minutes after T0) in a random arrival order."""
    items = draw(
        st.lists(
            st.tuples(
                st.integers(0, 1),
                st.sampled_from(KINDS),
                st.integers(0, 5),
                st.integers(0, 60 * 24 * 14),
            ),
            min_size=1,
            max_size=30,
        )
    )
    return draw(st.permutations(items))


def to_events(
    items: list[tuple[int, A, int, int]], users: list[UserView], lessons: list[LessonView]
) -> list[Event]:
    return [
        Event(
            type=kind,
            user_id=users[who].id,
            lesson_id=None if kind is A.LOGIN else lesson_for(kind, lesson, lessons).id,
            score=caller_score(kind, (lesson * 7 + minutes) % 101),
            occurred_at=T0 + timedelta(minutes=minutes),
        )
        for who, kind, lesson, minutes in items
    ]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(items=streams(), chunk_size=st.one_of(st.none(), st.integers(1, 7)))
async def test_incremental_aggregates_equal_a_rebuild_from_the_log(
    zoned: Engine, db: AsyncEngine, lessons: list[LessonView], items: list, chunk_size: int | None
) -> None:
    """Random streams in random arrival order, one by one (None) or in chunks."""
    users = await cohort(zoned)
    ids = [user.id for user in users]
    events = to_events(items, users, lessons)
    if chunk_size is None:
        for item in events:
            await zoned.record(item)
    else:
        await zoned.record_many(events, chunk_size=chunk_size)
    incremental = await stored(db, ids)
    await zoned.rebuild_aggregates()
    assert await stored(db, ids) == incremental


async def test_a_late_day_joins_two_runs_into_one_streak(
    engine: Engine, db: AsyncEngine, learner: UserView, lessons: list[LessonView]
) -> None:
    """Lessons completed on days 10, 12, then (late) 11: a 3-day run, and streak-3 fires."""
    awarded = []
    for offset, lesson in ((0, lessons[0]), (2, lessons[1]), (1, lessons[2])):
        result = await engine.record(
            Event(
                type=A.LESSON_COMPLETED,
                user_id=learner.id,
                lesson_id=lesson.id,
                score=50,
                occurred_at=T0 + timedelta(days=offset),
            )
        )
        awarded += [award.slug for award in result.awards]
    assert "streak-3" in awarded
    [[totals], _, _] = await stored(db, [learner.id])
    row = dict(zip(LearnerTotals.__table__.columns.keys(), totals, strict=True))
    assert (row["streak_current"], row["streak_longest"], row["days_active"]) == (3, 3, 3)


@contextmanager
def statements(db: AsyncEngine) -> Iterator[list[str]]:
    """The SQL statements sent to the database while the block runs."""
    sent: list[str] = []

    def listen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    event.listen(db.sync_engine, "before_cursor_execute", listen)
    try:
        yield sent
    finally:
        event.remove(db.sync_engine, "before_cursor_execute", listen)


async def test_recording_never_reads_the_activity_log(
    engine: Engine, db: AsyncEngine, learner: UserView, lessons: list[LessonView]
) -> None:
    """Once a learner's aggregates exist, no event reads activity_log (only writes it)."""
    await engine.record(Event(type=A.LOGIN, user_id=learner.id, occurred_at=T0))
    with statements(db) as sent:
        for day, kind in enumerate([A.LOGIN, A.LESSON_STARTED, A.LESSON_COMPLETED] * 3):
            await engine.record(
                Event(
                    type=kind,
                    user_id=learner.id,
                    lesson_id=None if kind is A.LOGIN else lessons[day].id,
                    occurred_at=T0 - timedelta(days=day),  # every one of them late
                )
            )
    reads = [s for s in sent if s.lstrip().upper().startswith("SELECT") and "activity_log" in s]
    assert sent and reads == []


async def test_figures_missing_for_a_learner_with_a_history_are_built_from_the_log(
    engine: Engine, db: AsyncEngine, learner: UserView, lessons: list[LessonView]
) -> None:
    """Without stored figures (an upgrade, rows deleted by hand) the first event after counts
    the history; a learner with no history at all starts from zero without reading the log."""
    for day in range(3):
        await engine.record(
            Event(
                type=A.LESSON_COMPLETED,
                user_id=learner.id,
                lesson_id=lessons[day].id,
                occurred_at=T0 + timedelta(days=day),
            )
        )
    async with db.begin() as connection:
        await connection.execute(delete(LearnerDay).where(LearnerDay.user_id == learner.id))
        await connection.execute(delete(LearnerTotals).where(LearnerTotals.user_id == learner.id))
    await engine.record(Event(type=A.LOGIN, user_id=learner.id, occurred_at=T0 + timedelta(3)))
    kept = await stored(db, [learner.id])
    [totals] = kept[0]
    row = dict(zip(LearnerTotals.__table__.columns.keys(), totals, strict=True))
    assert (row["lessons_completed"], row["logins"], row["streak_current"]) == (3, 1, 3)
    await engine.rebuild_aggregates()
    assert await stored(db, [learner.id]) == kept

    [newcomer, granted] = await cohort(engine, size=2)
    with statements(db) as sent:
        await engine.record(Event(type=A.LOGIN, user_id=newcomer.id, occurred_at=T0))
    assert [s for s in sent if s.lstrip().upper().startswith("SELECT activity_log")] == []
    assert (await stored(db, [newcomer.id]))[0] != []

    # freezes granted before any event are a history too
    await engine.grant_freezes(2, reason="welcome", user_id=granted.id, at=T0)
    async with db.begin() as connection:
        await connection.execute(delete(LearnerTotals).where(LearnerTotals.user_id == granted.id))
    await engine.record(Event(type=A.LOGIN, user_id=granted.id, occurred_at=T0))
    freezes = await engine.freezes(user_id=granted.id)
    assert (freezes.granted, freezes.held) == (2, 2)
