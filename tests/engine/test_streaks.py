"""Streaks over local days: gaps, same-day duplicates, time zones, midnight and DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine import Engine, Event, UserProfile
from questline.engine.streaks import Streak, local_dates, streak_on
from questline.rules.vocabulary import ActivityType as A

from .conftest import make_engine

D = date(2026, 3, 10)


def days(*offsets: int) -> list[date]:
    return [D + timedelta(days=offset) for offset in offsets]


def test_consecutive_days_ending_today() -> None:
    assert streak_on(days(-2, -1, 0), D) == Streak(current=3, longest=3)


def test_a_run_that_ended_yesterday_is_still_current() -> None:
    assert streak_on(days(-3, -2, -1), D) == Streak(current=3, longest=3)


def test_a_gap_breaks_the_current_streak_but_not_the_longest() -> None:
    assert streak_on(days(-9, -8, -7, -6, -2, -1, 0), D) == Streak(current=3, longest=4)
    assert streak_on(days(-5, -4, -3), D) == Streak(current=0, longest=3)


def test_same_day_duplicates_count_once() -> None:
    assert streak_on(days(0, 0, 0, -1, -1), D) == Streak(current=2, longest=2)


def test_no_activity() -> None:
    assert streak_on([], D) == Streak(current=0, longest=0)


@given(st.sets(st.integers(-60, 0)))
def test_streak_properties(offsets: set[int]) -> None:
    streak = streak_on(days(*offsets), D)
    assert 0 <= streak.current <= streak.longest <= len(offsets)
    if 0 in offsets or -1 in offsets:
        assert streak.current >= 1
    # adding today's activity never shortens either streak
    extended = streak_on(days(*offsets, 0), D)
    assert extended.current >= streak.current and extended.longest >= streak.longest


def test_local_day_depends_on_the_time_zone() -> None:
    late = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)
    assert local_dates([late], ZoneInfo("UTC")) == {date(2026, 3, 10)}
    assert local_dates([late], ZoneInfo("Europe/Moscow")) == {date(2026, 3, 11)}
    assert local_dates([late], ZoneInfo("America/Los_Angeles")) == {date(2026, 3, 10)}


def test_dst_change_does_not_merge_or_split_days() -> None:
    """Europe/Berlin springs forward on 2026-03-29 (02:00 → 03:00) and falls back on 10-25."""
    berlin = ZoneInfo("Europe/Berlin")
    spring = [
        datetime(2026, 3, 28, 22, 30, tzinfo=UTC),  # 23:30 CET, Mar 28
        datetime(2026, 3, 28, 23, 30, tzinfo=UTC),  # 00:30 CET, Mar 29
        datetime(2026, 3, 29, 21, 30, tzinfo=UTC),  # 23:30 CEST, Mar 29
        datetime(2026, 3, 29, 22, 30, tzinfo=UTC),  # 00:30 CEST, Mar 30
    ]
    assert sorted(local_dates(spring, berlin)) == [
        date(2026, 3, 28),
        date(2026, 3, 29),
        date(2026, 3, 30),
    ]
    autumn = [
        datetime(2026, 10, 24, 22, 30, tzinfo=UTC),  # 00:30 CEST, Oct 25 (a 25-hour day)
        datetime(2026, 10, 25, 22, 30, tzinfo=UTC),  # 23:30 CET, Oct 25
    ]
    assert local_dates(autumn, berlin) == {date(2026, 10, 25)}


async def test_engine_counts_streaks_in_its_time_zone(db: AsyncEngine) -> None:
    """The same three instants are three consecutive days in Tokyo but two in UTC."""
    moments = [
        datetime(2026, 3, 10, 14, 30, tzinfo=UTC),  # Tokyo 23:30 Mar 10
        datetime(2026, 3, 10, 15, 30, tzinfo=UTC),  # Tokyo 00:30 Mar 11
        datetime(2026, 3, 11, 16, 0, tzinfo=UTC),  # Tokyo 01:00 Mar 12
    ]
    results = {}
    for zone in ("UTC", "Asia/Tokyo"):
        engine = await make_engine(db, timezone=zone)
        user = await engine.register_user(UserProfile(telegram_id=hash(zone) % 10**9 + 1))
        lessons = [lesson for module in await engine.modules() for lesson in module.lessons]
        for lesson, moment in zip(lessons, moments, strict=False):
            await engine.record(
                Event(
                    type=A.LESSON_COMPLETED,
                    user_id=user.id,
                    lesson_id=lesson.id,
                    occurred_at=moment,
                )
            )
        report = await engine.progress(user_id=user.id)
        results[zone] = report.streak_longest
        await engine.shutdown()
    assert results == {"UTC": 2, "Asia/Tokyo": 3}


async def test_streak_rule_fires_on_the_third_consecutive_day(engine: Engine) -> None:
    user = await engine.register_user(UserProfile(telegram_id=77))
    lessons = [lesson for module in await engine.modules() for lesson in module.lessons]
    start = datetime(2026, 3, 10, 20, 0, tzinfo=UTC)
    fired = []
    for day, lesson in enumerate(lessons[:3]):
        result = await engine.record(
            Event(
                type=A.LESSON_COMPLETED,
                user_id=user.id,
                lesson_id=lesson.id,
                occurred_at=start + timedelta(days=day),
            )
        )
        fired.append("streak-3" in {award.slug for award in result.awards})
    assert fired == [False, False, True]
