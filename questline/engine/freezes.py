"""Streak freezes an admin gives, and a learner's freeze history.

How freezes cover missed days is in ``freeze_walk``; the learner's figures keep them current
(``aggregates``). Rules give freezes with their awards (``RuleDocument.streak_freezes``).
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from questline.engine import outbox
from questline.engine.catalogue import user_view
from questline.engine.course import Course
from questline.engine.errors import InvalidFreezeGrant
from questline.engine.facts import FactContext
from questline.engine.learner import Learners, LearnerState
from questline.engine.limits import EARLIEST, LATEST
from questline.engine.models import Achievement, StreakFreezeGrant, StreakFreezeUse
from questline.engine.recorder import Recorder
from questline.engine.views import AwardView, FreezeGrantView, FreezeReport
from questline.rules.limits import MAX_FREEZES

MAX_REASON_LENGTH = 255


def checked_grant(amount: int, reason: str, at: datetime) -> str:
    """The reason of a valid admin grant, stripped; InvalidFreezeGrant naming the problem."""
    if isinstance(amount, bool) or not isinstance(amount, int) or not 1 <= amount <= MAX_FREEZES:
        raise InvalidFreezeGrant(f"a grant is 1 to {MAX_FREEZES} streak freezes, not {amount!r}")
    text = reason.strip()
    if not text:
        raise InvalidFreezeGrant("a grant needs a reason (what the freezes are for)")
    if len(text) > MAX_REASON_LENGTH:
        raise InvalidFreezeGrant(
            f"a grant's reason is at most {MAX_REASON_LENGTH} characters, not {len(text)}"
        )
    if any(unicodedata.category(char) in {"Cc", "Cs"} for char in text):
        raise InvalidFreezeGrant("a grant's reason must be one line of printable text")
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidFreezeGrant(f"a grant's time must include a time zone, not {at.isoformat()}")
    if not EARLIEST <= at <= LATEST:
        raise InvalidFreezeGrant(
            f"a grant's time must lie between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d} (UTC),"
            f" not {at.isoformat()}"
        )
    return text


async def grant(
    recorder: Recorder,
    course: Course,
    learners: Learners,
    learner: LearnerState,
    amount: int,
    moment: datetime,
    reason: str,
) -> list[AwardView]:
    """Give a locked learner `amount` freezes at `moment` and grant the streak awards that
    follow (docs/engine.md, "Awards after a grant"), announced through the outbox."""
    session = learners.session
    figures = learner.figures
    await figures.grant_freezes(session, amount, moment, recorder.zone, reason=reason)
    context = FactContext(
        session=session,
        learner=learner,
        course=course,
        zone=recorder.zone,
        moment=max(moment, figures.totals.last_event_at or moment),
        pending=learners.pending,
    )
    awards = await recorder.judge_grant(learners.pending, context)
    if awards:
        learners.totals_changed(learner)
        outbox.stage_awards(session, learner.user.id, awards)
    return awards


async def report(session: AsyncSession, learner: LearnerState) -> FreezeReport:
    """The learner's freezes: totals, grants oldest first, and the days freezes covered."""
    rows = await session.execute(
        select(
            StreakFreezeGrant.amount,
            StreakFreezeGrant.granted_at,
            StreakFreezeGrant.reason,
            Achievement.slug,
        )
        .outerjoin(Achievement, Achievement.id == StreakFreezeGrant.achievement_id)
        .where(StreakFreezeGrant.user_id == learner.user.id)
        .order_by(StreakFreezeGrant.granted_at, StreakFreezeGrant.id)
    )
    grants = tuple(FreezeGrantView(*row) for row in rows)
    figures = learner.figures
    if figures.ledger is not None:
        days = set(figures.ledger.frozen)
    else:
        days = set(
            await session.scalars(
                select(StreakFreezeUse.day).where(StreakFreezeUse.user_id == learner.user.id)
            )
        )
    totals = figures.totals
    return FreezeReport(
        user=user_view(learner.user),
        held=totals.freezes_held,
        granted=totals.freezes_granted,
        used=totals.freezes_used,
        grants=grants,
        covered_days=tuple(date.fromordinal(day) for day in sorted(days)),
    )
