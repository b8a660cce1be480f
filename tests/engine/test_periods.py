"""Week and month boards: exact gains across local period boundaries (DST and time zones
included), ranking and ties, the reset at a boundary, the close job, and bad input."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine import Engine, Event, UserProfile
from questline.engine.dispatcher import Dispatcher, DispatchSettings
from questline.engine.errors import QuestlineError
from questline.engine.models import (
    Achievement,
    Base,
    LeaderboardClose,
    LearnerPeriodScore,
    Lesson,
    LessonChallenge,
    Module,
    UserAchievement,
)
from questline.engine.views import LeaderboardEntry, LessonView, RecordResult
from questline.plugins.manager import build_plugin_manager
from questline.rules.vocabulary import ActivityType as A

from .conftest import make_engine, row_counts
from .test_outbox import Sink

ZONES = ("Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu")
# UTC instants near a week, month and DST boundary of some zone: 2026-03-29 is a Sunday and
# Berlin's spring change; 2026-04-05 Lord Howe's half-hour change; 2026-11-01 a Sunday, a
# month's first day and New York's autumn change.
ANCHORS = (
    datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
    datetime(2026, 4, 4, 15, 30, tzinfo=UTC),
    datetime(2026, 11, 1, 5, 0, tzinfo=UTC),
)
CONTENT = {Module, Lesson, LessonChallenge, Achievement}


async def forget_learners(db: AsyncEngine) -> None:
    """Delete every learner and what they did; the course and rules stay."""
    async with db.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            if table not in {model.__table__ for model in CONTENT}:
                await connection.execute(delete(table))


@pytest.fixture
async def zoned(db: AsyncEngine) -> AsyncIterator[dict[str, Engine]]:
    engines = {zone: await make_engine(db, timezone=zone, group_commit=False) for zone in ZONES}
    yield engines
    for engine in engines.values():
        await engine.shutdown()


def local_start(period: str, moment: datetime, zone: ZoneInfo) -> date:
    """The period's first day, computed another way than the engine does (ISO calendar)."""
    day = moment.astimezone(zone).date()
    if period == "week":
        year, week, _ = day.isocalendar()
        return date.fromisocalendar(year, week, 1)
    return date(day.year, day.month, 1)


Standing = tuple[int, int, int, int, int]
"""(rank, user id, score, lessons completed, achievements earned)"""


def brute_force(
    events: list[Event], results: list[RecordResult], zone: ZoneInfo
) -> dict[tuple[str, date], list[Standing]]:
    """Every week and month board, counted from the events in recording order."""
    best: dict[tuple[int, int], int] = {}
    solved: set[tuple[int, int]] = set()
    completed: set[tuple[int, int]] = set()
    gains: dict[tuple[str, date], dict[int, list[int]]] = defaultdict(dict)

    def gain(user_id: int, moment: datetime, *figures: int) -> None:
        if any(figures):
            for period in ("week", "month"):
                row = gains[(period, local_start(period, moment, zone))].setdefault(
                    user_id, [0, 0, 0]
                )
                row[:] = [a + b for a, b in zip(row, figures, strict=True)]

    for event, result in zip(events, results, strict=True):
        assert event.user_id is not None and event.lesson_id is not None
        key = (event.user_id, event.lesson_id)
        if event.type is A.CHALLENGE_SOLVED:
            if key in solved:
                continue  # a challenge is solved once
            solved.add(key)
        raised = max((event.score or 0) - best.get(key, 0), 0)
        best[key] = best.get(key, 0) + raised
        first = event.type is A.LESSON_COMPLETED and key not in completed
        completed.add(key) if first else None
        gain(event.user_id, event.occurred_at, raised, int(first), 0)
        for award in result.awards:
            gain(award.user_id, award.earned_at, award.points, 0, 1)
    boards = {}
    for key, rows in gains.items():
        ordered = sorted(rows.items(), key=lambda item: (-item[1][0], item[0]))
        boards[key] = [
            (1 + sum(1 for _, other in ordered if other[0] > row[0]), user_id, *row)
            for user_id, row in ordered
        ]
    return boards


