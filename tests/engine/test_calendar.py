"""The heat-map's data: a learner's activities per local day, in the engine's time zone."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from itertools import count
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine import Engine, Event, UserProfile
from questline.engine.errors import QuestlineError, UnknownUser
from questline.engine.views import LessonView, UserView
from questline.rules.vocabulary import ActivityType as A

from .conftest import T0, lesson_for, make_engine
from .test_aggregates import statements

ZONES = [
    "UTC",
    "Asia/Kathmandu",  # +5:45
    "America/New_York",  # DST at 2 am
    "America/Santiago",  # DST at midnight
    "Pacific/Kiritimati",  # +14
    "Pacific/Pago_Pago",  # -11
]
KINDS = [A.LOGIN, A.LESSON_STARTED, A.LESSON_COMPLETED, A.CHALLENGE_ATTEMPTED, A.CHALLENGE_SOLVED]
numbers = count()


@pytest.fixture
async def engines(db: AsyncEngine) -> AsyncIterator[dict[str, Engine]]:
    """One engine per zone on the same database."""
    made = {zone: await make_engine(db, timezone=zone) for zone in ZONES}
    yield made
    for engine in made.values():
        await engine.shutdown()


async def newcomer(engine: Engine) -> UserView:
    return await engine.register_user(UserProfile(telegram_id=70_000 + next(numbers)))


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    recorded_in=st.sampled_from(ZONES),
    read_in=st.sampled_from(ZONES),
    items=st.lists(
        st.tuples(st.sampled_from(KINDS), st.integers(0, 5), st.integers(0, 60 * 24 * 7 * 14)),
        max_size=25,
    ),
    at_minutes=st.integers(60 * 24 * 7 * 2, 60 * 24 * 7 * 14),
    weeks=st.integers(1, 13),
)
async def test_counts_per_day_equal_a_count_of_the_events_by_local_date(
    engines: dict[str, Engine],
    lessons: list[LessonView],
    recorded_in: str,
    read_in: str,
    items: list[tuple[A, int, int]],
    at_minutes: int,
    weeks: int,
) -> None:
    """Recorded by an engine in one zone, read by one in the same or another zone (whose day
    rows do not match: the log is read), the counts are the events' local dates counted."""
    learner = await newcomer(engines[recorded_in])
    events = [
        Event(
            type=kind,
            user_id=learner.id,
            lesson_id=None if kind is A.LOGIN else lesson_for(kind, lesson, lessons).id,
            occurred_at=T0 + timedelta(minutes=minutes),
        )
        for kind, lesson, minutes in items
    ]
    results = await engines[recorded_in].record_many(events)
    at = T0 + timedelta(minutes=at_minutes)
    calendar = await engines[read_in].activity_calendar(user_id=learner.id, weeks=weeks, at=at)

    zone = ZoneInfo(read_in)
    today = at.astimezone(zone).date()
    first = today - timedelta(days=today.weekday(), weeks=weeks - 1)
    expected = Counter(
        day
        for event, result in zip(events, results, strict=True)
        if not result.already_solved
        and first <= (day := event.occurred_at.astimezone(zone).date()) <= today
    )
    assert (calendar.first, calendar.last, calendar.weeks) == (first, today, weeks)
    assert calendar.first.weekday() == 0
    assert dict(calendar.counts) == dict(expected)
    assert calendar.user.id == learner.id


async def test_awards_are_not_activities(
    engine: Engine, learner: UserView, lessons: list[LessonView]
) -> None:
    """Completing the first lesson earns an award; the day counts the two learner events."""
    result = await engine.record(
        Event(type=A.LESSON_STARTED, user_id=learner.id, lesson_id=lessons[0].id, occurred_at=T0)
    )
    result = await engine.record(
        Event(type=A.LESSON_COMPLETED, user_id=learner.id, lesson_id=lessons[0].id, occurred_at=T0)
    )
    assert result.awards
    calendar = await engine.activity_calendar(telegram_id=learner.telegram_id, at=T0)
    assert dict(calendar.counts) == {T0.date(): 2}
    assert (calendar.first, calendar.last) == (date(2025, 12, 15), T0.date())
    assert len(calendar.days()) == 11 * 7 + 1


async def test_a_learner_without_activity_has_an_empty_calendar(
    engine: Engine, learner: UserView
) -> None:
    calendar = await engine.activity_calendar(user_id=learner.id, at=T0)
    assert calendar.counts == {} and calendar.weeks == 12


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"weeks": 0}, "weeks must be between 1 and 53, not 0"),
        ({"weeks": 54}, "weeks must be between 1 and 53, not 54"),
        ({"at": datetime(2026, 3, 2)}, "must be timezone-aware, not 2026-03-02T00:00:00"),
        ({"at": datetime(1, 1, 1, tzinfo=UTC)}, "must lie between 1000-01-02 and 9999-12-30"),
    ],
)
async def test_bad_requests_are_refused_in_one_line(
    engine: Engine, learner: UserView, options: dict, message: str
) -> None:
    with pytest.raises(QuestlineError, match=message) as raised:
        await engine.activity_calendar(user_id=learner.id, **options)
    assert "\n" not in str(raised.value)


async def test_an_unknown_learner_is_refused(engine: Engine) -> None:
    with pytest.raises(UnknownUser, match="no learner with telegram_id 404"):
        await engine.activity_calendar(telegram_id=404)


async def test_the_last_days_of_the_calendar_range_are_readable(
    engine: Engine, learner: UserView
) -> None:
    """The newest moment the engine stores: the window's end does not overflow."""
    latest = datetime(9999, 12, 30, 23, 59, tzinfo=UTC)
    await engine.record(Event(type=A.LOGIN, user_id=learner.id, occurred_at=latest))
    calendar = await engine.activity_calendar(user_id=learner.id, at=latest)
    assert dict(calendar.counts) == {latest.date(): 1}


async def test_in_the_zone_of_the_day_rows_the_log_is_not_read(
    engine: Engine, db: AsyncEngine, learner: UserView
) -> None:
    await engine.record(Event(type=A.LOGIN, user_id=learner.id, occurred_at=T0))
    with statements(db) as sent:
        calendar = await engine.activity_calendar(user_id=learner.id, at=T0)
    assert dict(calendar.counts) == {T0.date(): 1}
    assert [s for s in sent if "activity_log" in s] == []
    assert any("learner_days" in s for s in sent)
