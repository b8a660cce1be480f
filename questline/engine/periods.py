"""Weeks and months: the periods of the periodic leaderboards, and what each period gained.

A period is a calendar week (Monday to Sunday) or a calendar month of local days in the
engine's time zone; it is keyed by its first day as an ordinal (``date.toordinal()``).

A learner's gain in a period is what the period added to their all-time totals:

- score: for each lesson, the amount by which an event raised the learner's best score of the
  lesson (the events taken in the order they were recorded), counted in the period of the
  event's time; plus the points of each achievement earned, in the period of its earned time;
- lessons_completed: the lessons first completed in the period;
- achievements_count: the achievements earned in the period.

Summed over every period, the gains are the all-time totals. The gains are kept as increments
in ``learner_period_scores`` in each event's transaction and rebuilt from the log by `rebuild`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, bindparam, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from questline.engine.errors import QuestlineError
from questline.engine.limits import EARLIEST, LATEST
from questline.engine.models import (
    Achievement,
    ActivityLog,
    LearnerPeriodScore,
    User,
    UserAchievement,
)
from questline.engine.ranks import Moves
from questline.engine.timestamps import utcnow
from questline.engine.upserts import add_counts
from questline.engine.values import values_of
from questline.rules.vocabulary import ActivityType

_table = LearnerPeriodScore.__table__
_GAIN_FIELDS = ("score", "lessons_completed", "achievements_count")
GAIN_KEYS = ("user_id", "period", "period_start")


class Period(StrEnum):
    """A leaderboard period: a calendar week or month, or all time."""

    WEEK = "week"
    MONTH = "month"
    ALL = "all"


PERIODS = (Period.WEEK, Period.MONTH)
"""The periods with boards of their own (all time is the leaderboard cache)."""


def period_named(name: str) -> Period:
    """The period called `name`; a QuestlineError naming the choices otherwise."""
    try:
        return Period(name)
    except ValueError:
        choices = ", ".join(period.value for period in Period)
        raise QuestlineError(f'unknown period "{name}" (use one of: {choices})') from None


def moment_at(at: datetime | None) -> datetime:
    """`at` as a UTC moment (default: now); a time without a time zone, or outside the
    times an event may have (EARLIEST to LATEST), is refused."""
    if at is None:
        return utcnow()
    if at.tzinfo is None or at.utcoffset() is None:
        raise QuestlineError(f"time {at.isoformat()} has no time zone (give a UTC offset)")
    if not EARLIEST <= at <= LATEST:
        bounds = f"{EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d} (UTC)"
        raise QuestlineError(f"time {at.isoformat()} must lie between {bounds}")
    return at.astimezone(UTC)


def start_of(period: Period, day: date) -> date:
    """The first day of the week (Monday) or month holding `day`."""
    if period is Period.WEEK:
        return day - timedelta(days=day.weekday())
    if period is Period.MONTH:
        return day.replace(day=1)
    raise ValueError(f"{period} has no start")


def previous_start(period: Period, start: date) -> date:
    """The first day of the week or month before the one starting on `start`."""
    return start_of(period, start - timedelta(days=1))


def next_start(period: Period, start: date) -> date:
    """The first day of the week or month after the one starting on `start`."""
    if period is Period.WEEK:
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def period_of(period: Period, moment: datetime, zone: ZoneInfo) -> int:
    """The key of the period holding the UTC `moment` in `zone` (DST-safe)."""
    return start_of(period, moment.astimezone(zone).date()).toordinal()


def last_finished(period: Period, moment: datetime, zone: ZoneInfo) -> int:
    """The key of the last period that ended at or before `moment`."""
    current = start_of(period, moment.astimezone(zone).date())
    return previous_start(period, current).toordinal()


@dataclass
class Gain:
    """What one period added to one learner's totals."""

    score: int = 0
    lessons_completed: int = 0
    achievements_count: int = 0


GainKey = tuple[int, Period, int]
"""(user id, period, period key)."""


class Gains:
    """Gains to add, by learner and period: gathered in a transaction, written at its end."""

    def __init__(self) -> None:
        self.by_key: dict[GainKey, Gain] = {}

    def add(
        self,
        user_id: int,
        moment: datetime,
        zone: ZoneInfo,
        *,
        score: int = 0,
        lessons: int = 0,
        achievements: int = 0,
    ) -> None:
        """Count a gain at `moment` in its week and its month (nothing if there is none)."""
        if not (score or lessons or achievements):
            return
        for period in PERIODS:
            key = (user_id, period, period_of(period, moment, zone))
            gain = self.by_key.setdefault(key, Gain())
            gain.score += score
            gain.lessons_completed += lessons
            gain.achievements_count += achievements

    async def score(
        self, session: AsyncSession, user_id: int, period: Period, moment: datetime, zone: ZoneInfo
    ) -> int:
        """The score `user_id` gained in the week or month holding `moment`: the stored row
        (one primary-key read) and what this transaction has added so far."""
        start = period_of(period, moment, zone)
        stored = await session.scalar(
            select(LearnerPeriodScore.score).where(
                LearnerPeriodScore.user_id == user_id,
                LearnerPeriodScore.period == period.value,
                LearnerPeriodScore.period_start == start,
            )
        )
        pending = self.by_key.get((user_id, period, start))
        return (stored or 0) + (pending.score if pending else 0)

    async def write(self, session: AsyncSession, moves: Moves) -> None:
        """Add the gains to the stored rows (one upsert of increments), note active learners'
        score moves in `moves` (the stored scores are read first), and forget the gains."""
        keys = sorted(self.by_key)
        self.by_key, gains = {}, self.by_key
        if not keys:
            return
        active, stored = await _active_and_stored(session, keys)
        rows = []
        for key in keys:
            user_id, period, start = key
            gain = gains[key]
            rows.append(
                {
                    "user_id": user_id,
                    "period": period.value,
                    "period_start": start,
                    **values_of(gain),
                }
            )
            if active.get(user_id):
                old = stored.get((user_id, period.value, start))
                moves.move((period.value, start), old, (old or 0) + gain.score)
        dialect = session.get_bind().dialect.name
        await session.execute(add_counts(_table, GAIN_KEYS, _GAIN_FIELDS, dialect), rows)


