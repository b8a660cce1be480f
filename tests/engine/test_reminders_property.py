"""Property: over any clock and any interleaving of two schedulers whose senders succeed, are
asked to wait, or die before sending, no learner gets a reminder twice for one local day and
kind, and none goes out in quiet hours or for another day than the learner's today."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from itertools import count

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine import Engine, Event, UserProfile
from questline.engine.models import ReminderSend, ReminderSettings
from questline.engine.reminder_times import ReminderPolicy, zone_of
from questline.engine.views import LessonView, ReminderClaim
from questline.rules.vocabulary import ActivityType as A

from .conftest import make_engine

numbers = count(1)
ZONES = ("Europe/Berlin", "America/New_York", "+05:30", "Asia/Tokyo")
STARTS = (
    datetime(2026, 3, 27, tzinfo=UTC),  # Europe's spring change on the 29th
    datetime(2026, 10, 24, tzinfo=UTC),  # and the autumn one on the 25th
    datetime(2026, 11, 1, tzinfo=UTC),  # New York's autumn change
)
OUTCOMES = ("sent", "sent", "wait", "die")

steps = st.lists(
    st.tuples(
        st.integers(0, 9 * 60),  # minutes the clock moves on
        st.sampled_from(("first", "second", "both")),
        st.lists(st.sampled_from(OUTCOMES), min_size=8, max_size=8),
    ),
    min_size=1,
    max_size=25,
)
daily_times = st.lists(st.one_of(st.none(), st.integers(8, 21)), min_size=4, max_size=4)


async def fresh_learners(
    engine: Engine,
    db: AsyncEngine,
    lessons: list[LessonView],
    hours: list[int | None],
    start: datetime,
) -> dict[int, str]:
    async with db.begin() as connection:
        await connection.execute(delete(ReminderSend))
        await connection.execute(delete(ReminderSettings))
    zones = {}
    for zone, hour in zip(ZONES, hours, strict=True):
        user = await engine.register_user(UserProfile(telegram_id=80_000 + next(numbers)))
        await engine.set_reminders(
            user_id=user.id,
            time_zone=zone,
            daily_at=time(hour, 0) if hour is not None else None,
            at=start,
        )
        zones[user.id] = zone
        for back in (2, 1):  # a two-day streak, so that nudges are due too
            await engine.record(
                Event(
                    type=A.LESSON_COMPLETED,
                    user_id=user.id,
                    lesson_id=lessons[back].id,
                    occurred_at=start - timedelta(days=back),
                )
            )
    return zones


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(start=st.sampled_from(STARTS), hours=daily_times, plan=steps)
async def test_no_reminder_is_delivered_twice_for_a_learner_day_and_kind(
    db: AsyncEngine,
    lessons: list[LessonView],
    start: datetime,
    hours: list[int | None],
    plan: list[tuple[int, str, list[str]]],
) -> None:
    engines = {"first": await make_engine(db), "second": await make_engine(db)}
    policy = ReminderPolicy()
    try:
        zones = await fresh_learners(engines["first"], db, lessons, hours, start)
        delivered: Counter[tuple[int, object, str]] = Counter()
        now = start
        for minutes, who, outcomes in plan:
            now += timedelta(minutes=minutes)
            names = ("first", "second") if who == "both" else (who,)
            batches: list[list[ReminderClaim]] = await asyncio.gather(
                *(engines[name].due_reminders(now, limit=3) for name in names)
            )
            claims = [claim for batch in batches for claim in batch]
            for claim, outcome in zip(claims, outcomes * 2, strict=False):
                local = now.astimezone(zone_of(zones[claim.user_id]))
                assert local.date() == claim.day and not policy.quiet(local.time())
                if outcome == "sent":
                    assert await engines["first"].reminder_sent(claim, at=now)
                    delivered[(claim.user_id, claim.day, claim.kind)] += 1
                elif outcome == "wait":
                    retry_at = now + timedelta(minutes=2)
                    assert await engines["second"].reminder_failed(
                        claim, "429", retry_at=retry_at, at=now
                    )

        assert all(times == 1 for times in delivered.values()), delivered
    finally:
        for engine in engines.values():
            await engine.shutdown()
