"""A learner's activity per local day over the last weeks: the data of the heat-map.

Counts are learner activities (lesson starts and completions, challenge attempts and solves,
logins; not awards) per local day in the engine's time zone. They come from the learner's
day rows (``learner_days``, one range read); when those were counted in another time zone
(``QUESTLINE_TIMEZONE`` changed and the learner has not been rebuilt yet), from the activity
log of the window instead, so the answer is always in the engine's zone.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from questline.engine.aggregates import COUNTER_OF
from questline.engine.errors import QuestlineError
from questline.engine.limits import EARLIEST, LATEST
from questline.engine.models import ActivityLog, LearnerDay, LearnerTotals

MAX_WEEKS = 53
"""The longest window a calendar covers: a year of week columns."""


def window(at: datetime, zone: ZoneInfo, weeks: int) -> tuple[date, date]:
    """The calendar's first day (the Monday `weeks - 1` weeks before the week of `at`) and
    its last day, the local date of `at`."""
    if not 1 <= weeks <= MAX_WEEKS:
        raise QuestlineError(f"weeks must be between 1 and {MAX_WEEKS}, not {weeks}")
    if at.tzinfo is None or at.utcoffset() is None:
        raise QuestlineError(f"the calendar's moment must be timezone-aware, not {at.isoformat()}")
    if not EARLIEST <= at <= LATEST:
        raise QuestlineError(
            f"the calendar's moment must lie between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d} "
            f"(UTC), not {at.isoformat()}"
        )
    today = at.astimezone(zone).date()
    monday = today - timedelta(days=today.weekday())
    return monday - timedelta(weeks=weeks - 1), today


def _utc_span(first: date, last: date) -> tuple[datetime, datetime]:
    """UTC moments that can fall on the local days [first, last] in some zone (every UTC
    offset is less than a day), within what the engine stores."""
    low = datetime.combine(first, time(), UTC) - timedelta(days=1)
    high = datetime.combine(last, time.max, UTC)
    high = high + timedelta(days=1) if high < LATEST - timedelta(days=1) else LATEST
    return max(low, EARLIEST), high


async def day_counts(
    session: AsyncSession, user_id: int, zone: ZoneInfo, first: date, last: date
) -> dict[date, int]:
    """Learner activities per local day in [first, last]; days without any are left out."""
    stored_zone = await session.scalar(
        select(LearnerTotals.zone).where(LearnerTotals.user_id == user_id)
    )
    if stored_zone == zone.key:
        rows = await session.execute(
            select(LearnerDay.day, LearnerDay.activities).where(
                LearnerDay.user_id == user_id,
                LearnerDay.day.between(first.toordinal(), last.toordinal()),
                LearnerDay.activities > 0,
            )
        )
        return {date.fromordinal(day): count for day, count in rows}
    moments = await session.scalars(
        select(ActivityLog.created_at).where(
            ActivityLog.user_id == user_id,
            ActivityLog.activity_type.in_(list(COUNTER_OF)),
            ActivityLog.created_at.between(*_utc_span(first, last)),
        )
    )
    days = (moment.astimezone(zone).date() for moment in moments)
    return dict(Counter(day for day in days if first <= day <= last))
