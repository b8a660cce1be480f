"""Reminders: settings and bad input, due times across time zones and DST, quiet hours, the
streak nudge, blocked learners, retries, and exactly-once claims with several schedulers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from itertools import count

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine import Engine, Event, UserProfile
from questline.engine.errors import InvalidReminder, QuestlineError, UnknownUser
from questline.engine.reminder_times import ReminderPolicy, parse_zone
from questline.engine.views import LessonView, ReminderClaim, UserView
from questline.rules.vocabulary import ActivityType as A

from .conftest import make_engine, row_counts

numbers = count(1)
# Europe's clocks go forward on 2026-03-29 at 01:00 UTC and back on 2026-10-25 at 01:00 UTC.
SPRING = datetime(2026, 3, 27, 0, 0, tzinfo=UTC)  # a Friday
AUTUMN = datetime(2026, 10, 23, 0, 0, tzinfo=UTC)


async def learner(engine: Engine, zone: str | None = None, **settings: object) -> UserView:
    user = await engine.register_user(UserProfile(telegram_id=70_000 + next(numbers)))
    if zone is not None:
        await engine.set_reminders(
            user_id=user.id, time_zone=zone, at=SPRING - timedelta(hours=1), **settings
        )
    return user


async def sweep(engine: Engine, start: datetime, hours: int, step: int = 15) -> list[datetime]:
    """Run the scheduler every `step` minutes for `hours` from `start`; the moments at which
    a claim came out, each settled as sent."""
    moments = []
    for minutes in range(0, hours * 60 + 1, step):
        now = start + timedelta(minutes=minutes)
        for claim in await engine.due_reminders(now):
            assert await engine.reminder_sent(claim, at=now)
            moments.append(now)
    return moments


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("  europe/berlin ", "Europe/Berlin"),
        ("utc", "UTC"),
        ("+03:00", "+03:00"),
        ("UTC+3", "+03:00"),
        ("-0530", "-05:30"),
        ("GMT-12", "-12:00"),
        ("+00:00", "UTC"),
    ],
)
def test_time_zones_a_learner_may_give(given: str, stored: str) -> None:
    assert parse_zone(given) == stored


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("", "a time zone is needed"),
        ("Mars/Olympus", 'unknown time zone "Mars/Olympus"'),
        ("../etc/passwd", 'unknown time zone "../etc/passwd"'),
        # files of the zone database that name no place (the server's own zone, …)
        ("localtime", 'unknown time zone "localtime"'),
        ("Factory", 'unknown time zone "Factory"'),
        ("posixrules", 'unknown time zone "posixrules"'),
        ("+15:00", "offsets run from -12:00 to \\+14:00"),
        ("-13", "offsets run from -12:00 to \\+14:00"),
        ("+03:75", "offsets run from -12:00 to \\+14:00"),
        ("x" * 500, "unknown time zone"),
    ],
)
async def test_bad_settings_are_refused_and_change_nothing(
    engine: Engine, db: AsyncEngine, given: str, message: str
) -> None:
    someone = await learner(engine)
    before = await row_counts(db)
    with pytest.raises(InvalidReminder, match=message):
        await engine.set_reminders(user_id=someone.id, time_zone=given)
    assert await row_counts(db) == before


async def test_a_time_zone_comes_first_and_times_stay_out_of_quiet_hours(
    engine: Engine, db: AsyncEngine
) -> None:
    someone = await learner(engine)
    before = await row_counts(db)
    with pytest.raises(InvalidReminder, match="choose your time zone first"):
        await engine.set_reminders(user_id=someone.id, daily_at=time(9, 0))
    await engine.set_reminders(user_id=someone.id, time_zone="Asia/Tokyo")
    after_zone = await row_counts(db)
    assert after_zone["reminder_settings"] == before["reminder_settings"] + 1
    for late in (time(22, 0), time(23, 30), time(3, 0), time(7, 59)):
        with pytest.raises(InvalidReminder, match=r"within quiet hours \(22:00–08:00\)"):
            await engine.set_reminders(user_id=someone.id, daily_at=late)
    with pytest.raises(InvalidReminder, match="a local hour and minute"):
        await engine.set_reminders(user_id=someone.id, daily_at=time(9, 0, 30))
    with pytest.raises(UnknownUser):
        await engine.set_reminders(telegram_id=1, time_zone="UTC")
    with pytest.raises(QuestlineError, match="no time zone"):
        await engine.set_reminders(user_id=someone.id, at=datetime(2026, 3, 1))
    assert await row_counts(db) == after_zone
    settings = await engine.reminder_settings(user_id=someone.id)
    assert (settings.time_zone, settings.daily_at, settings.streak_nudge) == (
        "Asia/Tokyo",
        None,
        True,
    )
    assert (settings.quiet_start, settings.quiet_end) == (time(22, 0), time(8, 0))


def test_a_policy_that_contradicts_itself_is_refused() -> None:
    with pytest.raises(InvalidReminder, match="in quiet hours"):
        ReminderPolicy(nudge_at=time(23, 0))
    with pytest.raises(InvalidReminder, match="different times"):
        ReminderPolicy(quiet_start=time(8, 0), quiet_end=time(8, 0))


async def test_each_learner_is_reminded_at_nine_in_their_own_time_zone(engine: Engine) -> None:
    zones = {"Europe/Berlin": 8, "Asia/Tokyo": 0, "America/New_York": 13, "+05:30": 3}
    users = {}
    for zone in zones:
        user = await learner(engine, zone, daily_at=time(9, 0), streak_nudge=False)
        users[user.id] = zone
    sent: dict[str, datetime] = {}
    for minutes in range(0, 24 * 60, 15):
        now = SPRING + timedelta(minutes=minutes)
        for claim in await engine.due_reminders(now):
            sent[users[claim.user_id]] = now
            assert claim.kind == "daily" and claim.day == now.astimezone(UTC).date()
            await engine.reminder_sent(claim, at=now)
    at_utc = {zone: moment.hour + moment.minute / 60 for zone, moment in sent.items()}
    assert at_utc == {"Europe/Berlin": 8, "Asia/Tokyo": 0, "America/New_York": 13, "+05:30": 3.5}


@pytest.mark.parametrize(
    ("start", "zone", "before", "after"),
    [
        (SPRING, "Europe/Berlin", 8, 7),  # 09:00 CET = 08:00 UTC, then CEST = 07:00 UTC
        (AUTUMN, "Europe/Berlin", 7, 8),
        (datetime(2026, 3, 6, tzinfo=UTC), "America/New_York", 14, 13),
    ],
)
async def test_daylight_saving_moves_the_utc_moment_not_the_local_time(
    engine: Engine, start: datetime, zone: str, before: int, after: int
) -> None:
    user = await learner(engine, zone)
    await engine.set_reminders(user_id=user.id, daily_at=time(9, 0), streak_nudge=False, at=start)
    moments = await sweep(engine, start, hours=4 * 24)
    assert [moment.hour for moment in moments] == [before, before, after, after]
    assert len({moment.date() for moment in moments}) == 4


async def test_a_missed_day_is_skipped_not_sent_late_or_in_quiet_hours(engine: Engine) -> None:
    user = await learner(engine, "UTC", daily_at=time(21, 30), streak_nudge=False)
    # the schedulers were down from before 21:30 until 22:10: inside quiet hours, nothing goes
    assert await engine.due_reminders(SPRING + timedelta(hours=22, minutes=10)) == []
    # down for two whole days: one reminder, on the evening it runs again
    moments = await sweep(engine, SPRING + timedelta(days=3, hours=12), hours=12)
    assert moments == [SPRING + timedelta(days=3, hours=21, minutes=30)]
    assert (await engine.reminder_settings(user_id=user.id)).daily_at == time(21, 30)


async def learn_on(engine: Engine, user: UserView, lessons: list[LessonView], days: int) -> None:
    """A lesson completed on each of the `days` days before SPRING's day (UTC noon)."""
    for back in range(days, 0, -1):
        await engine.record(
            Event(
                type=A.LESSON_COMPLETED,
                user_id=user.id,
                lesson_id=lessons[back % len(lessons)].id,
                occurred_at=SPRING - timedelta(days=back) + timedelta(hours=12),
            )
        )


