"""Scarcity: "one of the first N" stays exactly N with learners finishing at the same time."""

from __future__ import annotations

import asyncio
import json
from itertools import count
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine import Engine, Event, UserProfile
from questline.engine.views import AchievementStatus, LessonView, UserView
from questline.rules import RuleDocument
from questline.rules.vocabulary import ActivityType as A

from .conftest import make_engine

numbers = count(1)
FIRST_THREE = {
    "slug": "first-three",
    "type": "LESSON_COMPLETED",
    "title": "Early bird",
    "points": 5,
    "criteria": {
        "and": [
            {">=": [{"var": "stats.lessons_completed"}, 1]},
            {"<": [{"var": "rule.holders"}, 3]},
        ]
    },
}


async def with_rule(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "first-three.json"
    path.write_text(json.dumps(FIRST_THREE))
    await engine.load_rules([path])


async def learners(engine: Engine, n: int) -> list[UserView]:
    return [
        await engine.register_user(UserProfile(telegram_id=97_000 + next(numbers)))
        for _ in range(n)
    ]


def completion(user: UserView, lesson: LessonView) -> Event:
    return Event(type=A.LESSON_COMPLETED, user_id=user.id, lesson_id=lesson.id)


async def holders(engine: Engine, users: list[UserView]) -> int:
    earned = 0
    for user in users:
        statuses = await engine.achievements(user_id=user.id)
        earned += any(s.slug == "first-three" and s.earned_at for s in statuses)
    return earned


async def test_the_first_three_of_ten_concurrent_learners(
    db: AsyncEngine, lessons: list[LessonView], tmp_path: Path
) -> None:
    """Ten engines (ten connection pools on MariaDB) record ten first completions at once."""
    engines = [await make_engine(db) for _ in range(10)]
    try:
        await with_rule(engines[0], tmp_path)
        for engine in engines:
            await engine.reload()
        users = await learners(engines[0], 10)
        pairs = zip(engines, users, strict=True)
        results = await asyncio.gather(
            *(engine.record(completion(user, lessons[0])) for engine, user in pairs)
        )
        granted = [a for result in results for a in result.awards if a.slug == "first-three"]
        assert len(granted) == 3
        assert await holders(engines[0], users) == 3
        later = await engines[0].record(completion(users[0], lessons[1]))
        assert "first-three" not in {award.slug for award in later.awards}
    finally:
        for engine in engines:
            await engine.shutdown()


async def test_one_transaction_counts_its_own_awards(
    engine: Engine, lessons: list[LessonView], tmp_path: Path
) -> None:
    await with_rule(engine, tmp_path)
    users = await learners(engine, 5)
    results = await engine.record_many([completion(user, lessons[0]) for user in users])
    granted = [a.user_id for result in results for a in result.awards if a.slug == "first-three"]
    assert granted == [user.id for user in users[:3]]


async def test_backfill_and_preview_see_the_holders(
    engine: Engine, lessons: list[LessonView], tmp_path: Path
) -> None:
    users = await learners(engine, 5)
    for user in users:
        await engine.record(completion(user, lessons[0]))
    document = RuleDocument.model_validate(FIRST_THREE)
    assert len(await engine.preview(document)) == 5  # nobody holds it yet
    await with_rule(engine, tmp_path)
    report = await engine.backfill("first-three", chunk_size=2)
    assert [award.user_id for award in report.awards] == [user.id for user in users[:3]]
    assert await engine.preview(document) == []  # three hold it now


async def test_a_learner_is_told_when_the_places_are_taken(
    engine: Engine, lessons: list[LessonView], tmp_path: Path
) -> None:
    await with_rule(engine, tmp_path)
    users = await learners(engine, 5)

    async def first_three_for(user: UserView) -> AchievementStatus:
        [status] = [
            s for s in await engine.achievements(user_id=user.id) if s.slug == "first-three"
        ]
        return status

    early = await first_three_for(users[4])
    assert [shortfall.fact for shortfall in early.shortfalls] == ["stats.lessons_completed"]
    for user in users[:3]:
        await engine.record(completion(user, lessons[0]))
    late = await first_three_for(users[4])
    assert late.earned_at is None
    assert [(s.fact, s.current) for s in late.shortfalls] == [
        ("stats.lessons_completed", 0),
        ("rule.holders", 3),
    ]
    assert "rule.holders" in (late.explanation or "")
    await engine.record(completion(users[3], lessons[0]))  # too late: nothing awarded
    [closed] = (await first_three_for(users[3])).shortfalls
    assert (closed.fact, closed.current) == ("rule.holders", 3)
