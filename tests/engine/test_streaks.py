"""Streaks over local days: the local day of a moment (time zones, midnight, DST) and streaks
counted by the engine in its time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine import Engine, Event, UserProfile
from questline.engine.aggregates import local_day
from questline.rules.vocabulary import ActivityType as A

from .conftest import make_engine


def local_dates(moments: list[datetime], zone: ZoneInfo) -> set[date]:
    return {date.fromordinal(local_day(moment, zone)) for moment in moments}


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
