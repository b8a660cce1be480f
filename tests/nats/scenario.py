"""A learning community for the NATS tests: fresh databases, learners, a JSONL event file,
and the state a run leaves (progress, awards, leaderboard) to compare two runs by."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from questline.engine import Engine, Event, UserProfile
from questline.engine.db import create_engine, is_mysql
from questline.engine.migrate import drop_all_tables, upgrade_database
from questline.engine.models import ActivityLog
from questline.plugins.manager import PluginManager, build_plugin_manager
from questline.rules.loading import CATALOG_DIR
from questline.rules.vocabulary import ActivityType

SAMPLE_COURSE = Path(__file__).parents[2] / "questline" / "engine" / "sample" / "course.yaml"
START = T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
LEARNERS = 30


async def fresh_database(url: str) -> None:
    """Every table dropped, migrated to head: auto-increment ids start at 1 again."""
    db = create_engine(url)
    try:
        if is_mysql(db):
            async with db.begin() as connection:
                await connection.run_sync(drop_all_tables)
        await upgrade_database(db)
    finally:
        await db.dispose()


def engine_on(url: str, plugins: PluginManager | None = None) -> Engine:
    return Engine(url, plugin_manager=plugins or build_plugin_manager(load_entry_points=False))


@dataclass(frozen=True)
class Community:
    user_ids: list[int]
    lessons: list[tuple[int, int | None]]  # lesson id, challenge points


async def prepare(url: str) -> Community:
    """A fresh database with the sample course, the rule catalog and LEARNERS learners."""
    await fresh_database(url)
    engine = engine_on(url)
    try:
        await engine.load_content(SAMPLE_COURSE)
        await engine.load_rules([CATALOG_DIR])
        users = [
            await engine.register_user(UserProfile(telegram_id=7000 + n, first_name=f"L{n}"))
            for n in range(LEARNERS)
        ]
        lessons = [
            (lesson.id, lesson.challenge.points if lesson.challenge else None)
            for module in await engine.modules()
            for lesson in module.lessons
        ]
    finally:
        await engine.shutdown()
    return Community([user.id for user in users], lessons)


def event_lines(community: Community, count: int, seed: int = 7) -> list[str]:
    """`count` keyed events as JSON lines: learning sessions of random learners in time order
    (a login, a start, attempts, usually a solve and a completion), over about 20 days."""
    rng = random.Random(seed)
    position = dict.fromkeys(community.user_ids, 0)
    lines: list[str] = []
    moment = START
    session = 0
    while len(lines) < count:
        session += 1
        moment += timedelta(seconds=rng.randint(60, 4 * 3600 * LEARNERS // max(count // 5, 1)))
        user = rng.choice(community.user_ids)
        lesson, points = community.lessons[position[user] % len(community.lessons)]
        steps: list[tuple[str, int | None]] = [("LOGIN", None), ("LESSON_STARTED", None)]
        if points is not None:
            steps += [("CHALLENGE_ATTEMPTED", None)] * rng.randint(1, 2)
            if rng.random() < 0.8:
                steps.append(("CHALLENGE_SOLVED", points))
        if rng.random() < 0.85:
            steps.append(("LESSON_COMPLETED", rng.randint(40, 100)))
            position[user] += 1
        for number, (kind, score) in enumerate(steps):
            event: dict[str, Any] = {
                "type": kind,
                "user_id": user,
                "occurred_at": (moment + timedelta(minutes=3 * number)).isoformat(),
                "idempotency_key": f"s{session}-{number}",
            }
            if kind != "LOGIN":
                event["lesson_id"] = lesson
            if score is not None:
                event["score"] = score
            lines.append(json.dumps(event))
    return lines[:count]


def write_events(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


async def ingest(url: str, lines: list[str]) -> None:
    """The reference: the same events recorded in-process with record_many."""
    engine = engine_on(url)
    try:
        await engine.startup()
        await engine.record_many(Event.model_validate_json(line) for line in lines)
    finally:
        await engine.shutdown()


async def state(url: str, user_ids: list[int]) -> dict[str, Any]:
    """What learners see: each one's progress (statuses, attempts, scores, streaks, totals),
    earned awards with their dates, and the leaderboard."""
    engine = engine_on(url)
    try:
        progress = {user: await engine.progress(user_id=user) for user in user_ids}
        awards = {
            user: sorted(
                (status.slug, status.earned_at)
                for status in await engine.achievements(user_id=user)
                if status.earned_at is not None
            )
            for user in user_ids
        }
        board = await engine.top(len(user_ids))
    finally:
        await engine.shutdown()
    return {"progress": progress, "awards": awards, "leaderboard": board}


async def recorded_events(url: str) -> int:
    """Learner events in the activity log (awards' own rows left out)."""
    db = create_engine(url)
    try:
        async with db.connect() as connection:
            count = await connection.scalar(
                select(func.count())
                .select_from(ActivityLog)
                .where(ActivityLog.activity_type != ActivityType.ACHIEVEMENT_EARNED)
            )
    finally:
        await db.dispose()
    return int(count or 0)