@pytest.mark.parametrize(
    ("zone", "daily_at", "learned", "reminded"),
    [
        # 10:00 in Los Angeles (17:00 UTC): no reminder at 18:00 that day (01:00 UTC, the
        # engine's next day); the day before's and the day after's go out
        (
            "America/Los_Angeles",
            time(18, 0),
            timedelta(hours=17),
            [timedelta(hours=1), timedelta(hours=49)],
        ),
        # 08:30 in Tokyo (23:30 UTC, the engine's day before): no reminder at 09:00 that day
        ("Asia/Tokyo", time(9, 0), timedelta(hours=23, minutes=30), [timedelta(0), timedelta(2)]),
    ],
)
async def test_the_daily_reminder_skips_a_learner_who_learned_on_their_own_day(
    engine: Engine,
    lessons: list[LessonView],
    zone: str,
    daily_at: time,
    learned: timedelta,
    reminded: list[timedelta],
) -> None:
    """The engine's days are UTC days here; the learner's day is the one in their zone."""
    user = await learner(engine, zone, daily_at=daily_at, streak_nudge=False)
    await engine.record(
        Event(
            type=A.LESSON_COMPLETED,
            user_id=user.id,
            lesson_id=lessons[0].id,
            occurred_at=SPRING + learned,
        )
    )
    assert await sweep(engine, SPRING, hours=50) == [SPRING + after for after in reminded]


