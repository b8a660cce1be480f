"""Streak freezes: k freezes cover k missed days, in any arrival order, in the engine's zone."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from itertools import count
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine import Engine, Event, UserProfile
from questline.engine.errors import InvalidFreezeGrant, UnknownUser
from questline.engine.freeze_walk import Cursor, Ledger, cover, walk
from questline.engine.models import (
    Achievement,
    LearnerTotals,
    OutboxEntry,
    StreakFreezeGrant,
    StreakFreezeUse,
    UserAchievement,
)
from questline.engine.timestamps import utcnow
from questline.engine.views import LessonView, UserView
from questline.plugins import hookimpl
from questline.rules.vocabulary import ActivityType as A

from .conftest import T0, make_engine, row_counts

numbers = count(1)
DAY0 = T0.date().toordinal()


async def newcomer(engine: Engine) -> UserView:
    return await engine.register_user(UserProfile(telegram_id=55_000 + next(numbers)))


async def learn(
    engine: Engine, lessons: list[LessonView], user: UserView, day: int, **event: object
) -> None:
    await engine.record(
        Event(
            type=A.LESSON_COMPLETED,
            user_id=user.id,
            lesson_id=lessons[day % len(lessons)].id,
            occurred_at=T0 + timedelta(days=day, hours=1),
            **event,  # type: ignore[arg-type]
        )
    )


async def grant(engine: Engine, user: UserView, day: int, amount: int) -> None:
    await engine.grant_freezes(
        amount, user_id=user.id, reason="test", at=T0 + timedelta(days=day, hours=2)
    )


async def figures(db: AsyncEngine, user: UserView) -> tuple[int, int, int, int, list[int]]:
    """(current, longest, freezes given, freezes used, covered days as offsets) as stored."""
    async with db.connect() as connection:
        row = (
            await connection.execute(
                select(
                    LearnerTotals.streak_current,
                    LearnerTotals.streak_longest,
                    LearnerTotals.freezes_granted,
                    LearnerTotals.freezes_used,
                ).where(LearnerTotals.user_id == user.id)
            )
        ).one()
        days = await connection.scalars(
            select(StreakFreezeUse.day)
            .where(StreakFreezeUse.user_id == user.id)
            .order_by(StreakFreezeUse.day)
        )
        return (*row, [day - DAY0 for day in days])


def reference(learning: set[int], grants: list[tuple[int, int]]) -> tuple[int, int, int, int]:
    """(current, longest, given, used) walking day by day: a missed day uses a freeze granted
    on an earlier day while one is left; a missed day without one breaks the run."""
    given_ = sum(amount for _, amount in grants)
    if not learning:
        return 0, 0, given_, 0
    run = longest = used = 0
    alive = False
    for day in range(min(learning), max(learning) + 1):
        held = sum(amount for granted, amount in grants if granted < day) - used
        if day in learning:
            run = run + 1 if alive else 1
            alive = True
            longest = max(longest, run)
        elif held > 0:
            used += 1
        else:
            alive = False
    return run, longest, given_, used


# -- the walk, without a database -------------------------------------------------------------


def test_k_freezes_cover_k_missed_days_and_not_one_more() -> None:
    ledger = Ledger([(0, 2)])
    assert cover(ledger, 3, 4, 0) == ([3, 4], True)
    assert cover(ledger, 3, 5, 0) == ([3, 4], False)


def test_a_freeze_covers_only_days_after_the_day_it_was_given() -> None:
    ledger = Ledger([(4, 1)])
    assert cover(ledger, 3, 4, 0) == ([], False)
    assert cover(ledger, 5, 5, 0) == ([5], True)


def test_covered_days_keep_the_run_but_do_not_lengthen_it() -> None:
    walked = walk(Ledger([(0, 1)]), Cursor(0, 0, 0, False), [1, 2, 4, 5])
    assert walked.frozen == [3]
    assert (walked.cursor.run, walked.longest) == (4, 4)


def test_the_walk_notes_the_days_a_run_grows_longer_than_before() -> None:
    walked = walk(Ledger([(0, 1)]), Cursor(0, 2, 0, True), [1, 2, 4, 5, 7])
    assert walked.peaks == [(1, 3), (2, 4), (4, 5), (5, 6)]


# -- the engine -------------------------------------------------------------------------------


async def test_freezes_join_the_runs_across_the_missed_days(
    engine: Engine, db: AsyncEngine, lessons: list[LessonView]
) -> None:
    user = await newcomer(engine)
    await grant(engine, user, 0, 2)
    for day in (0, 1, 2, 5):
        await learn(engine, lessons, user, day)
    assert await figures(db, user) == (4, 4, 2, 2, [3, 4])
    report = await engine.freezes(user_id=user.id)
    assert (report.held, report.granted, report.used) == (0, 2, 2)
    assert report.covered_days == (date(2026, 3, 5), date(2026, 3, 6))
    assert [(g.amount, g.reason) for g in report.grants] == [(2, "test")]


async def test_too_few_freezes_are_used_and_the_streak_breaks(
    engine: Engine, db: AsyncEngine, lessons: list[LessonView]
) -> None:
    user = await newcomer(engine)
    await grant(engine, user, 0, 1)
    for day in (0, 1, 2, 5):
        await learn(engine, lessons, user, day)
    assert await figures(db, user) == (1, 3, 1, 1, [3])


async def test_a_late_day_in_a_covered_gap_gives_its_freeze_back(
    engine: Engine, db: AsyncEngine, lessons: list[LessonView]
) -> None:
    user = await newcomer(engine)
    await grant(engine, user, 0, 2)
    for day in (0, 3, 1):
        await learn(engine, lessons, user, day)
    assert await figures(db, user) == (3, 3, 2, 1, [2])
    assert (await engine.freezes(user_id=user.id)).held == 1


async def test_a_late_grant_covers_the_missed_days_after_it(
    engine: Engine, db: AsyncEngine, lessons: list[LessonView]
) -> None:
    user = await newcomer(engine)
    for day in (0, 1, 3, 4):
        await learn(engine, lessons, user, day)
    assert await figures(db, user) == (2, 2, 0, 0, [])
    await grant(engine, user, 1, 1)
    assert await figures(db, user) == (4, 4, 1, 1, [2])


async def test_a_pending_protection_shows_in_the_current_streak(
    engine: Engine, lessons: list[LessonView]
) -> None:
    """Missed days since the last learning day that freezes cover keep streak.current; the
    freezes are used only when the learner learns again."""
    now = utcnow()
    user = await newcomer(engine)
    await engine.grant_freezes(1, user_id=user.id, reason="welcome", at=now - timedelta(days=6))
    for back in (5, 4):
        await engine.record(
            Event(
                type=A.LESSON_COMPLETED,
                user_id=user.id,
                lesson_id=lessons[back].id,
                occurred_at=now - timedelta(days=back),
            )
        )
    # missed: 3 and 2 and 1 days ago (today is not over); one freeze covers one
    assert (await engine.progress(user_id=user.id)).streak_current == 0
    await engine.grant_freezes(2, user_id=user.id, reason="sorry", at=now - timedelta(days=5))
    progress = await engine.progress(user_id=user.id)
    assert (progress.streak_current, progress.streak_freezes) == (2, 3)
    assert (await engine.freezes(user_id=user.id)).covered_days == ()


async def test_rebuild_gives_the_same_streaks_and_covered_days(
    engine: Engine, db: AsyncEngine, lessons: list[LessonView]
) -> None:
    user = await newcomer(engine)
    await grant(engine, user, 0, 3)
    for day in (0, 2, 3, 5, 6, 7, 9):
        await learn(engine, lessons, user, day)
    before = await figures(db, user)
    await engine.rebuild_aggregates()
    assert await figures(db, user) == before == (7, 7, 3, 3, [1, 4, 8])


@pytest.mark.parametrize(
    ("zone", "used", "longest"), [("UTC", 0, 2), ("Europe/Berlin", 1, 2), ("Asia/Tokyo", 0, 2)]
)
async def test_missed_days_are_local_days_across_a_dst_change(
    db: AsyncEngine, zone: str, used: int, longest: int
) -> None:
    """Berlin springs forward on 2026-03-29: 23:30 on the 28th and 00:30 on the 30th (local)
    are one UTC day apart but two local days apart there, so a freeze covers the 29th."""
    engine = await make_engine(db, timezone=zone)
    try:
        user = await newcomer(engine)
        lessons = [lesson for module in await engine.modules() for lesson in module.lessons]
        await engine.grant_freezes(
            1, user_id=user.id, reason="dst", at=datetime(2026, 3, 26, 12, tzinfo=UTC)
        )
        for lesson, moment in zip(
            lessons,
            (datetime(2026, 3, 28, 22, 30, tzinfo=UTC), datetime(2026, 3, 29, 22, 30, tzinfo=UTC)),
            strict=False,
        ):
            await engine.record(
                Event(
                    type=A.LESSON_COMPLETED,
                    user_id=user.id,
                    lesson_id=lesson.id,
                    occurred_at=moment,
                )
            )
        report = await engine.freezes(user_id=user.id)
        assert (report.used, (await engine.progress(user_id=user.id)).streak_longest) == (
            used,
            longest,
        )
        if zone == "Europe/Berlin":
            assert report.covered_days == (date(2026, 3, 29),)
    finally:
        await engine.shutdown()


async def test_a_rule_gives_its_freezes_once_even_on_replay(
    engine: Engine, db: AsyncEngine, lessons: list[LessonView], tmp_path: Path
) -> None:
    rule = {
        "slug": "first-freeze",
        "type": "MILESTONE",
        "title": "Ice",
        "points": 0,
        "streak_freezes": 2,
        "criteria": {">=": [{"var": "stats.lessons_completed"}, 1]},
    }
    (tmp_path / "ice.json").write_text(json.dumps(rule))
    await engine.load_rules([tmp_path])
    user = await newcomer(engine)
    await learn(engine, lessons, user, 0, idempotency_key="k1")
    await learn(engine, lessons, user, 0, idempotency_key="k1")
    await learn(engine, lessons, user, 1)
    report = await engine.freezes(user_id=user.id)
    assert (report.granted, report.held) == (2, 2)
    assert [(g.amount, g.achievement_slug) for g in report.grants] == [(2, "first-freeze")]
    async with db.connect() as connection:
        assert await connection.scalar(select(func.count()).select_from(StreakFreezeGrant)) == 1


@pytest.mark.parametrize(
    ("amount", "reason", "at", "message"),
    [
        (0, "x", None, "a grant is 1 to 100 streak freezes, not 0"),
        (101, "x", None, "a grant is 1 to 100 streak freezes, not 101"),
        (True, "x", None, "a grant is 1 to 100 streak freezes, not True"),
        (1, "  ", None, "a grant needs a reason"),
        (1, "r" * 256, None, "at most 255 characters, not 256"),
        (1, "two\nlines", None, "one line of printable text"),
        (1, "x", datetime(2026, 3, 1), "must include a time zone"),
    ],
)
async def test_bad_grants_are_refused_and_write_nothing(
    engine: Engine,
    db: AsyncEngine,
    amount: int,
    reason: str,
    at: datetime | None,
    message: str,
) -> None:
    user = await newcomer(engine)
    before = await row_counts(db)
    with pytest.raises(InvalidFreezeGrant, match=message):
        await engine.grant_freezes(amount, user_id=user.id, reason=reason, at=at)
    assert await row_counts(db) == before


async def test_a_grant_to_an_unknown_learner_is_refused(engine: Engine, db: AsyncEngine) -> None:
    before = await row_counts(db)
    with pytest.raises(UnknownUser, match="telegram_id 424242"):
        await engine.grant_freezes(1, telegram_id=424242, reason="x")
    assert await row_counts(db) == before


# -- properties -------------------------------------------------------------------------------

steps = st.lists(
    st.one_of(
        st.tuples(st.just("learn"), st.integers(0, 20)),
        st.tuples(st.just("grant"), st.integers(-2, 20), st.integers(1, 3)),
    ),
    min_size=1,
    max_size=14,
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=steps, data=st.data())
async def test_freezes_do_not_depend_on_arrival_order(
    engine: Engine,
    db: AsyncEngine,
    lessons: list[LessonView],
    plan: list[tuple[str, int] | tuple[str, int, int]],
    data: st.DataObject,
) -> None:
    """Learning days and grants in any arrival order give the streaks of the day-by-day
    walk: covered gaps keep a run (k freezes cover k missed days), uncovered ones break it,
    and no learner holds fewer than zero freezes at any point. A rebuild agrees."""
    learning = {step[1] for step in plan if step[0] == "learn"}
    grants = [(step[1], step[2]) for step in plan if step[0] == "grant"]
    expected = reference(learning, grants)
    for order in (sorted(plan, key=lambda step: step[1]), data.draw(st.permutations(plan))):
        user = await newcomer(engine)
        for step in order:
            if step[0] == "learn":
                await learn(engine, lessons, user, step[1])
            else:
                await grant(engine, user, step[1], step[2])  # type: ignore[misc]
            assert (await engine.freezes(user_id=user.id)).held >= 0
        stored = await figures(db, user)
        assert stored[:4] == expected
        await engine.rebuild_aggregates()
        assert await figures(db, user) == stored


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    before=st.integers(1, 4),
    gap=st.integers(1, 4),
    after=st.integers(1, 4),
    freezes=st.integers(0, 4),
    late=st.booleans(),
)
async def test_k_freezes_keep_a_streak_over_k_missed_days_and_no_more(
    engine: Engine,
    db: AsyncEngine,
    lessons: list[LessonView],
    before: int,
    gap: int,
    after: int,
    freezes: int,
    late: bool,
) -> None:
    """A run, `gap` missed days, a run: with at least `gap` freezes the runs are one streak
    (no longer than their learning days), with fewer it breaks; the freezes held are used
    either way, never more than the missed days, and never fewer than zero remain."""
    user = await newcomer(engine)
    days = [*range(before), *range(before + gap, before + gap + after)]
    if freezes:
        await grant(engine, user, -1, freezes)
    for day in reversed(days) if late else days:
        await learn(engine, lessons, user, day)
    current, longest, given_, used, covered = await figures(db, user)
    kept = freezes >= gap
    assert current == (before + after if kept else after)
    assert longest == (before + after if kept else max(before, after))
    assert used == len(covered) == min(freezes, gap)
    assert given_ - used >= 0


# -- awards after a grant ---------------------------------------------------------------------


class Listener:
    """Listens to awards, so that their outbox entries are written."""

    @hookimpl
    def questline_award_granted(self) -> None:
        pass


async def awards(db: AsyncEngine, user: UserView) -> dict[str, tuple[datetime, int | None]]:
    """The learner's awards: slug → (earned_at, activity_id)."""
    async with db.connect() as connection:
        rows = await connection.execute(
            select(Achievement.slug, UserAchievement.earned_at, UserAchievement.activity_id)
            .join(Achievement, Achievement.id == UserAchievement.achievement_id)
            .where(UserAchievement.user_id == user.id)
        )
        return {slug: (earned_at, activity) for slug, earned_at, activity in rows}


