"""Facts rule authors asked for: periods (today, this week, this month), dates, slugs, a
module's lowest best score."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator
from datetime import date, timedelta
from itertools import count
from pathlib import Path
from random import Random
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine import Engine, Event, UserProfile
from questline.engine.views import LessonView, UserView
from questline.rules.loading import CATALOG_DIR
from questline.rules.vocabulary import ActivityType as A

from .conftest import T0, make_engine

ZONE = "Asia/Kathmandu"  # UTC+5:45: local days start at 18:15 UTC
numbers = count(1)


def rule(slug: str, criteria: dict, kind: str = "MILESTONE") -> dict:
    return {"slug": slug, "type": kind, "title": slug, "points": 1, "criteria": criteria}


PERIOD_RULES = [
    rule("three-a-day", {">=": [{"var": "today.lessons_completed"}, 3]}),
    rule("five-a-week", {">=": [{"var": "week.lessons_completed"}, 5]}),
    rule("busy-month", {">=": [{"var": "month.activities"}, 8]}),
]


@pytest.fixture
async def zoned(db: AsyncEngine, tmp_path: Path) -> AsyncIterator[Engine]:
    engine = await make_engine(db, timezone=ZONE)
    path = tmp_path / "periods.json"
    path.write_text(json.dumps(PERIOD_RULES))
    await engine.load_rules([path])
    yield engine
    await engine.shutdown()


async def learner(engine: Engine) -> UserView:
    return await engine.register_user(UserProfile(telegram_id=90_000 + next(numbers)))


async def completed(
    engine: Engine, someone: UserView, lesson: LessonView, score: int, after: timedelta
) -> list[str]:
    """Record a completion `after` T0; the slugs it earned, sorted."""
    result = await engine.record(
        Event(
            type=A.LESSON_COMPLETED,
            user_id=someone.id,
            lesson_id=lesson.id,
            score=score,
            occurred_at=T0 + after,
        )
    )
    return sorted(award.slug for award in result.awards)


def expected_awards(events: list[tuple[A, int]]) -> set[str]:
    """What a brute-force count over local dates says each period rule earns (events in
    time order: a period rule fires when its count, up to an event, reaches the target)."""
    zone = ZoneInfo(ZONE)
    days: Counter[date] = Counter()
    weeks: Counter[tuple[int, int]] = Counter()
    months: Counter[tuple[int, int]] = Counter()
    earned = set()
    for kind, minutes in sorted(events, key=lambda item: item[1]):
        local = (T0 + timedelta(minutes=minutes)).astimezone(zone).date()
        months[(local.year, local.month)] += 1
        if months[(local.year, local.month)] >= 8:
            earned.add("busy-month")
        if kind is A.LESSON_COMPLETED:
            days[local] += 1
            weeks[local.isocalendar()[:2]] += 1
            if days[local] >= 3:
                earned.add("three-a-day")
            if weeks[local.isocalendar()[:2]] >= 5:
                earned.add("five-a-week")
    return earned


def as_events(
    someone: UserView, lessons: list[LessonView], events: list[tuple[A, int]]
) -> list[Event]:
    """Completions of the first lesson and logins, `minutes` after T0."""
    return [
        Event(
            type=kind,
            user_id=someone.id,
            lesson_id=lessons[0].id if kind is A.LESSON_COMPLETED else None,
            occurred_at=T0 + timedelta(minutes=minutes),
        )
        for kind, minutes in events
    ]


EVENTS = st.lists(
    st.tuples(st.sampled_from([A.LESSON_COMPLETED, A.LOGIN]), st.integers(0, 60 * 24 * 40)),
    max_size=14,
    unique_by=lambda item: item[1],
)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=EVENTS, batch=st.booleans())
async def test_period_counts_equal_a_count_by_local_date(
    zoned: Engine, lessons: list[LessonView], events: list[tuple[A, int]], batch: bool
) -> None:
    """One by one or in one transaction (this transaction's days are counted before they are
    written), across day, week and month boundaries off the hour."""
    someone = await learner(zoned)
    recorded = as_events(someone, lessons, sorted(events, key=lambda item: item[1]))
    if batch:
        results = await zoned.record_many(recorded)
    else:
        results = [await zoned.record(event) for event in recorded]
    periods = {rule["slug"] for rule in PERIOD_RULES}
    earned = {award.slug for result in results for award in result.awards} & periods
    assert earned == expected_awards(events)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=EVENTS, arrival=st.randoms(use_true_random=False))
async def test_period_thresholds_earn_the_same_awards_in_any_arrival_order(
    zoned: Engine, lessons: list[LessonView], events: list[tuple[A, int]], arrival: Random
) -> None:
    """A late event's period counts the days recorded after it in that period too (newest
    first, "five lessons this week" was never earned), so a `>=` rule on it holds on
    whichever of the period's events arrives last."""
    someone = await learner(zoned)
    shuffled = list(events)
    arrival.shuffle(shuffled)
    results = [await zoned.record(event) for event in as_events(someone, lessons, shuffled)]
    periods = {rule["slug"] for rule in PERIOD_RULES}
    earned = {award.slug for result in results for award in result.awards} & periods
    assert earned == expected_awards(events)