async def test_the_streak_nudge_comes_in_the_evening_only_when_the_streak_is_at_risk(
    engine: Engine, lessons: list[LessonView]
) -> None:
    at_risk = await learner(engine, "Europe/Berlin")
    learned_today = await learner(engine, "Europe/Berlin")
    no_streak = await learner(engine, "Europe/Berlin")
    await learn_on(engine, at_risk, lessons, 5)
    await learn_on(engine, learned_today, lessons, 3)
    await engine.record(
        Event(
            type=A.LESSON_COMPLETED,
            user_id=learned_today.id,
            lesson_id=lessons[0].id,
            occurred_at=SPRING + timedelta(hours=9),
        )
    )
    assert await engine.due_reminders(SPRING + timedelta(hours=17, minutes=59)) == []
    claims = await engine.due_reminders(SPRING + timedelta(hours=18))  # 19:00 in Berlin
    assert [(c.user_id, c.kind, c.streak) for c in claims] == [(at_risk.id, "streak", 5)]
    assert no_streak.id not in {claim.user_id for claim in claims}


async def test_a_streak_kept_by_freezes_is_nudged_and_shown_in_the_reminder(
    engine: Engine, lessons: list[LessonView]
) -> None:
    """Learning until two days ago, with a freeze covering yesterday: `streak.current` says
    the run is alive, and so must the reminders (they said 0 and nudged nobody)."""
    frozen = await learner(engine, "UTC", daily_at=time(9, 0), streak_nudge=False)
    broken = await learner(engine, "UTC", daily_at=time(9, 0), streak_nudge=False)
    nudged_frozen = await learner(engine, "UTC")  # the evening nudge only
    nudged_broken = await learner(engine, "UTC")
    for user in (frozen, broken, nudged_frozen, nudged_broken):
        for back in (3, 2):  # Tuesday and Wednesday; Thursday missed; SPRING is Friday
            await engine.record(
                Event(
                    type=A.LESSON_COMPLETED,
                    user_id=user.id,
                    lesson_id=lessons[back].id,
                    occurred_at=SPRING - timedelta(days=back) + timedelta(hours=12),
                )
            )
    for user in (frozen, nudged_frozen):
        await engine.grant_freezes(
            1, user_id=user.id, reason="test", at=SPRING - timedelta(days=2, hours=-13)
        )
    daily = await engine.due_reminders(SPRING + timedelta(hours=9))
    assert sorted((c.user_id, c.kind, c.streak) for c in daily) == [
        (frozen.id, "daily", 2),
        (broken.id, "daily", 0),
    ]
    for claim in daily:
        assert await engine.reminder_sent(claim, at=SPRING + timedelta(hours=9))
    nudged = await engine.due_reminders(SPRING + timedelta(hours=19))
    assert [(c.user_id, c.kind, c.streak) for c in nudged] == [(nudged_frozen.id, "streak", 2)]


