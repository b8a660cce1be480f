"""The leaderboards: all-time totals in leaderboard_cache, week and month gains in
learner_period_scores, each ranked by competition ranking ("1224").

total_score = the sum of the learner's best lesson scores (user_progress.score, where challenge
scores count for their lesson) + the points of every achievement the learner has earned. A
week's or month's board ranks what the period added to it (see `questline.engine.periods`).
Ties share a rank; within a tie, entries are listed by user id (who registered first).
A rank is 1 + the number of active learners with a higher score on the same board: a range
count on the index (score, user_id), so reads stay exact without ranking the whole table.
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
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from questline.engine.catalogue import user_view
from questline.engine.models import (
    Achievement,
    LeaderboardCache,
    LearnerPeriodScore,
    LearnerTotals,
    User,
    UserAchievement,
)
from questline.engine.periods import Period
from questline.engine.timestamps import utcnow
from questline.engine.views import LeaderboardEntry

_score = LeaderboardCache.total_score
_table = LeaderboardCache.__table__
UNRANKED = 0
"""The stored rank of a learner no rebuild has ranked (new since the last, or inactive).
Reads never use stored ranks: they count live (see `top`, `around`)."""


@dataclass(frozen=True)
class Standings:
    """One board's rows: their table, score, learner and counts columns, and which rows belong."""

    table: Any
    score: Any
    user_id: Any
    lessons_completed: Any
    achievements_count: Any
    belongs: ColumnElement[bool]


ALL_TIME = Standings(
    LeaderboardCache,
    LeaderboardCache.total_score,
    LeaderboardCache.user_id,
    LeaderboardCache.lessons_completed,
    LeaderboardCache.achievements_count,
    true(),
)


def period_board(period: Period, start: int) -> Standings:
    """The board of the week or month whose first local day is the ordinal `start`."""
    return Standings(
        LearnerPeriodScore,
        LearnerPeriodScore.score,
        LearnerPeriodScore.user_id,
        LearnerPeriodScore.lessons_completed,
        LearnerPeriodScore.achievements_count,
        and_(LearnerPeriodScore.period == period.value, LearnerPeriodScore.period_start == start),
    )


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
    inserts = [
        {**asdict(board), "user_id": user_id, "rank": UNRANKED, "updated_at": now}
        for user_id, board, stored in boards
        if not stored
    ]
    if inserts:
        await session.execute(insert(_table), inserts)


def _entries(board: Standings) -> Select:
    """The board's rows of active learners with their names, in no particular order."""
    return (
        select(
            User,
            board.score.label("total_score"),
            board.lessons_completed.label("lessons_completed"),
            board.achievements_count.label("achievements_count"),
        )
        .join(User, User.id == board.user_id)
        .where(User.is_active, board.belongs)
    )


async def _count(session: AsyncSession, board: Standings, condition: ColumnElement[bool]) -> int:
    query = (
        select(func.count())
        .select_from(board.table)
        .join(User, User.id == board.user_id)
        .where(User.is_active, board.belongs, condition)
    )
    return int(await session.scalar(query) or 0)


def _page(rows: Sequence[Row[Any]], first_position: int, first_rank: int) -> list[LeaderboardEntry]:
    """Entries for rows that are consecutive in display order.

    A row whose score differs from the previous one is preceded by exactly the learners with a
    higher score, so its rank is its position + 1; a tie keeps the previous rank.
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


async def top(
    session: AsyncSession, limit: int, board: Standings = ALL_TIME
) -> list[LeaderboardEntry]:
    """The first `limit` entries of the board in display order."""
    query = _entries(board).order_by(board.score.desc(), board.user_id).limit(limit)
    return _page((await session.execute(query)).all(), first_position=0, first_rank=1)


async def around(
    session: AsyncSession, user_id: int, radius: int, board: Standings = ALL_TIME
) -> list[LeaderboardEntry]:
    """The learner's entry with up to `radius` entries above and below (empty if unranked)."""
    score, key = board.score, board.user_id
    me = (await session.execute(_entries(board).where(key == user_id))).one_or_none()
    if me is None:
        return []
    ahead = or_(score > me.total_score, and_(score == me.total_score, key < user_id))
    behind = or_(score < me.total_score, and_(score == me.total_score, key > user_id))
    above = (
        await session.execute(
            _entries(board).where(ahead).order_by(score, key.desc()).limit(radius)
        )
    ).all()[::-1]
    below = (
        await session.execute(
            _entries(board).where(behind).order_by(score.desc(), key).limit(radius)
        )
    ).all()
    first = above[0] if above else me
    position = await _count(session, board, ahead) - len(above)
    rank = 1 + await _count(session, board, score > first.total_score)
    return _page([*above, me, *below], first_position=position, first_rank=rank)


async def standing(
    session: AsyncSession, user_id: int, board: Standings
) -> LeaderboardEntry | None:
    """The learner's own entry on the board (None if they are not on it)."""
    entries = await around(session, user_id, 0, board)
    return entries[0] if entries else None


async def rebuild(session: AsyncSession) -> int:
    """Recompute every learner's all-time totals from their lesson scores and the awards they
    hold (at each achievement's current points, enabled or not), then store the competition
    rank of every active learner (one UPDATE with RANK()); an inactive learner's stored rank
    is 0. Returns the rows ranked."""
    held = (
        select(func.coalesce(func.sum(Achievement.points), 0))
        .select_from(UserAchievement)
        .join(Achievement, Achievement.id == UserAchievement.achievement_id)
        .where(UserAchievement.user_id == LeaderboardCache.user_id)
        .scalar_subquery()
    )
    count_held = (
        select(func.count())
        .select_from(UserAchievement)
        .where(UserAchievement.user_id == LeaderboardCache.user_id)
        .scalar_subquery()
    )
    lesson_score = (
        select(func.coalesce(func.max(LearnerTotals.lesson_score), 0))
        .where(LearnerTotals.user_id == LeaderboardCache.user_id)
        .scalar_subquery()
    )
    await session.execute(
        update(LeaderboardCache)
        .values(total_score=lesson_score + held, achievements_count=count_held, rank=0)
        .execution_options(synchronize_session=False)
    )
    ranks = (
        select(
            LeaderboardCache.id,
            func.rank().over(order_by=_score.desc()).label("new_rank"),
        )
        .join(User, User.id == LeaderboardCache.user_id)
        .where(User.is_active)
        .subquery()
    )
    result = await session.execute(
        update(LeaderboardCache)
        .where(LeaderboardCache.id == ranks.c.id)
        .values(rank=ranks.c.new_rank)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)
