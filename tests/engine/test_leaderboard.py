"""Leaderboard: totals, competition ranking "1224", display order, rebuild, top and around."""

from __future__ import annotations

import json
from datetime import timedelta
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, event, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from questline.engine import Engine, Event, UserProfile, ranks
from questline.engine.models import (
    LeaderboardCache,
    LeaderboardScoreBand,
    LeaderboardScoreCount,
    User,
)
from questline.engine.views import LessonView, UserView
from questline.rules.loading import CATALOG_DIR
from questline.rules.vocabulary import ActivityType as A

from .conftest import T0


async def scored(
    engine: Engine, telegram_id: int, name: str, lesson: LessonView, score: int
) -> UserView:
    user = await engine.register_user(UserProfile(telegram_id=telegram_id, first_name=name))
    await engine.record(
        Event(
            type=A.LESSON_COMPLETED,
            user_id=user.id,
            lesson_id=lesson.id,
            score=score,
            occurred_at=T0,
        )
    )
    return user


async def test_competition_ranking_with_ties(
    engine: Engine, db: AsyncEngine, lessons: list[LessonView]
) -> None:
    # every learner also earns "first-lesson" (10 points): totals are score + 10
    ann = await scored(engine, 1, "Ann", lessons[0], 90)
    bob = await scored(engine, 2, "Bob", lessons[0], 70)
    cid = await scored(engine, 3, "Cid", lessons[0], 70)
    dan = await scored(engine, 4, "Dan", lessons[0], 20)
    top = await engine.top(10)
    assert [(e.rank, e.display_name, e.total_score) for e in top] == [
        (1, "Ann", 100),
        (2, "Bob", 80),
        (2, "Cid", 80),
        (4, "Dan", 30),
    ]
    assert [e.user_id for e in await engine.top(2)] == [ann.id, bob.id]
    around = await engine.around(user_id=cid.id, radius=1)
    assert [e.display_name for e in around] == ["Bob", "Cid", "Dan"]
    assert await engine.around(user_id=dan.id, radius=5) == top

    assert await engine.rebuild_leaderboard() == 4
    async with db.connect() as connection:
        stored = dict(
            (
                await connection.execute(select(LeaderboardCache.user_id, LeaderboardCache.rank))
            ).all()
        )
    assert stored == {ann.id: 1, bob.id: 2, cid.id: 2, dan.id: 4}


async def test_total_is_best_lesson_scores_plus_achievement_points(
    engine: Engine, lessons: list[LessonView]
) -> None:
    user = await scored(engine, 9, "Eve", lessons[0], 40)
    await engine.record(
        Event(
            type=A.LESSON_COMPLETED,
            user_id=user.id,
            lesson_id=lessons[0].id,
            score=60,
            occurred_at=T0,
        )
    )
    await engine.record(
        Event(
            type=A.LESSON_COMPLETED,
            user_id=user.id,
            lesson_id=lessons[1].id,
            score=5,
            occurred_at=T0,
        )
    )
    [entry] = await engine.top(1)
    report = await engine.progress(user_id=user.id)
    assert entry.total_score == report.total_score == 60 + 5 + report.points
    assert (entry.lessons_completed, entry.achievements_count) == (2, 1)


async def test_learner_without_scores_is_not_ranked(engine: Engine) -> None:
    user = await engine.register_user(UserProfile(telegram_id=5))
    await engine.record(Event(type=A.LOGIN, user_id=user.id))
    assert await engine.around(user_id=user.id) == []
    assert await engine.top(10) == []