async def test_a_blocked_learner_gets_nothing_until_they_are_back(engine: Engine) -> None:
    user = await learner(engine, "UTC", daily_at=time(9, 0), streak_nudge=False)
    [claim] = await engine.due_reminders(SPRING + timedelta(hours=9))
    assert await engine.reminder_blocked(claim, at=SPRING + timedelta(hours=9))
    assert (await engine.reminder_settings(user_id=user.id)).blocked
    assert await sweep(engine, SPRING + timedelta(days=1), hours=72) == []
    back = SPRING + timedelta(days=4, hours=10)
    assert await engine.reminders_back(user_id=user.id, at=back)
    assert not await engine.reminders_back(user_id=user.id, at=back)
    assert not await engine.reminders_back(telegram_id=1, at=back)
    assert await sweep(engine, back, hours=24) == [SPRING + timedelta(days=5, hours=9)]


async def test_a_learner_who_blocks_the_bot_is_held_before_any_reminder_fails(
    engine: Engine,
) -> None:
    user = await learner(engine, "UTC", daily_at=time(9, 0), streak_nudge=False)
    assert await engine.reminders_away(user_id=user.id, at=SPRING)
    assert not await engine.reminders_away(user_id=user.id, at=SPRING)
    assert (await engine.reminder_settings(user_id=user.id)).blocked
    assert await sweep(engine, SPRING, hours=48) == []
    back = SPRING + timedelta(days=2, hours=10)
    assert await engine.reminders_back(user_id=user.id, at=back)
    assert await sweep(engine, back, hours=24) == [SPRING + timedelta(days=3, hours=9)]
    assert not await engine.reminders_away(telegram_id=1, at=back)  # no such learner
    never_set_up = await engine.register_user(UserProfile(telegram_id=777_001, first_name="N"))
    assert not await engine.reminders_away(user_id=never_set_up.id, at=back)


async def test_stopped_reminders_resume_where_they_were(engine: Engine) -> None:
    user = await learner(engine, "UTC", daily_at=time(9, 0), streak_nudge=False)
    await engine.set_reminders(user_id=user.id, stopped=True, at=SPRING)
    assert await sweep(engine, SPRING, hours=48) == []
    resumed = await engine.set_reminders(user_id=user.id, stopped=False, at=SPRING + timedelta(2))
    assert (resumed.stopped, resumed.daily_at) == (False, time(9, 0))
    assert await sweep(engine, SPRING + timedelta(days=2), hours=24) == [
        SPRING + timedelta(days=2, hours=9)
    ]


async def test_a_reminder_changed_after_sending_is_not_sent_again_that_day(
    engine: Engine,
) -> None:
    user = await learner(engine, "UTC", daily_at=time(9, 0), streak_nudge=False)
    assert await sweep(engine, SPRING, hours=10) == [SPRING + timedelta(hours=9)]
    await engine.set_reminders(
        user_id=user.id, daily_at=time(12, 0), at=SPRING + timedelta(hours=10)
    )
    assert await sweep(engine, SPRING + timedelta(hours=10), hours=27) == [
        SPRING + timedelta(days=1, hours=12)
    ]


