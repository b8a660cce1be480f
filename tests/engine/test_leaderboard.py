"""Leaderboard: totals, competition ranking "1224", display order, rebuild, top and around."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine import Engine, Event, UserProfile
from questline.engine.models import LeaderboardCache
from questline.engine.views import LessonView, UserView
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
