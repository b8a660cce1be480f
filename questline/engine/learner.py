"""What the engine holds about one learner during a transaction: loaded once, kept current.

A learner's row is locked for the whole transaction, so nothing else changes their progress,
activity or awards meanwhile: the engine loads them once (three queries) and updates the state
in memory as it writes, and facts are computed from it without further queries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from questline.engine.catalogue import find_user
from questline.engine.events import Event
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
    already_solved: bool = False

    def result(self) -> RecordResult:
        return RecordResult(
            self.activity.id,
            replayed=self.replayed,
            awards=self.awards,
            already_solved=self.already_solved,
        )


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
    """The learner's leaderboard row, when `board_loaded` (None: not on the board yet)."""
    board_loaded: bool = False
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
    [state] = await _states(session, [user])
    return state


async def _states(session: AsyncSession, users: Sequence[User]) -> list[LearnerState]:
    """The state of each of `users`, in three queries whatever their number."""
    ids = [user.id for user in users]
    progress: dict[int, dict[int, UserProgress]] = defaultdict(dict)
    for row in await session.scalars(select(UserProgress).where(UserProgress.user_id.in_(ids))):
        progress[row.user_id][row.lesson_id] = row
    history: dict[int, list[Activity]] = defaultdict(list)
    for user_id, kind, at, entity_id in await session.execute(
        select(
            ActivityLog.user_id,
            ActivityLog.activity_type,
            ActivityLog.created_at,
            ActivityLog.entity_id,
        )
        .where(
            ActivityLog.user_id.in_(ids),
            ActivityLog.activity_type != ActivityType.ACHIEVEMENT_EARNED,
        )
        .order_by(ActivityLog.id)
    ):
        history[user_id].append(Activity(kind, at, entity_id))
    earned: dict[int, dict[int, int]] = defaultdict(dict)
    for user_id, achievement_id, points in await session.execute(
        select(UserAchievement.user_id, UserAchievement.achievement_id, Achievement.points)
        .join(Achievement, Achievement.id == UserAchievement.achievement_id)
        .where(UserAchievement.user_id.in_(ids))
    ):
        earned[user_id][achievement_id] = points
    return [
        LearnerState(
            user=user,
            progress=progress[user.id],
            history=history[user.id],
            earned=earned[user.id],
        )
        for user in users
    ]


class Learners:
    """The learners one transaction has locked, by questline id and by Telegram id."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._by_id: dict[int, LearnerState] = {}
        self._by_telegram: dict[int, LearnerState] = {}
        self._changed: dict[int, LearnerState] = {}

    def _remember(self, state: LearnerState) -> LearnerState:
        self._by_id[state.user.id] = self._by_telegram[state.user.telegram_id] = state
        return state

    async def preload(self, events: Iterable[Event]) -> None:
        """Lock and load every known learner the events name (a batch's first step)."""
        events = list(events)
        await self.lock_all(
            user_ids={e.user_id for e in events if e.user_id is not None},
            telegram_ids={e.telegram_id for e in events if e.telegram_id is not None},
        )

    async def lock_all(
        self, *, user_ids: Iterable[int] = (), telegram_ids: Iterable[int] = ()
    ) -> None:
        """Lock and load, at once, the learners with these ids, in id order.

        Unknown ids are left for `locked` to report.
        """
        ids = set(user_ids) - self._by_id.keys()
        telegram_ids = set(telegram_ids) - self._by_telegram.keys()
        if not ids and not telegram_ids:
            return
        users = list(
            await self.session.scalars(
                select(User)
                .where(or_(User.id.in_(ids), User.telegram_id.in_(telegram_ids)))
                .order_by(User.id)
                .with_for_update()
            )
        )
        states = {
            state.user.id: self._remember(state) for state in await _states(self.session, users)
        }
        for board in await self.session.scalars(
            select(LeaderboardCache).where(LeaderboardCache.user_id.in_(states.keys()))
        ):
            states[board.user_id].board = board
        for state in states.values():
            state.board_loaded = True

    async def locked(self, *, user_id: int | None, telegram_id: int | None) -> LearnerState:
        """The learner, locked and loaded (once per transaction); UnknownUser if absent."""
        if user_id is not None:
            known = self._by_id.get(user_id)
        else:
            known = self._by_telegram.get(telegram_id) if telegram_id is not None else None
        if known is not None:
            return known
        state = await load_learner(
            self.session, user_id=user_id, telegram_id=telegram_id, lock=True
        )
        return self._remember(state)

    def totals_changed(self, learner: LearnerState) -> None:
        """Mark the learner's leaderboard totals for refreshing when the work is settled."""
        self._changed[learner.user.id] = learner

    async def settle(self) -> None:
        """Refresh the leaderboard rows of learners whose totals changed, and flush."""
        for learner in self._changed.values():
            await refresh_learner(self.session, learner)
        self._changed.clear()
        await self.session.flush()