async def test_telegram_asking_to_wait_retries_later_once_and_gives_up_after_max_attempts(
    engine: Engine,
) -> None:
    await learner(engine, "UTC", daily_at=time(9, 0), streak_nudge=False)
    nine = SPRING + timedelta(hours=9)
    [claim] = await engine.due_reminders(nine)
    assert await engine.reminder_failed(
        claim, "429 retry after 60", retry_at=nine + timedelta(minutes=1), at=nine
    )
    assert await engine.due_reminders(nine + timedelta(seconds=59)) == []
    [again] = await engine.due_reminders(nine + timedelta(minutes=1))
    assert (again.id, again.attempt) == (claim.id, 2)
    assert not await engine.reminder_sent(claim, at=nine)  # the first attempt's claim is over
    # the sender dies: the lease runs out and another scheduler takes the claim
    later = nine + timedelta(minutes=1)
    for attempt in (3, 4, 5):
        later += ReminderPolicy().lease
        [retaken] = await engine.due_reminders(later)
        assert retaken.attempt == attempt
    assert await engine.due_reminders(later + ReminderPolicy().lease) == []
    assert not await engine.reminder_sent(retaken, at=later)


async def test_a_sender_renews_its_lease_before_sending_and_never_sends_a_retaken_claim(
    engine: Engine,
) -> None:
    await learner(engine, "UTC", daily_at=time(9, 0), streak_nudge=False)
    nine, lease = SPRING + timedelta(hours=9), engine.reminder_policy.lease
    [slow] = await engine.due_reminders(nine)
    # its sender took longer than the lease: another scheduler took the claim back
    [taken] = await engine.due_reminders(nine + lease)
    assert (taken.id, taken.attempt) == (slow.id, slow.attempt + 1)
    assert not await engine.reminder_sending(slow, at=nine + lease)
    # the new sender's lease starts again as it sends: nobody takes the claim meanwhile
    sending = nine + lease + lease / 2
    assert await engine.reminder_sending(taken, at=sending)
    assert await engine.due_reminders(sending + lease - timedelta(seconds=1)) == []
    assert await engine.reminder_sent(taken, at=sending + lease - timedelta(seconds=1))


async def test_a_claim_retaken_after_the_day_or_in_quiet_hours_expires(engine: Engine) -> None:
    await learner(engine, "UTC", daily_at=time(21, 50), streak_nudge=False)
    start = SPRING + timedelta(hours=21, minutes=50)
    [claim] = await engine.due_reminders(start)
    assert await engine.reminder_failed(
        claim, "502", retry_at=start + timedelta(minutes=15), at=start
    )
    assert await engine.due_reminders(start + timedelta(minutes=15)) == []
    assert not await engine.reminder_sent(claim, at=start + timedelta(minutes=16))


async def test_two_schedulers_claiming_at_once_share_the_learners_without_overlap(
    db: AsyncEngine,
) -> None:
    first, second = await make_engine(db), await make_engine(db)
    try:
        users = {
            (await learner(first, "UTC", daily_at=time(9, 0), streak_nudge=False)).id
            for _ in range(30)
        }
        nine = SPRING + timedelta(hours=9)
        rounds: list[list[ReminderClaim]] = []
        for _ in range(4):
            rounds += await asyncio.gather(
                first.due_reminders(nine, limit=7), second.due_reminders(nine, limit=7)
            )
        claimed = [claim.user_id for batch in rounds for claim in batch]
        assert sorted(claimed) == sorted(users)
    finally:
        await first.shutdown()
        await second.shutdown()


async def test_due_reminders_refuses_a_bad_limit_or_a_naive_time(engine: Engine) -> None:
    with pytest.raises(QuestlineError, match="limit must be 1 to 1000, not 0"):
        await engine.due_reminders(SPRING, limit=0)
    with pytest.raises(QuestlineError, match="has no time zone"):
        await engine.due_reminders(datetime(2026, 3, 27, 9, 0))
