"""Daily goals: how many lessons a day a learner has set out to complete, and how they stand.

A goal is met on a local day (the engine's time zone) with at least that many lesson
completions. The run of days met counts back from the day in question, or from the day before
while that day is not met yet (the learner has until its end), over at most a year; past days
are judged by the current goal.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from questline.engine.aggregates import Aggregates, local_day
from questline.engine.errors import InvalidGoal, QuestlineError
from questline.engine.models import LearnerGoal
from questline.engine.timestamps import utcnow
from questline.engine.views import DailyGoal

MAX_DAILY_LESSONS = 20
LOOKBACK_DAYS = 366


def day_of(at: datetime, zone: ZoneInfo) -> int:
    """The local day of `at`, which must include a time zone."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise QuestlineError(f"the moment must include a time zone, not {at.isoformat()}")
    return local_day(at, zone)


def checked(lessons: int | None) -> int | None:
    """`lessons` if it is a goal a learner may set (None clears the goal)."""
    if lessons is not None and not 1 <= lessons <= MAX_DAILY_LESSONS:
        raise InvalidGoal(
            f"a daily goal is 1 to {MAX_DAILY_LESSONS} lessons, not {lessons}; none clears it"
        )
    return lessons


async def stored(session: AsyncSession, user_id: int) -> int | None:
    """The learner's goal, or None."""
    return await session.scalar(
        select(LearnerGoal.daily_lessons).where(LearnerGoal.user_id == user_id)
    )


async def save(session: AsyncSession, user_id: int, lessons: int | None) -> None:
    """Set the learner's goal (None removes it); the caller holds the learner's lock."""
    row = await session.get(LearnerGoal, user_id)
    if lessons is None:
        await session.execute(delete(LearnerGoal).where(LearnerGoal.user_id == user_id))
    elif row is None:
        session.add(LearnerGoal(user_id=user_id, daily_lessons=lessons, updated_at=utcnow()))
    else:
        row.daily_lessons = lessons


async def standing(
    session: AsyncSession, figures: Aggregates, lessons: int | None, today: int
) -> DailyGoal:
    """Where the learner stands on local day `today` against a goal of `lessons` a day."""
    counts = await figures.completions_by_day(session, today - LOOKBACK_DAYS, today)
    done = counts.get(today, 0)
    if lessons is None:
        return DailyGoal(None, done, 0)
    day = today if done >= lessons else today - 1
    run = 0
    while counts.get(day, 0) >= lessons:
        run += 1
        day -= 1
    return DailyGoal(lessons, done, run)