def ranked(entries: list[LeaderboardEntry]) -> list[Standing]:
    return [
        (e.rank, e.user_id, e.total_score, e.lessons_completed, e.achievements_count)
        for e in entries
    ]


def scores(entries: list[LeaderboardEntry]) -> list[tuple[int, int, int]]:
    return [(e.rank, e.user_id, e.total_score) for e in entries]


def challenge_points(lesson: LessonView) -> int:
    """What the course scores a solve of the lesson's challenge."""
    assert lesson.challenge is not None
    return lesson.challenge.points


def noon(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(12), tzinfo=zone).astimezone(UTC)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    zone=st.sampled_from(ZONES),
    anchor=st.sampled_from(ANCHORS),
    items=st.lists(
        st.tuples(
            st.integers(0, 2),
            st.sampled_from([A.LESSON_COMPLETED, A.CHALLENGE_SOLVED]),
            st.integers(0, 3),
            st.integers(-3 * 24 * 60, 3 * 24 * 60),
            st.integers(0, 100),
        ),
        min_size=1,
        max_size=14,
    ),
)
async def test_boards_equal_a_brute_force_count_of_the_events(
    zoned: dict[str, Engine],
    db: AsyncEngine,
    lessons: list[LessonView],
    zone: str,
    anchor: datetime,
    items: list[tuple[int, A, int, int, int]],
) -> None:
    """Events at random instants around week, month and DST boundaries, in random arrival
    order: every week and month board equals a count from the events, and so after a
    rebuild from the log."""
    await forget_learners(db)
    engine = zoned[zone]
    users = [
        await engine.register_user(UserProfile(telegram_id=900 + n, first_name=f"L{n}"))
        for n in range(3)
    ]
    events = [
        Event(
            type=kind,
            user_id=users[who].id,
            lesson_id=lessons[lesson].id,
            score=score if kind is A.LESSON_COMPLETED else challenge_points(lessons[lesson]),
            occurred_at=anchor + timedelta(minutes=minutes),
        )
        for who, kind, lesson, minutes, score in items
    ]
    results = [await engine.record(event) for event in events]
    expected = brute_force(events, results, engine.zone)
    for rebuilt in (False, True):
        if rebuilt:
            await engine.rebuild_aggregates()
        for (period, start), board in expected.items():
            at = noon(start, engine.zone)
            assert ranked(await engine.top(10, period=period, at=at)) == board, (period, start)
    async with db.connect() as connection:
        rows = await connection.scalar(select(func.count()).select_from(LearnerPeriodScore))
    assert rows == sum(len(board) for board in expected.values())


async def test_a_new_time_zone_rebuilds_the_learners_weeks(
    zoned: dict[str, Engine], lessons: list[LessonView]
) -> None:
    """Sunday 29 March 21:30 UTC is Sunday night in Berlin but Monday in Kathmandu: once an
    engine in Kathmandu records for the learner, their gains move to Kathmandu's weeks."""
    berlin, kathmandu = zoned["Europe/Berlin"], zoned["Asia/Kathmandu"]
    moment = datetime(2026, 3, 29, 21, 30, tzinfo=UTC)
    user = await berlin.register_user(UserProfile(telegram_id=77, first_name="Zed"))
    await berlin.record(
        Event(
            type=A.LESSON_COMPLETED,
            user_id=user.id,
            lesson_id=lessons[0].id,
            score=50,
            occurred_at=moment,
        )
    )
    assert [e.user_id for e in await berlin.top(5, period="week", at=moment)] == [user.id]
    monday = moment + timedelta(days=1)
    assert await kathmandu.top(5, period="week", at=monday) == []
    await kathmandu.record(Event(type=A.LOGIN, user_id=user.id, occurred_at=monday))
    assert await kathmandu.top(5, period="week", at=moment - timedelta(days=1)) == []
    [entry] = await kathmandu.top(5, period="week", at=monday)
    assert (entry.user_id, entry.lessons_completed) == (user.id, 1)


