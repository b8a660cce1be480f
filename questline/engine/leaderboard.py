"""The leaderboard: per-user totals in leaderboard_cache, ranked by competition ranking ("1224").

total_score = the sum of the learner's best lesson scores (user_progress.score, where challenge
scores count for their lesson) + the points of every achievement the learner has earned.
Ties share a rank; within a tie, entries are listed by user id (who registered first).
A rank is 1 + the number of active learners with a higher total: a range count on the index
(total_score, user_id), so reads stay exact without ranking the whole table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from questline.engine.catalogue import user_view
from questline.engine.models import LeaderboardCache, User
from questline.engine.timestamps import utcnow
from questline.engine.views import LeaderboardEntry

_score = LeaderboardCache.total_score
_user_id = LeaderboardCache.user_id
_table = LeaderboardCache.__table__


@dataclass(frozen=True)
class Board:
    """A learner's leaderboard totals."""

    total_score: int
    lessons_completed: int
    achievements_count: int


async def write_boards(session: AsyncSession, boards: Sequence[tuple[int, Board, bool]]) -> None:
    """Store learners' totals: (user id, totals, whether the learner has a row already).

    The stored rank is set when a learner first enters the leaderboard (1 + the learners
    with a higher total) and refreshed for everyone by `rebuild()`; reads never use it (they
    rank live), so the per-event path does not pay for counting.
    """
    now = utcnow()
    updates = [
        {**asdict(board), "updated_at": now, "key_user": user_id}
        for user_id, board, stored in boards
        if stored
    ]
    if updates:
        await session.execute(
            update(_table).where(_table.c.user_id == bindparam("key_user")), updates
        )
    inserts = []
    for user_id, board, stored in boards:
        if not stored:
            higher = await session.scalar(
                select(func.count()).select_from(_table).where(_score > board.total_score)
            )
            inserts.append(
                {
                    **asdict(board),
                    "user_id": user_id,
                    "rank": int(higher or 0) + 1,
                    "updated_at": now,
                }
            )
    if inserts:
        await session.execute(insert(_table), inserts)


def _entries() -> Select:
    """Active learners' cache rows with their names, in no particular order."""
    return (
        select(
            User,
            _score,
            LeaderboardCache.lessons_completed,
            LeaderboardCache.achievements_count,
        )
        .join(User, User.id == _user_id)
        .where(User.is_active)
    )


async def _count(session: AsyncSession, condition: ColumnElement[bool]) -> int:
    query = (
        select(func.count())
        .select_from(LeaderboardCache)
        .join(User, User.id == _user_id)
        .where(User.is_active, condition)
    )
    return int(await session.scalar(query) or 0)


def _page(rows: Sequence[Row[Any]], first_position: int, first_rank: int) -> list[LeaderboardEntry]:
    """Entries for rows that are consecutive in display order.

    A row whose total differs from the previous one is preceded by exactly the learners with a
    higher total, so its rank is its position + 1; a tie keeps the previous rank.
    """
    entries: list[LeaderboardEntry] = []
    for offset, row in enumerate(rows):
        if not entries:
            rank = first_rank
        elif row.total_score == entries[-1].total_score:
            rank = entries[-1].rank
        else:
            rank = first_position + offset + 1
        user = user_view(row.User)
        entries.append(
            LeaderboardEntry(
                rank=rank,
                user_id=user.id,
                telegram_id=user.telegram_id,
                display_name=user.display_name,
                total_score=row.total_score,
                lessons_completed=row.lessons_completed,
                achievements_count=row.achievements_count,
            )
        )
    return entries


async def top(session: AsyncSession, limit: int) -> list[LeaderboardEntry]:
    """The first `limit` entries in display order."""
    rows = (await session.execute(_entries().order_by(_score.desc(), _user_id).limit(limit))).all()
    return _page(rows, first_position=0, first_rank=1)


async def around(session: AsyncSession, user_id: int, radius: int) -> list[LeaderboardEntry]:
    """The learner's entry with up to `radius` entries above and below (empty if unranked)."""
    me = (await session.execute(_entries().where(_user_id == user_id))).one_or_none()
    if me is None:
        return []
    ahead = or_(_score > me.total_score, and_(_score == me.total_score, _user_id < user_id))
    behind = or_(_score < me.total_score, and_(_score == me.total_score, _user_id > user_id))
    above = (
        await session.execute(
            _entries().where(ahead).order_by(_score, _user_id.desc()).limit(radius)
        )
    ).all()[::-1]
    below = (
        await session.execute(
            _entries().where(behind).order_by(_score.desc(), _user_id).limit(radius)
        )
    ).all()
    first = above[0] if above else me
    position = await _count(session, ahead) - len(above)
    rank = 1 + await _count(session, _score > first.total_score)
    return _page([*above, me, *below], first_position=position, first_rank=rank)


async def rebuild(session: AsyncSession) -> int:
    """Store every learner's competition rank, in one UPDATE with RANK(); returns rows ranked."""
    ranks = select(
        LeaderboardCache.id,
        func.rank().over(order_by=_score.desc()).label("new_rank"),
    ).subquery()
    result = await session.execute(
        update(LeaderboardCache)
        .where(LeaderboardCache.id == ranks.c.id)
        .values(rank=ranks.c.new_rank)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)