@st.composite
def totals(draw: st.DrawFn) -> list[int]:
    """Even totals from 1000 to 1056: ties, and several scores in each band (992, 1024, 1056)
    with the first score of a band among them."""
    return draw(st.lists(st.integers(0, 7).map(lambda n: 1000 + 8 * n), min_size=1, max_size=12))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    scores=totals(),
    radius=st.integers(0, 3),
    inactive=st.sets(st.integers(0, 11)),
    vacated=st.booleans(),
)
async def test_live_ranks_match_competition_ranking(
    engine: Engine,
    db: AsyncEngine,
    scores: list[int],
    radius: int,
    inactive: set[int],
    vacated: bool,
) -> None:
    """top() and around() (by questline id and by Telegram id) agree with "1 + active learners
    with a higher total" for any totals, also among count rows of 0 left by scores nobody
    holds any more (`vacated`: one at every odd score, so never at a total)."""
    async with db.begin() as connection:
        await connection.execute(delete(LeaderboardCache))
        await connection.execute(delete(User))
        await connection.execute(
            insert(User),
            [
                {"telegram_id": 9000 + n, "first_name": f"L{n}", "is_active": n not in inactive}
                for n in range(len(scores))
            ],
        )
        ids = (await connection.execute(select(User.id).order_by(User.telegram_id))).scalars()
        users = list(ids)
        await connection.execute(
            insert(LeaderboardCache),
            [
                {"user_id": u, "rank": 0, "total_score": s}
                for u, s in zip(users, scores, strict=True)
            ],
        )
    async with AsyncSession(db) as session, session.begin():
        await ranks.recount(session)  # the scores were written behind the engine's back
        if vacated:
            await session.execute(
                insert(LeaderboardScoreCount),
                [
                    {"board": "all", "period_start": 0, "score": score, "learners": 0}
                    for score in range(1001, 1070, 2)
                ],
            )
    active = [
        (s, u) for n, (u, s) in enumerate(zip(users, scores, strict=True)) if n not in inactive
    ]
    expected = [
        (1 + sum(other > score for other, _ in active), user, score)
        for score, user in sorted(active, key=lambda item: (-item[0], item[1]))
    ]
    top = await engine.top(len(scores))
    assert [(e.rank, e.user_id, e.total_score) for e in top] == expected
    for position, (_, user, _) in enumerate(expected):
        window = expected[max(position - radius, 0) : position + radius + 1]
        entries = await engine.around(user_id=user, radius=radius)
        assert [(e.rank, e.user_id, e.total_score) for e in entries] == window
        telegram_id = entries[window.index(expected[position])].telegram_id
        assert await engine.around(telegram_id=telegram_id, radius=radius) == entries


telegram_ids = count(7000)


async def stored_ranks(db: AsyncEngine) -> dict[int, int]:
    async with db.connect() as connection:
        rows = await connection.execute(select(LeaderboardCache.user_id, LeaderboardCache.rank))
        return dict(rows.all())  # type: ignore[arg-type]


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    scores=st.lists(st.integers(0, 5).map(lambda n: n * 20), min_size=2, max_size=6),
    chunk=st.integers(1, 7),
    inactive=st.integers(0, 5),
)
async def test_stored_ranks_agree_with_the_shown_ones_whatever_the_chunking(
    engine: Engine,
    db: AsyncEngine,
    lessons: list[LessonView],
    scores: list[int],
    chunk: int,
    inactive: int,
) -> None:
    """Unranked (0) until a rebuild, whatever the chunk size; after it, the shown ranks of the
    active learners, and 0 for an inactive one."""
    users = [
        await engine.register_user(UserProfile(telegram_id=next(telegram_ids), first_name="x"))
        for _ in scores
    ]
    events = [
        Event(type=A.LESSON_COMPLETED, user_id=u.id, lesson_id=lessons[0].id, score=s)
        for u, s in zip(users, scores, strict=True)
    ]
    await engine.record_many(events, chunk_size=chunk)
    before = await stored_ranks(db)
    assert {before[user.id] for user in users} == {0}
    quitter = users[inactive % len(users)]
    async with db.begin() as connection:
        await connection.execute(
            User.__table__.update().where(User.id == quitter.id).values(is_active=False)
        )
    await engine.rebuild_leaderboard()
    shown = {entry.user_id: entry.rank for entry in await engine.top(10_000)}
    stored = await stored_ranks(db)
    assert stored == {user_id: shown.get(user_id, 0) for user_id in stored}
    assert stored[quitter.id] == 0


async def test_rebuild_recounts_totals_after_rule_points_change_and_a_rule_is_disabled(
    engine: Engine, lessons: list[LessonView], tmp_path: Path
) -> None:
    """Awards are kept and count at their achievement's current points, enabled or not; the
    progress report and the leaderboard agree after a rebuild."""
    learner = await scored(engine, 8801, "Ida", lessons[0], 40)  # earns "first-lesson" (10)
    rules = json.loads((CATALOG_DIR / "lessons.json").read_text())
    first = next(rule for rule in rules if rule["slug"] == "first-lesson")
    path = tmp_path / "changed.json"
    path.write_text(json.dumps([{**first, "points": 20, "enabled": False}]))
    await engine.load_rules([path])
    await engine.rebuild_leaderboard()
    report = await engine.progress(user_id=learner.id)
    [entry] = await engine.around(user_id=learner.id, radius=0)
    assert report.total_score == entry.total_score == 40 + 20


