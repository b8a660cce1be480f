"""Closing a finished week or month: its period rules are evaluated once for its board, and
its awards are announced through the outbox like an event's.

The close claims the period's unique ``leaderboard_closes`` row in the transaction that grants
the awards, so however many processes run the close job, one transaction does the work and the
others find the row (their insert conflicts, or waits for the first and then conflicts). A
transaction that fails leaves no row, and the next run closes the period.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from questline.engine import leaderboard, outbox
from questline.engine.course import Course
from questline.engine.facts import FactContext
from questline.engine.learner import Learners
from questline.engine.models import LeaderboardClose, LearnerPeriodScore, User
from questline.engine.periods import Period, next_start
from questline.engine.recorder import Awarding, Recorder
from questline.engine.rulebook import ActiveRule
from questline.engine.timestamps import utcnow
from questline.engine.views import AwardView, ClosedPeriod


def period_rules(rules: Sequence[ActiveRule], period: Period) -> list[ActiveRule]:
    """The rules that read the last finished `period`'s leaderboard facts."""
    prefix = f"leaderboard.last_{period.value}_"
    return [rule for rule in rules if any(name.startswith(prefix) for name in rule.compiled.reads)]


def closed_view(row: LeaderboardClose, awards: Sequence[AwardView], *, again: bool) -> ClosedPeriod:
    period = Period(row.period)
    first = date.fromordinal(row.period_start)
    return ClosedPeriod(
        period=period.value,
        first_day=first,
        last_day=date.fromordinal(next_start(period, first).toordinal() - 1),
        learners=row.learners,
        awards=tuple(awards),
        closed_at=row.closed_at,
        already_closed=again,
    )


async def find(session: AsyncSession, period: Period, start: int) -> LeaderboardClose | None:
    return await session.scalar(
        select(LeaderboardClose).where(
            LeaderboardClose.period == period.value, LeaderboardClose.period_start == start
        )
    )


async def close(
    session: AsyncSession,
    recorder: Recorder,
    course: Course,
    rules: Sequence[ActiveRule],
    period: Period,
    start: int,
    moment: datetime,
) -> ClosedPeriod:
    """Claim the period (an IntegrityError if it is closed already), then evaluate `rules` at
    `moment` for every active learner on its board and grant what holds."""
    claim = LeaderboardClose(period=period.value, period_start=start, closed_at=utcnow())
    session.add(claim)
    await session.flush()
    board = leaderboard.period_board(period, start)
    ids = list(
        await session.scalars(
            select(LearnerPeriodScore.user_id)
            .join(User, User.id == LearnerPeriodScore.user_id)
            .where(User.is_active, board.belongs)
            .order_by(LearnerPeriodScore.user_id)
        )
    )
    granted: list[AwardView] = []
    if rules and ids:
        learners = Learners(session, recorder.zone)
        await learners.lock_all(user_ids=ids)
        for user_id in ids:
            learner = await learners.locked(user_id=user_id, telegram_id=None)
            context = FactContext(
                session=session,
                learner=learner,
                course=course,
                zone=recorder.zone,
                moment=moment,
                pending=learners.pending,
            )
            awards = await recorder.award(learners.pending, Awarding(context, None), list(rules))
            if awards:
                learners.totals_changed(learner)
                outbox.stage_awards(session, learner.user.id, awards)
            granted.extend(awards)
        await learners.settle()
    claim.learners, claim.awards = len(ids), len(granted)
    await session.flush()
    return closed_view(claim, granted, again=False)
