"""What the engine holds about one learner during a transaction: loaded once, kept current.

A learner's row is locked for the whole transaction, so nothing else changes their progress,
activity or awards meanwhile: the engine loads them once (three queries) and updates the state
in memory as it writes, and facts are computed from it without further queries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from questline.engine.catalogue import find_user
from questline.engine.leaderboard import refresh_learner
from questline.engine.models import (
    Achievement,
    ActivityLog,
    LeaderboardCache,
    ProgressStatus,
    User,
    UserAchievement,
    UserProgress,
)
from questline.engine.views import AwardView, RecordResult
from questline.rules.vocabulary import ActivityType


@dataclass(frozen=True)
class Recorded:
    """One recorded event. Its rows may not be flushed yet: ask for `result()` after the flush."""

    activity: ActivityLog
    awards: tuple[AwardView, ...]
    replayed: bool = False

    def result(self) -> RecordResult:
        return RecordResult(self.activity.id, replayed=self.replayed, awards=self.awards)


class Activity(NamedTuple):
    """One entry of the learner's activity log (awards are kept apart, in `earned`)."""

    type: ActivityType
    at: datetime
    entity_id: int | None


@dataclass
class LearnerState:
    """The learner's row, lesson progress by lesson id, activity history and earned awards."""

    user: User
    progress: dict[int, UserProgress]
    history: list[Activity]
    earned: dict[int, int]
    """Achievement id → points, for every achievement the learner holds."""
    board: LeaderboardCache | None = None
    """The learner's leaderboard row, once the transaction has needed it."""
    recorded: dict[str, Recorded] = field(default_factory=dict)
    """This transaction's recordings by idempotency key (not yet visible to queries)."""

    def completed_lessons(self) -> set[int]:
        return {
            lesson_id
            for lesson_id, row in self.progress.items()
            if row.status is ProgressStatus.COMPLETED
        }

    def lesson_scores(self) -> int:
        return sum(row.score or 0 for row in self.progress.values())

    def activities_until(self, moment: datetime) -> list[Activity]:
        """The history up to `moment` (events may be recorded out of order)."""
        return [activity for activity in self.history if activity.at <= moment]


async def load_learner(
    session: AsyncSession,
    *,
    user_id: int | None = None,
    telegram_id: int | None = None,
    lock: bool = False,
) -> LearnerState:
    """Load (and with `lock`, lock) a learner and what they have done; UnknownUser if absent."""
    user = await find_user(session, user_id=user_id, telegram_id=telegram_id, lock=lock)
    progress = {
        row.lesson_id: row
        for row in await session.scalars(
            select(UserProgress).where(UserProgress.user_id == user.id)
        )
    }
    history = [
        Activity(kind, at, entity_id)
        for kind, at, entity_id in await session.execute(
            select(ActivityLog.activity_type, ActivityLog.created_at, ActivityLog.entity_id)
            .where(
                ActivityLog.user_id == user.id,
                ActivityLog.activity_type != ActivityType.ACHIEVEMENT_EARNED,
            )
            .order_by(ActivityLog.id)
        )
    ]
    earned = {
        achievement_id: points
        for achievement_id, points in await session.execute(
            select(UserAchievement.achievement_id, Achievement.points)
            .join(Achievement, Achievement.id == UserAchievement.achievement_id)
            .where(UserAchievement.user_id == user.id)
        )
    }
    return LearnerState(user=user, progress=progress, history=history, earned=earned)


class Learners:
    """The learners one transaction has locked, by questline id and by Telegram id."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._by_id: dict[int, LearnerState] = {}
        self._by_telegram: dict[int, LearnerState] = {}
        self._changed: dict[int, LearnerState] = {}

    def totals_changed(self, learner: LearnerState) -> None:
        """Mark the learner's leaderboard totals for refreshing when the work is settled."""
        self._changed[learner.user.id] = learner

    async def settle(self) -> None:
        """Refresh the leaderboard rows of learners whose totals changed, and flush."""
        for learner in self._changed.values():
            await refresh_learner(self.session, learner)
        self._changed.clear()
        await self.session.flush()

    async def locked(self, *, user_id: int | None, telegram_id: int | None) -> LearnerState:
        known = (
            self._by_id.get(user_id) if user_id is not None else self._by_telegram.get(telegram_id)  # type: ignore[arg-type]
        )
        if known is not None:
            return known
        state = await load_learner(
            self.session, user_id=user_id, telegram_id=telegram_id, lock=True
        )
        self._by_id[state.user.id] = self._by_telegram[state.user.telegram_id] = state
        return state
