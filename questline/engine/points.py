"""Achievement points a learner earned within a span of local days: their stored awards (at
the achievements' current points) and this transaction's. A learner holds at most one award
per rule, so the read is bounded by the rule book, not by the history."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from questline.engine.learner import LearnerState
from questline.engine.models import Achievement, UserAchievement
from questline.engine.writes import Pending


def local_span(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC moments [start, end) of the local days first…last in `zone` (DST-safe)."""
    start = datetime.combine(first, time.min, tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


async def awarded_points(
    session: AsyncSession,
    learner: LearnerState,
    pending: Pending,
    first: date,
    last: date,
    zone: ZoneInfo,
) -> int:
    """Points of the achievements `learner` earned on the local days first…last."""
    start, end = local_span(first, last, zone)
    stored = await session.scalar(
        select(func.coalesce(func.sum(Achievement.points), 0))
        .select_from(UserAchievement)
        .join(Achievement, Achievement.id == UserAchievement.achievement_id)
        .where(
            UserAchievement.user_id == learner.user.id,
            UserAchievement.earned_at >= start,
            UserAchievement.earned_at < end,
        )
    )
    added = sum(
        learner.earned.get(award.achievement_id, 0)
        for award in pending.awards
        if award.user_id == learner.user.id and start <= award.earned_at < end
    )
    return int(stored or 0) + added