async def scored(engine: Engine, name: str, lesson: LessonView, score: int, at: datetime) -> int:
    """The learner called `name` (registered on first use) completes `lesson` at `at`."""
    user = await engine.register_user(
        UserProfile(telegram_id=int.from_bytes(name.encode()), first_name=name)
    )
    await engine.record(
        Event(
            type=A.LESSON_COMPLETED,
            user_id=user.id,
            lesson_id=lesson.id,
            score=score,
            occurred_at=at,
        )
    )
    return user.id


BERLIN = ZoneInfo("Europe/Berlin")
# Sunday 29 March 2026 23:59 and Monday 30 March 00:01 in Berlin (summer time since 02:00)
SUNDAY_NIGHT = datetime(2026, 3, 29, 23, 59, tzinfo=BERLIN)
MONDAY_MORNING = datetime(2026, 3, 30, 0, 1, tzinfo=BERLIN)


@pytest.fixture
async def berlin(db: AsyncEngine) -> AsyncIterator[Engine]:
    engine = await make_engine(db, timezone="Europe/Berlin")
    yield engine
    await engine.shutdown()


async def test_week_board_ranks_ties_and_resets_at_midnight_on_monday(
    berlin: Engine, lessons: list[LessonView]
) -> None:
    # a learner's first completion also earns "first-lesson" (10 points) and, at these hours,
    # "night-owl" (15 points)
    ann = await scored(berlin, "Ann", lessons[0], 90, SUNDAY_NIGHT)
    bob = await scored(berlin, "Bob", lessons[0], 70, SUNDAY_NIGHT)
    cid = await scored(berlin, "Cid", lessons[0], 70, SUNDAY_NIGHT)
    await scored(berlin, "Cid", lessons[0], 95, MONDAY_MORNING)  # improves by 25
    dan = await scored(berlin, "Dan", lessons[1], 5, MONDAY_MORNING)
    last_week = await berlin.top(10, period="week", at=SUNDAY_NIGHT)
    assert scores(last_week) == [(1, ann, 115), (2, bob, 95), (2, cid, 95)]
    this_week = await berlin.top(10, period="week", at=MONDAY_MORNING)
    assert scores(this_week) == [(1, dan, 30), (2, cid, 25)]
    march = await berlin.top(10, period="month", at=MONDAY_MORNING)
    assert scores(march) == [(1, cid, 120), (2, ann, 115), (3, bob, 95), (4, dan, 30)]
    all_time = await berlin.top(10)
    assert scores(all_time) == scores(march)  # every event so far is in March
    around = await berlin.around(user_id=bob, radius=1, period="week", at=SUNDAY_NIGHT)
    assert around == last_week
    assert await berlin.around(user_id=ann, period="week", at=MONDAY_MORNING) == []
    assert [e.lessons_completed for e in this_week] == [1, 0]
    assert [e.achievements_count for e in march] == [2, 2, 2, 2]