@cache
def _active_and_stored_query(boards: int) -> Select[Any]:
    """Learners (parameter `ids`), whether each is active, and their stored scores on
    `boards` boards (parameters `period_N` and `start_N`), built once per number of boards."""
    on_board = or_(
        *(
            and_(
                _table.c.period == bindparam(f"period_{number}"),
                _table.c.period_start == bindparam(f"start_{number}"),
            )
            for number in range(boards)
        )
    )
    return (
        select(User.id, User.is_active, _table.c.period, _table.c.period_start, _table.c.score)
        .outerjoin(_table, and_(_table.c.user_id == User.id, on_board))
        .where(User.id.in_(bindparam("ids", expanding=True)))
    )


async def _active_and_stored(
    session: AsyncSession, keys: Sequence[GainKey]
) -> tuple[dict[int, bool], dict[tuple[int, str, int], int]]:
    """Whether each learner of `keys` is active, and the stored scores of `keys` (absent: no
    row yet), in one read."""
    boards = sorted({(period.value, start) for _, period, start in keys})
    parameters: dict[str, Any] = {"ids": sorted({user_id for user_id, _, _ in keys})}
    for number, (period, start) in enumerate(boards):
        parameters[f"period_{number}"], parameters[f"start_{number}"] = period, start
    query = _active_and_stored_query(len(boards))
    active: dict[int, bool] = {}
    stored: dict[tuple[int, str, int], int] = {}
    for row in await session.execute(query, parameters):
        active[row.id] = bool(row.is_active)
        if row.period is not None:
            stored[(row.id, row.period, row.period_start)] = row.score
    return active, stored


_SCORED = (ActivityType.LESSON_COMPLETED, ActivityType.CHALLENGE_SOLVED)


def replay(
    zone: ZoneInfo,
    scored: Iterable[tuple[int, ActivityType, datetime, int, Mapping[str, Any] | None]],
    awards: Iterable[tuple[int, datetime, int]],
) -> Gains:
    """The gains of learners' scored events (user, type, time, lesson, details) in the order
    they were recorded, and of their awards (user, earned time, points)."""
    gains = Gains()
    best: dict[tuple[int, int], int] = {}
    completed: set[tuple[int, int]] = set()
    for user_id, kind, moment, lesson_id, details in scored:
        key = (user_id, lesson_id)
        score = (details or {}).get("score")
        gain = 0
        if type(score) is int and score > best.get(key, 0):
            gain = score - best.get(key, 0)
            best[key] = score
        first = kind is ActivityType.LESSON_COMPLETED and key not in completed
        if first:
            completed.add(key)
        gains.add(user_id, moment, zone, score=gain, lessons=int(first))
    for user_id, earned_at, points in awards:
        gains.add(user_id, earned_at, zone, score=points, achievements=1)
    return gains


async def rebuild(session: AsyncSession, user_ids: Sequence[int], zone: ZoneInfo) -> None:
    """Replace the learners' period rows by rows computed from the log, and their places in
    the boards' score counts."""
    if not user_ids:
        return
    moves = Moves()
    leaving = (
        select(_table.c.period, _table.c.period_start, _table.c.score)
        .join(User, User.id == _table.c.user_id)
        .where(_table.c.user_id.in_(user_ids), User.is_active)
    )
    for row in await session.execute(leaving):
        moves.move((row.period, row.period_start), row.score, None)
    await session.execute(delete(_table).where(_table.c.user_id.in_(user_ids)))
    scored = await session.execute(
        select(
            ActivityLog.user_id,
            ActivityLog.activity_type,
            ActivityLog.created_at,
            ActivityLog.entity_id,
            ActivityLog.details,
        )
        .where(ActivityLog.user_id.in_(user_ids), ActivityLog.activity_type.in_(_SCORED))
        .order_by(ActivityLog.id)
    )
    awards = await session.execute(
        select(UserAchievement.user_id, UserAchievement.earned_at, Achievement.points)
        .join(Achievement, Achievement.id == UserAchievement.achievement_id)
        .where(UserAchievement.user_id.in_(user_ids))
    )
    events = (
        (row.user_id, row.activity_type, row.created_at, row.entity_id, _details(row.details))
        for row in scored
    )
    earned = ((row.user_id, row.earned_at, row.points) for row in awards)
    await replay(zone, events, earned).write(session, moves)
    await moves.write(session)


def _details(text: str | None) -> Mapping[str, Any] | None:
    value = json.loads(text) if text else None
    return value if isinstance(value, dict) else None
