"""The leaderboard: per-user totals in leaderboard_cache, ranked by competition ranking ("1224").

total_score = the sum of the learner's best lesson scores (user_progress.score, where challenge
scores count for their lesson) + the points of every achievement the learner has earned.
Ties share a rank; within a tie, entries are listed by user id (who registered first).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, Select, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from questline.engine.models import (
    Achievement,
    LeaderboardCache,
    ProgressStatus,
    User,
    UserAchievement,
    UserProgress,
)
from questline.engine.timestamps import utcnow
from questline.engine.views import LeaderboardEntry, UserView


async def refresh_user(session: AsyncSession, user_id: int) -> LeaderboardCache:
    """Recompute one learner's totals from the source tables and store them with their rank.

    Other learners' stored ranks are brought up to date by `rebuild()`; reads rank live.
    """
    lesson_score, completed = (
        await session.execute(
            select(
                func.coalesce(func.sum(UserProgress.score), 0),
                func.coalesce(
                    func.sum(case((UserProgress.status == ProgressStatus.COMPLETED, 1))), 0
                ),
            ).where(UserProgress.user_id == user_id)
        )
    ).one()
    points, awards = (
        await session.execute(
            select(func.coalesce(func.sum(Achievement.points), 0), func.count())
            .select_from(UserAchievement)
            .join(Achievement, Achievement.id == UserAchievement.achievement_id)
            .where(UserAchievement.user_id == user_id)
        )
    ).one()
    total = int(lesson_score) + int(points)
    higher = await session.scalar(
        select(func.count())
        .select_from(LeaderboardCache)
        .where(LeaderboardCache.total_score > total, LeaderboardCache.user_id != user_id)
    )
    row = await session.scalar(select(LeaderboardCache).where(LeaderboardCache.user_id == user_id))
    if row is None:
        row = LeaderboardCache(user_id=user_id)
        session.add(row)
    row.total_score = total
    row.lessons_completed = int(completed)
    row.achievements_count = int(awards)
    row.rank = int(higher or 0) + 1
    row.updated_at = utcnow()
    return row


def _ranked() -> Select:
    """Every cache row with its live competition rank and its position in display order."""
    order = (LeaderboardCache.total_score.desc(), LeaderboardCache.user_id)
    return (
        select(
            LeaderboardCache.user_id,
            User.telegram_id,
            User.username,
            User.first_name,
            User.last_name,
            User.language_code,
            LeaderboardCache.total_score,
            LeaderboardCache.lessons_completed,
            LeaderboardCache.achievements_count,
            func.rank().over(order_by=LeaderboardCache.total_score.desc()).label("live_rank"),
            func.row_number().over(order_by=order).label("position"),
        )
        .join(User, User.id == LeaderboardCache.user_id)
        .where(User.is_active)
    )


def _entry(row: Row[Any]) -> LeaderboardEntry:
    user = UserView(
        id=row.user_id,
        telegram_id=row.telegram_id,
        username=row.username,
        first_name=row.first_name,
        last_name=row.last_name,
        language_code=row.language_code,
    )
    return LeaderboardEntry(
        rank=row.live_rank,
        user_id=user.id,
        telegram_id=user.telegram_id,
        display_name=user.display_name,
        total_score=row.total_score,
        lessons_completed=row.lessons_completed,
        achievements_count=row.achievements_count,
    )


async def top(session: AsyncSession, limit: int) -> list[LeaderboardEntry]:
    """The first `limit` entries in display order."""
    ranked = _ranked().subquery()
    rows = await session.execute(
        select(ranked).where(ranked.c.position <= limit).order_by(ranked.c.position)
    )
    return [_entry(row) for row in rows]


async def around(session: AsyncSession, user_id: int, radius: int) -> list[LeaderboardEntry]:
    """The learner's entry with up to `radius` entries above and below (empty if unranked)."""
    ranked = _ranked().subquery()
    position = await session.scalar(select(ranked.c.position).where(ranked.c.user_id == user_id))
    if position is None:
        return []
    rows = await session.execute(
        select(ranked)
        .where(ranked.c.position.between(position - radius, position + radius))
        .order_by(ranked.c.position)
    )
    return [_entry(row) for row in rows]


async def rebuild(session: AsyncSession) -> int:
    """Store every learner's competition rank, in one UPDATE with RANK(); returns rows ranked."""
    ranks = select(
        LeaderboardCache.id,
        func.rank().over(order_by=LeaderboardCache.total_score.desc()).label("new_rank"),
    ).subquery()
    result = await session.execute(
        update(LeaderboardCache)
        .where(LeaderboardCache.id == ranks.c.id)
        .values(rank=ranks.c.new_rank)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)
