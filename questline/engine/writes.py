"""The rows one transaction writes, gathered in memory and written set-wise at its end.

Recording an event adds plain rows here (no ORM objects); `Pending.write` sends them in a
few statements however many events the transaction holds: the activities (their ids are
needed by the awards), the lesson rows, the awards (`insert_awards`, the one place where
awards reach the database), then the week and month gains.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from questline.engine.models import ActivityLog, UserAchievement, UserProgress
from questline.engine.periods import Gains
from questline.engine.progress import PROGRESS_FIELDS, Progress
from questline.engine.ranks import Moves
from questline.rules.vocabulary import ActivityType

_activity = ActivityLog.__table__
_progress = UserProgress.__table__
_awards = UserAchievement.__table__
_insert_activity = insert(_activity)
_insert_progress = insert(_progress)
_update_progress = update(_progress).where(
    _progress.c.user_id == bindparam("key_user"),
    _progress.c.lesson_id == bindparam("key_lesson"),
)
_insert_awards = insert(_awards)


@dataclass
class ActivityRow:
    """An activity_log row to insert; `id` is set once it is written."""

    values: dict[str, Any]
    id: int | None = None


@dataclass(frozen=True)
class AwardRow:
    """A user_achievements row, with its ACHIEVEMENT_EARNED log entry."""

    user_id: int
    achievement_id: int
    slug: str
    earned_at: datetime
    activity: ActivityRow | None
    """The event that granted it (None for a backfill)."""


@dataclass
class Pending:
    """This transaction's rows, not yet written."""

    activities: list[ActivityRow] = field(default_factory=list)
    progress: dict[tuple[int, int], Progress] = field(default_factory=dict)
    """Changed lesson rows by (user id, lesson id)."""
    awards: list[AwardRow] = field(default_factory=list)
    first_solves: dict[tuple[int, int], ActivityRow] = field(default_factory=dict)
    """The stored first solves that repeated solves answer with, by (user id, lesson id);
    their ids are read when the rows are written."""
    gains: Gains = field(default_factory=Gains)
    """What the events and awards add to learners' week and month boards."""

    async def write(self, session: AsyncSession, moves: Moves) -> None:
        """Write everything gathered, in dependency order, and forget it; the week and month
        scores that change are noted in `moves`."""
        await insert_activities(session, self.activities)
        inserts, updates = [], []
        for row in self.progress.values():
            values = {name: getattr(row, name) for name in PROGRESS_FIELDS}
            if row.stored:
                updates.append({**values, "key_user": row.user_id, "key_lesson": row.lesson_id})
            else:
                inserts.append({**values, "user_id": row.user_id, "lesson_id": row.lesson_id})
                row.stored = True
        if inserts:
            await session.execute(_insert_progress, inserts)
        if updates:
            await session.execute(_update_progress, updates)
        await insert_awards(session, self.awards)
        await self.gains.write(session, moves)
        await find_first_solves(session, self.first_solves)
        self.activities, self.progress, self.awards, self.first_solves = [], {}, [], {}


ROWS_PER_INSERT = 1_000
"""Rows per multi-row INSERT on MySQL/MariaDB."""


async def insert_activities(session: AsyncSession, rows: list[ActivityRow]) -> None:
    """Insert the activities and set their ids, in a few statements.

    SQLite: one row is inserted on its own (the driver tells its rowid); more in one
    executemany: while this transaction holds the write lock each new rowid is the largest
    one + 1, so the ids are the `n` ending at ``last_insert_rowid()``.
    MySQL/MariaDB: multi-row INSERTs get consecutive ids from LAST_INSERT_ID() when
    `innodb_autoinc_lock_mode` is 0 or 1 and the increment is 1; otherwise each row is
    inserted on its own.
    """
    if not rows:
        return
    if session.get_bind().dialect.name == "sqlite":
        if len(rows) == 1:
            [row] = rows
            row.id = (await session.execute(_insert_activity, row.values)).lastrowid
            return
        await session.execute(_insert_activity, [row.values for row in rows])
        last = (await session.execute(text("SELECT last_insert_rowid()"))).scalar_one()
        for offset, row in enumerate(reversed(rows)):
            row.id = last - offset
        return
    for start in range(0, len(rows), ROWS_PER_INSERT):
        batch = rows[start : start + ROWS_PER_INSERT]
        if len(batch) > 1 and await _consecutive_ids(session):
            statement = insert(_activity).values([row.values for row in batch])
            first = (await session.execute(statement)).lastrowid
            for offset, row in enumerate(batch):
                row.id = first + offset
        else:
            for row in batch:
                row.id = (await session.execute(_insert_activity, row.values)).lastrowid


async def _consecutive_ids(session: AsyncSession) -> bool:
    connection = await session.connection()
    known = connection.info.get("questline_consecutive_ids")
    if known is None:
        mode, step = (
            await session.execute(
                text("SELECT @@innodb_autoinc_lock_mode, @@auto_increment_increment")
            )
        ).one()
        known = connection.info["questline_consecutive_ids"] = int(mode) < 2 and int(step) == 1
    return bool(known)


async def find_first_solves(
    session: AsyncSession, wanted: dict[tuple[int, int], ActivityRow]
) -> None:
    """Set the id of each (user id, lesson id)'s first CHALLENGE_SOLVED activity, in one read."""
    if not wanted:
        return
    rows = await session.execute(
        select(_activity.c.user_id, _activity.c.entity_id, func.min(_activity.c.id))
        .where(
            _activity.c.activity_type == ActivityType.CHALLENGE_SOLVED,
            tuple_(_activity.c.user_id, _activity.c.entity_id).in_(list(wanted)),
        )
        .group_by(_activity.c.user_id, _activity.c.entity_id)
    )
    for user_id, lesson_id, first in rows:
        wanted[(user_id, lesson_id)].id = first
    assert all(row.id is not None for row in wanted.values()), "a solved lesson has its solve"


async def insert_awards(session: AsyncSession, awards: list[AwardRow]) -> None:
    """Insert awards and their ACHIEVEMENT_EARNED entries: the one place awards are written.

    The unique constraint (user, achievement) is the last guard: a duplicate can only come
    from a writer outside the engine, and the transaction then runs again.
    """
    if not awards:
        return
    await session.execute(
        _insert_awards,
        [
            {
                "user_id": award.user_id,
                "achievement_id": award.achievement_id,
                "earned_at": award.earned_at,
                "activity_id": award.activity.id if award.activity else None,
            }
            for award in awards
        ],
    )
    await session.execute(
        _insert_activity,
        [
            {
                "user_id": award.user_id,
                "activity_type": ActivityType.ACHIEVEMENT_EARNED,
                "entity_id": award.achievement_id,
                "entity_type": "achievement",
                "details": json.dumps({"slug": award.slug}),
                "created_at": award.earned_at,
                "idempotency_key": None,
            }
            for award in awards
        ],
    )