async def test_dates_slugs_and_a_modules_lowest_best_score(
    engine: Engine, lessons: list[LessonView], tmp_path: Path
) -> None:
    basics = [lesson for lesson in lessons if lesson.module_id == lessons[0].module_id]
    module_slug = (await engine.module(basics[0].module_id)).slug
    deadline = int((T0 + timedelta(days=1)).timestamp())
    rules = [
        rule("on-time", {"<": [{"var": "event.timestamp"}, deadline]}),
        rule("on-the-day", {"==": [{"var": "event.local_date"}, T0.date().isoformat()]}),
        rule("that-lesson", {"==": [{"var": "lesson.slug"}, basics[1].slug]}),
        rule("basics-done", {"in": [module_slug, {"var": "stats.completed_module_slugs"}]}),
        rule("all-ninety", {">=": [{"var": "module.lowest_best_score"}, 90]}),
    ]
    path = tmp_path / "new.json"
    path.write_text(json.dumps(rules))
    await engine.load_rules([path])
    someone = await learner(engine)

    async def complete(lesson: LessonView, score: int, days: int) -> set[str]:
        return set(await completed(engine, someone, lesson, score, timedelta(days=days)))

    first = await complete(basics[0], 95, 0)
    assert {"on-time", "on-the-day"} <= first and "that-lesson" not in first
    assert "all-ninety" not in first  # the module's other lessons have no score yet
    second = await complete(basics[1], 80, 2)
    assert "that-lesson" in second and "on-time" not in second
    for position, lesson in enumerate(basics[2:], start=3):
        earned = await complete(lesson, 99, position)
    assert "basics-done" in earned and "all-ninety" not in earned  # 80 is the lowest best
    assert "all-ninety" in await complete(basics[1], 91, 9)


async def test_points_this_week_and_month_equal_the_period_boards(
    engine: Engine, lessons: list[LessonView], tmp_path: Path
) -> None:
    """`week.score` and `month.score` are the learner's score on the board of the event's week
    and month, with this event's gains and the awards it has just earned (chained)."""
    rules = [
        rule("week-100", {">=": [{"var": "week.score"}, 100]}),
        rule("month-250", {">=": [{"var": "month.score"}, 250]}),
    ]
    path = tmp_path / "points.json"
    path.write_text(json.dumps(rules))
    await engine.load_rules([CATALOG_DIR, path])
    someone = await learner(engine)

    async def complete(lesson: LessonView, score: int, days: int) -> list[str]:
        return await completed(engine, someone, lesson, score, timedelta(days=days, hours=2))

    async def board(period: str, days: int) -> list[int]:
        at = T0 + timedelta(days=days)
        return [entry.total_score for entry in await engine.top(5, period=period, at=at)]

    # T0 is Monday 2 March. 90 alone is short of 100; first-lesson's 10 points make 100, and
    # week-100 fires in the same event (its own point makes 101)
    assert await complete(lessons[0], 90, 0) == ["first-lesson", "week-100"]
    assert await board("week", 0) == [101]
    # the next week starts from 0, the month goes on: 101 + 60, then 95 and first-module's 40
    # make 296 and month-250 fires
    assert await complete(lessons[1], 60, 7) == []
    assert await complete(lessons[2], 95, 8) == ["first-module", "month-250"]
    assert (await board("week", 8), await board("month", 8)) == ([196], [297])
    # a late completion dated in the first week counts in that week
    assert await complete(lessons[3], 70, 2) == []
    assert await board("week", 0) == [171]


async def test_points_earned_today_this_week_and_this_month(
    engine: Engine, lessons: list[LessonView], tmp_path: Path
) -> None:
    """`today.points`, `week.points` and `month.points` sum the achievements earned in the
    event's day, week and month, including those the same event has just earned."""
    rules = [
        rule("forty-today", {">=": [{"var": "today.points"}, 40]}),
        rule("sixty-this-week", {">=": [{"var": "week.points"}, 60]}),
        rule("sixty-this-month", {">=": [{"var": "month.points"}, 60]}),
    ]
    path = tmp_path / "earned.json"
    path.write_text(json.dumps(rules))
    await engine.load_rules([CATALOG_DIR, path])
    someone = await learner(engine)
    sunday = -timedelta(hours=20)  # T0 is Monday 2 March, 09:00 UTC: Sunday 1 March, 13:00
    # Sunday: first-lesson (10) and first-challenge (10), last week but this month
    assert await completed(engine, someone, lessons[0], 50, sunday) == ["first-lesson"]
    solve = Event(
        type=A.CHALLENGE_SOLVED,
        user_id=someone.id,
        lesson_id=lessons[0].id,
        occurred_at=T0 + sunday + timedelta(minutes=5),
    )
    assert [award.slug for award in (await engine.record(solve)).awards] == ["first-challenge"]
    # Monday: the module completes, first-module (40) makes today 40 and forty-today fires in
    # the same event; the week holds 41 (not 60: Sunday was last week); the month 61
    assert await completed(engine, someone, lessons[1], 50, timedelta(hours=1)) == []
    assert await completed(engine, someone, lessons[2], 50, timedelta(hours=2)) == [
        "first-module",
        "forty-today",
        "sixty-this-month",
    ]
