"""Group commit: concurrent record() calls share transactions, with one-by-one semantics."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from itertools import count

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event as sa_event
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine import Engine, Event, UserProfile
from questline.engine.errors import QuestlineError
from questline.engine.models import ActivityLog, User
from questline.engine.views import LessonView, UserView
from questline.rules.vocabulary import ActivityType as A

from .conftest import T0, make_engine
from .test_exactly_once import observed

KINDS = [A.LOGIN, A.LESSON_STARTED, A.LESSON_COMPLETED, A.CHALLENGE_ATTEMPTED, A.CHALLENGE_SOLVED]
UNKNOWN_LESSON = 10**9


@pytest.fixture
async def plain(db: AsyncEngine) -> AsyncIterator[Engine]:
    """An engine that records each event in a transaction of its own."""
    engine = await make_engine(db, group_commit=False)
    yield engine
    await engine.shutdown()


cohorts = count()


async def cohort(engine: Engine) -> list[UserView]:
    number = next(cohorts)
    return [
        await engine.register_user(UserProfile(telegram_id=70_000 + 10 * number + n))
        for n in range(3)
    ]


Item = tuple[int, A, int, int, str | None]


@st.composite
def calls(draw: st.DrawFn) -> list[Item]:
    """(learner, kind, lesson index or -1 for an unknown lesson, hours, key) per call."""
    return draw(
        st.lists(
            st.tuples(
                st.integers(0, 3),  # 3: a learner who does not exist
                st.sampled_from(KINDS),
                st.integers(-1, 5),
                st.integers(0, 24 * 9),
                st.one_of(st.none(), st.sampled_from(["k1", "k2"])),
            ),
            min_size=1,
            max_size=30,
        )
    )


def to_event(item: Item, users: list[UserView], lessons: list[LessonView]) -> Event:
    who, kind, lesson, hours, key = item
    scored = kind in (A.LESSON_COMPLETED, A.CHALLENGE_SOLVED)
    return Event(
        type=kind,
        user_id=users[who].id if who < len(users) else 10**9,
        lesson_id=None
        if kind is A.LOGIN
        else (lessons[lesson].id if lesson >= 0 else UNKNOWN_LESSON),
        score=(hours * 13) % 101 if scored else None,
        occurred_at=T0 + timedelta(hours=hours),
        # a key reused for another kind of event is refused
        idempotency_key=key,
    )


async def outcome(engine: Engine, item: Event) -> object:
    try:
        result = await engine.record(item)
    except QuestlineError as error:
        return type(error).__name__
    return (result.replayed, [award.slug for award in result.awards])


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(items=calls())
async def test_concurrent_callers_get_what_one_by_one_recording_gives(
    engine: Engine, plain: Engine, lessons: list[LessonView], items: list[Item]
) -> None:
    """The same calls: all at once through group commit, and one at a time without it."""
    grouped_users, single_users = await cohort(engine), await cohort(plain)
    grouped = await asyncio.gather(
        *(outcome(engine, to_event(item, grouped_users, lessons)) for item in items)
    )
    singles = [await outcome(plain, to_event(item, single_users, lessons)) for item in items]
    assert grouped == singles
    for mine, theirs in zip(grouped_users, single_users, strict=True):
        assert await observed(engine, mine) == await observed(plain, theirs)


async def test_concurrent_calls_share_transactions(
    engine: Engine, db: AsyncEngine, lessons: list[LessonView]
) -> None:
    """64 learners' calls at once take far fewer than 64 commits; a bad one fails alone."""
    users = [await engine.register_user(UserProfile(telegram_id=90_000 + n)) for n in range(64)]
    commits = 0

    def counted(*args: object) -> None:
        nonlocal commits
        commits += 1

    sa_event.listen(db.sync_engine, "commit", counted)
    try:
        events = [Event(type=A.LOGIN, user_id=user.id, occurred_at=T0) for user in users]
        events[10] = Event(type=A.LESSON_STARTED, user_id=users[10].id, lesson_id=UNKNOWN_LESSON)
        outcomes = await asyncio.gather(
            *(engine.record(item) for item in events), return_exceptions=True
        )
    finally:
        sa_event.remove(db.sync_engine, "commit", counted)
    assert [type(o).__name__ for o in outcomes if isinstance(o, BaseException)] == ["UnknownLesson"]
    assert len({o.activity_id for o in outcomes if not isinstance(o, BaseException)}) == 63
    assert commits < 8


def test_bad_group_settings_are_refused() -> None:
    with pytest.raises(QuestlineError, match="linger must be >= 0"):
        Engine("sqlite+aiosqlite://", linger=-1)


@pytest.mark.parametrize("others", [0, 2], ids=["alone", "in-a-group"])
async def test_an_event_whose_caller_gave_up_waiting_for_the_database_is_not_recorded(
    engine: Engine, db: AsyncEngine, learner: UserView, others: int
) -> None:
    """The caller (an HTTP request past its timeout) is cancelled while its transaction waits
    for a lock another connection holds; once the lock is free, nothing of its event is
    written, and the events of callers still waiting are."""
    patient = await cohort(engine)
    async with db.connect() as other, other.begin():  # SQLite: the write lock; MySQL: the row
        await other.execute(select(User.id).where(User.id == learner.id).with_for_update())
        gave_up = asyncio.create_task(
            engine.record(Event(type=A.LOGIN, user_id=learner.id, occurred_at=T0))
        )
        waiting = [
            asyncio.create_task(engine.record(Event(type=A.LOGIN, user_id=user.id, occurred_at=T0)))
            for user in patient[:others]
        ]
        await asyncio.sleep(0.3)
        gave_up.cancel()
    assert all(not result.replayed for result in await asyncio.gather(*waiting))
    await engine.record(Event(type=A.LOGIN, user_id=learner.id, occurred_at=T0 + timedelta(1)))
    async with db.connect() as connection:
        logins = await connection.scalar(
            select(func.count()).where(ActivityLog.user_id == learner.id)
        )
    assert logins == 1  # the later one only