async def load_rule(engine: Engine, tmp_path: Path, **rule: object) -> None:
    document = {"type": "MILESTONE", "title": str(rule["slug"]), **rule}
    (tmp_path / f"{rule['slug']}.json").write_text(json.dumps(document))
    await engine.load_rules([tmp_path])


async def test_a_back_dated_grant_grants_the_streak_awards_as_a_grant_first_would(
    engine: Engine, db: AsyncEngine, lessons: list[LessonView], tmp_path: Path
) -> None:
    """Learning on 2 and 3 November and on the 5th, with a freeze given on the 1st: the
    covered 4th makes a 3-day streak, whether the grant arrives before or after the events.
    Both earn streak-3 at the 5th's completion, so its points count in that week, where a
    rule on the week's points (first-lesson's 10, first-module's 40, streak-3's 20) follows
    from it."""
    engine.plugins.register(Listener(), name="listener")
    await load_rule(
        engine, tmp_path, slug="week-70", points=5, criteria={">=": [{"var": "week.points"}, 70]}
    )
    fifth = datetime(2026, 11, 5, 12, tzinfo=UTC)
    moments = [datetime(2026, 11, 2, 12, tzinfo=UTC), datetime(2026, 11, 3, 12, tzinfo=UTC), fifth]

    async def scenario(grant_first: bool) -> UserView:
        user = await newcomer(engine)
        steps = [("grant", None), *(("learn", moment) for moment in moments)]
        for kind, moment in steps if grant_first else [*steps[1:], steps[0]]:
            if kind == "grant":
                await engine.grant_freezes(
                    1, user_id=user.id, reason="r", at=datetime(2026, 11, 1, 1, tzinfo=UTC)
                )
            else:
                await engine.record(
                    Event(
                        type=A.LESSON_COMPLETED,
                        user_id=user.id,
                        lesson_id=lessons[moments.index(moment)].id,  # type: ignore[arg-type]
                        occurred_at=moment,  # type: ignore[arg-type]
                    )
                )
        return user

    first, after = await scenario(grant_first=True), await scenario(grant_first=False)
    earned_first, earned_after = await awards(db, first), await awards(db, after)
    slugs = {"first-lesson", "first-module", "streak-3", "week-70"}
    assert earned_first.keys() == earned_after.keys() == slugs
    for slug in ("streak-3", "week-70"):
        assert earned_first[slug][0] == earned_after[slug][0] == fifth
        assert earned_after[slug][1] is None  # no event granted it: the grant did
    assert (await figures(db, after))[:2] == (3, 3)
    for board in (await engine.top(10, period="week", at=fifth), await engine.top(10)):
        scores = {entry.user_id: entry.total_score for entry in board}
        assert scores[first.id] == scores[after.id] == 75
    async with db.connect() as connection:
        announced = await connection.scalars(
            select(OutboxEntry.payload).where(
                OutboxEntry.user_id == after.id, OutboxEntry.topic == "award.granted"
            )
        )
        assert sorted(json.loads(payload)["slug"] for payload in announced) == sorted(slugs)