async def score_counts(db: AsyncEngine) -> tuple[dict[tuple[str, int, int], int], ...]:
    """The non-zero score counts and band counts of every board."""
    async with db.connect() as connection:
        counts = await connection.execute(select(LeaderboardScoreCount))
        bands = await connection.execute(select(LeaderboardScoreBand))
        return (
            {(r.board, r.period_start, r.score): r.learners for r in counts if r.learners},
            {(r.board, r.period_start, r.band): r.learners for r in bands if r.learners},
        )


@given(st.integers(0, 2**31 - 1), st.integers(0, 2**31 - 1))
def test_bands_are_runs_of_consecutive_scores(a: int, b: int) -> None:
    """A band is named by its lowest score, and bands keep the order of scores (so the bands
    above a score's band hold exactly the scores above that band)."""
    low, high = sorted((a, b))
    assert ranks.band_of(low) <= low
    assert ranks.band_of(ranks.band_of(low)) == ranks.band_of(low)
    assert ranks.band_of(low) <= ranks.band_of(high)


def test_every_31_bit_score_falls_in_one_of_fewer_than_450_bands() -> None:
    bands, score = 0, 0
    while score < 2**31:
        bands += 1
        band = ranks.band_of(score)
        after = band + 2 ** max(score.bit_length() - ranks.BAND_BITS, 0)
        assert ranks.band_of(after - 1) == band != ranks.band_of(after)
        score = after
    assert bands < 450


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    events=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 5), st.integers(0, 40), st.integers(0, 10)),
        min_size=1,
        max_size=25,
    ),
    chunk=st.integers(1, 8),
)
async def test_score_counts_kept_with_events_equal_a_recount(
    engine: Engine,
    db: AsyncEngine,
    lessons: list[LessonView],
    events: list[tuple[int, int, int, int]],
    chunk: int,
) -> None:
    """Events in any arrival order (late ones included), any chunking, and a rebuild of the
    aggregates keep every board's score counts and band counts equal to a count of the active
    learners' scores; an inactive learner is on no count."""
    users = [
        await engine.register_user(UserProfile(telegram_id=next(telegram_ids), first_name="x"))
        for _ in range(4)
    ]
    async with db.begin() as connection:
        await connection.execute(
            User.__table__.update().where(User.id == users[3].id).values(is_active=False)
        )
    await engine.record_many(
        [
            Event(
                type=A.LESSON_COMPLETED,
                user_id=users[who].id,
                lesson_id=lessons[lesson].id,
                score=10 * score,
                occurred_at=T0 + timedelta(days=day, hours=who),
            )
            for who, lesson, day, score in events
        ],
        chunk_size=chunk,
    )
    kept = await score_counts(db)
    assert all(kept)
    await engine.rebuild_aggregates()
    assert await score_counts(db) == kept
    async with AsyncSession(db) as session, session.begin():
        await ranks.recount(session)
    assert await score_counts(db) == kept


@pytest.mark.mysql_only
async def test_board_pages_are_read_along_the_display_order_index(
    engine: Engine, db: AsyncEngine, lessons: list[LessonView]
) -> None:
    """On MariaDB `top` and `around` read the board along its display-order index whatever
    the optimizer's statistics say (right after a bulk load they made it sort the whole
    board): each statement forces the index, and EXPLAIN shows it is the one read."""
    users = [await scored(engine, 700 + n, f"L{n}", lessons[0], 10 * n) for n in range(6)]
    sent: list[tuple[str, Any]] = []

    def listen(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if "ORDER BY" in statement and "leaderboard_cache" in statement:
            sent.append((statement, parameters))

    event.listen(db.sync_engine, "before_cursor_execute", listen)
    try:
        await engine.top(3)
        await engine.around(user_id=users[3].id, radius=1)
    finally:
        event.remove(db.sync_engine, "before_cursor_execute", listen)
    assert len(sent) == 2
    async with db.connect() as connection:
        for statement, parameters in sent:
            assert "FORCE INDEX (ix_leaderboard_cache_display_order)" in statement
            plan = (await connection.exec_driver_sql("EXPLAIN " + statement, parameters)).all()
            keys = {row.key for row in plan if row.table == "leaderboard_cache"}
            assert keys == {"ix_leaderboard_cache_display_order"}, statement