async def test_close_awards_the_week_top_3_exactly_once_across_engines(
    berlin: Engine, db: AsyncEngine, database_url: str, lessons: list[LessonView]
) -> None:
    names = ["Ann", "Bob", "Cid", "Dan", "Eve"]
    points = [90, 70, 70, 70, 10]  # ranks 1, 2, 2, 2, 5
    ids = [
        await scored(berlin, name, lessons[0], score, SUNDAY_NIGHT - timedelta(days=2))
        for name, score in zip(names, points, strict=True)
    ]
    # an event can never fire the rule: its facts change with no activity
    result = await berlin.record(
        Event(
            type=A.LESSON_STARTED,
            user_id=ids[0],
            lesson_id=lessons[1].id,
            occurred_at=MONDAY_MORNING,
        )
    )
    assert result.awards == ()
    before = await berlin.top(10, period="week", at=MONDAY_MORNING)
    engines = []
    for _ in range(4):
        engine = Engine(
            database_url,
            timezone="Europe/Berlin",
            plugin_manager=build_plugin_manager(load_entry_points=False),
        )
        await engine.startup()
        engines.append(engine)
    try:
        closes = await asyncio.gather(
            *(engine.close_period("week", at=MONDAY_MORNING) for engine in engines)
        )
    finally:
        for engine in engines:
            await engine.shutdown()
    first = [close for close in closes if not close.already_closed]
    assert len(first) == 1
    assert sorted(award.user_id for award in first[0].awards) == ids[:4]
    assert {award.slug for award in first[0].awards} == {"weekly-podium"}
    assert {(c.first_day, c.last_day, c.learners) for c in closes} == {
        (date(2026, 3, 23), date(2026, 3, 29), 5)
    }
    again = await berlin.close_period("week", at=MONDAY_MORNING + timedelta(days=3))
    assert again.already_closed and again.awards == ()
    async with db.connect() as connection:
        holders = await connection.scalar(
            select(func.count())
            .select_from(UserAchievement)
            .join(Achievement, Achievement.id == UserAchievement.achievement_id)
            .where(Achievement.slug == "weekly-podium")
        )
        claims = await connection.scalar(select(func.count()).select_from(LeaderboardClose))
    assert (holders, claims) == (4, 1)
    # the podium's points count in the week it was earned in (the close's), not the closed one
    assert before == []
    after = await berlin.top(10, period="week", at=MONDAY_MORNING)
    assert scores(after) == [(1, user_id, 30) for user_id in ids[:4]]


async def test_an_empty_week_closes_with_no_awards(berlin: Engine) -> None:
    close = await berlin.close_period("month", at=MONDAY_MORNING)
    assert (close.first_day, close.last_day) == (date(2026, 2, 1), date(2026, 2, 28))
    assert (close.learners, close.awards, close.already_closed) == (0, (), False)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda e: e.top(5, period="year"), 'unknown period "year" (use one of: week, month, all)'),
        (lambda e: e.around(user_id=1, period="Week"), 'unknown period "Week"'),
        (lambda e: e.top(5, period="week", at=datetime(2026, 3, 30)), "has no time zone"),
        (
            lambda e: e.top(
                5,
                period="month",
                at=datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-1))),
            ),
            "must lie between 1000-01-02 and 9999-12-30 (UTC)",
        ),
        (
            lambda e: e.around(
                user_id=1, period="week", at=datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1)))
            ),
            "must lie between",
        ),
        (lambda e: e.close_period("all"), '"all" never closes'),
        (lambda e: e.close_period("fortnight"), 'unknown period "fortnight"'),
        (lambda e: e.close_period("week", at=datetime(2026, 3, 30)), "has no time zone"),
        (
            lambda e: e.close_period("week", at=datetime(9000, 1, 1, tzinfo=UTC)),
            "is in the future",
        ),
    ],
)
async def test_bad_periods_and_times_are_refused_and_write_nothing(
    berlin: Engine, db: AsyncEngine, call: object, message: str
) -> None:
    before = await row_counts(db)
    with pytest.raises(QuestlineError, match=message.replace("(", r"\(").replace(")", r"\)")):
        await call(berlin)  # type: ignore[operator]
    assert await row_counts(db) == before


async def test_close_awards_are_announced_through_the_outbox(
    berlin: Engine, lessons: list[LessonView]
) -> None:
    """Each award of a close reaches `questline_award_granted` once, like an event's."""
    sink = Sink()
    berlin.plugins.register(sink, name="sink")
    ids = [
        await scored(berlin, name, lessons[0], score, SUNDAY_NIGHT - timedelta(days=1))
        for name, score in (("Ann", 90), ("Bob", 50))
    ]
    close = await berlin.close_period("week", at=MONDAY_MORNING)
    assert sorted(award.user_id for award in close.awards) == ids
    dispatcher = Dispatcher(berlin, DispatchSettings())
    await dispatcher.deliver_pending()
    podium = [slug for _, slug, _ in sink.awards if slug == "weekly-podium"]
    assert podium == ["weekly-podium", "weekly-podium"]
    await dispatcher.deliver_pending()
    assert [slug for _, slug, _ in sink.awards].count("weekly-podium") == 2  # once each
