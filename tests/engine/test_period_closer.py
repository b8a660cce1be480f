"""The period closer: finished weeks and months are closed once their grace has passed, once
however many processes run a closer, with the default catalog's podium and champion rules."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine import Engine, Event, UserProfile
from questline.engine.errors import QuestlineError
from questline.engine.period_closer import CloserSettings, PeriodCloser
from questline.engine.views import LessonView
from questline.rules.vocabulary import ActivityType as A

from .conftest import make_engine

# Monday 1 June 2026 00:00 UTC ends the week of 25 May and the month of May
WEEK_END = datetime(2026, 6, 1, tzinfo=UTC)
GRACE = timedelta(minutes=10)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def engines(db: AsyncEngine) -> AsyncIterator[list[Engine]]:
    """Three engines on one database, as three processes would be."""
    made = [await make_engine(db, group_commit=False) for _ in range(3)]
    yield made
    for engine in made:
        await engine.shutdown()


async def completed(
    engine: Engine, telegram_id: int, lesson: LessonView, score: int, at: datetime
) -> int:
    user = await engine.register_user(
        UserProfile(telegram_id=telegram_id, first_name=f"L{telegram_id}")
    )
    event = Event(
        type=A.LESSON_COMPLETED, user_id=user.id, lesson_id=lesson.id, score=score, occurred_at=at
    )
    await engine.record(event)
    return user.id


async def test_closers_in_three_processes_close_each_period_once_after_its_grace(
    engines: list[Engine], lessons: list[LessonView]
) -> None:
    scores = [90, 80, 70, 60]  # ranks 1 to 4 in the week and the month
    ids = [
        await completed(engines[0], 500 + n, lessons[0], score, WEEK_END - timedelta(days=1))
        for n, score in enumerate(scores)
    ]
    clock = Clock(WEEK_END + GRACE - timedelta(seconds=1))
    closers = [PeriodCloser(engine, CloserSettings(grace=GRACE), clock=clock) for engine in engines]
    early = await asyncio.gather(*(closer.close_due() for closer in closers))
    # within the grace, the closed periods are the ones before: a week and April
    assert sorted((c.period, c.first_day) for made in early for c in made) == [
        ("month", date(2026, 4, 1)),
        ("week", date(2026, 5, 18)),
    ]
    assert all(not c.awards for made in early for c in made)

    clock.now = WEEK_END + GRACE
    made = [c for closes in await asyncio.gather(*(c.close_due() for c in closers)) for c in closes]
    assert sorted((c.period, c.first_day, c.last_day, c.learners) for c in made) == [
        ("month", date(2026, 5, 1), date(2026, 5, 31), 4),
        ("week", date(2026, 5, 25), date(2026, 5, 31), 4),
    ]
    awards = sorted((award.slug, award.user_id) for close in made for award in close.awards)
    # the champion's 100 points also pass "hundred-points", granted in the same close
    assert awards == [("hundred-points", ids[0]), ("monthly-champion", ids[0])] + [
        ("weekly-podium", user_id) for user_id in ids[:3]
    ]
    for close in made:
        assert all(award.earned_at == WEEK_END for award in close.awards)

    clock.now += timedelta(days=1)
    assert [await closer.close_due() for closer in closers] == [[], [], []]
    stored = await engines[2].period_close("week", at=clock.now)
    assert stored is not None and stored.already_closed and stored.learners == 4


async def test_the_background_closer_runs_at_once_and_stops_with_the_engine(
    db: AsyncEngine, lessons: list[LessonView]
) -> None:
    engine = await make_engine(db)
    await completed(engine, 600, lessons[0], 50, WEEK_END - timedelta(hours=1))
    closer = engine.start_period_closer(
        CloserSettings(interval_seconds=3600, grace=GRACE), clock=lambda: WEEK_END + GRACE
    )
    assert closer is not None and engine.start_period_closer() is closer
    for _ in range(200):
        if await engine.period_close("month", at=WEEK_END) is not None:
            break
        await asyncio.sleep(0.05)
    week = await engine.period_close("week", at=WEEK_END)
    assert week is not None and week.learners == 1
    await engine.shutdown()
    assert engine.closer is None


async def test_a_database_away_is_one_line_for_the_outage(
    db: AsyncEngine, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It was a traceback of some 190 lines at every pass (every minute) while it lasted."""
    engine = await make_engine(db)
    passes: list[str] = []

    async def away_three_times() -> None:
        passes.append("pass")
        if len(passes) <= 3:
            raise OperationalError("SELECT", {}, TimeoutError("gone"), connection_invalidated=True)

    closer = PeriodCloser(engine, CloserSettings(interval_seconds=0.01, grace=GRACE))
    monkeypatch.setattr(closer, "close_due", away_three_times)
    closer.start()
    for _ in range(200):
        if len(passes) > 4:
            break
        await asyncio.sleep(0.01)
    await closer.stop()
    await engine.shutdown()
    said = [record for record in caplog.records if record.name.endswith("period_closer")]
    assert [record.getMessage().split(" (")[0] for record in said] == [
        "closing finished periods: the database is away",
        "closing finished periods: the database answers again",
    ]
    assert not any(record.exc_info for record in said)


def test_closing_is_configured_from_the_environment() -> None:
    assert CloserSettings.from_env({}) == CloserSettings()
    assert CloserSettings.from_env({"QUESTLINE_CLOSE_PERIODS": "0"}) is None
    assert CloserSettings.from_env({"QUESTLINE_CLOSE_GRACE": "30"}) == CloserSettings(
        grace=timedelta(seconds=30)
    )
    assert CloserSettings.from_env({"QUESTLINE_CLOSE_GRACE": "0"}) == CloserSettings(
        grace=timedelta(0)
    )
    for bad in ("soon", "inf", "-1"):
        with pytest.raises(QuestlineError) as refused:
            CloserSettings.from_env({"QUESTLINE_CLOSE_GRACE": bad})
        assert str(refused.value) == (
            f'QUESTLINE_CLOSE_GRACE="{bad}" is not a number of seconds from 0'
        )
    with pytest.raises(QuestlineError, match="grace not negative"):
        CloserSettings(grace=timedelta(seconds=-1))


async def test_asking_about_the_all_time_board_is_refused(engines: list[Engine]) -> None:
    with pytest.raises(QuestlineError, match='"all" never closes'):
        await engines[0].period_close("all")