async def test_a_grant_that_lengthens_no_run_grants_nothing(
    engine: Engine, db: AsyncEngine, lessons: list[LessonView]
) -> None:
    user = await newcomer(engine)
    for day in (0, 1, 4):
        await learn(engine, lessons, user, day)
    before = await awards(db, user)
    await grant(engine, user, 0, 1)
    assert await figures(db, user) == (1, 2, 1, 1, [2])
    assert await awards(db, user) == before


async def test_freezes_an_award_gives_dated_before_a_gap_grant_the_streak_awards(
    engine: Engine, db: AsyncEngine, lessons: list[LessonView], tmp_path: Path
) -> None:
    """A late fourth completion on day 0 earns a freeze there, which covers day 1: days 0-3
    are one run, and streak-3 comes with the event that earned the freeze."""
    await load_rule(
        engine,
        tmp_path,
        slug="ice",
        points=0,
        streak_freezes=1,
        criteria={">=": [{"var": "stats.lessons_completed"}, 4]},
    )
    user = await newcomer(engine)
    for day in (2, 3, 5):
        await learn(engine, lessons, user, day)
    result = await engine.record(
        Event(
            type=A.LESSON_COMPLETED,
            user_id=user.id,
            lesson_id=lessons[0].id,
            occurred_at=T0 + timedelta(hours=1),
        )
    )
    assert {award.slug for award in result.awards} == {"ice", "streak-3"}
    assert await figures(db, user) == (1, 3, 1, 1, [1])
    earned_at, activity = (await awards(db, user))["streak-3"]
    assert (earned_at, activity) == (T0 + timedelta(days=3, hours=1), result.activity_id)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    days=st.lists(st.integers(0, 10), min_size=1, max_size=8, unique=True),
    day=st.integers(-2, 10),
    amount=st.integers(1, 3),
    data=st.data(),
)
async def test_a_grant_earns_the_same_awards_before_or_after_the_events(
    engine: Engine,
    db: AsyncEngine,
    lessons: list[LessonView],
    days: list[int],
    day: int,
    amount: int,
    data: st.DataObject,
) -> None:
    """The default catalog's awards (streak-3 and streak-7 among them) are the same whether a
    grant comes first, or after the learning days (in order or shuffled)."""
    held: list[set[str]] = []
    for grant_first, order in ((True, sorted(days)), (False, data.draw(st.permutations(days)))):
        user = await newcomer(engine)
        if grant_first:
            await grant(engine, user, day, amount)
        for learning_day in order:
            await learn(engine, lessons, user, learning_day)
        if not grant_first:
            await grant(engine, user, day, amount)
        held.append(set(await awards(db, user)))
    assert held[0] == held[1]
