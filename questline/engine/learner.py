"""What the engine holds about one learner during a transaction: loaded once, kept current.

A learner's row is locked for the whole transaction, so nothing else changes their progress,
figures or awards meanwhile: the engine loads them once and updates the state in memory as it
writes, and facts are computed from it without further queries. Nothing loaded grows with the
learner's history: lesson rows are bounded by the course, awards by the rules, and the
activity history is summed up in the learner's aggregates (see `aggregates`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from questline.engine import aggregates
from questline.engine.aggregates import Aggregates
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


@dataclass(frozen=True)
class Recorded:
    """One recorded event. Its rows may not be flushed yet: ask for `result()` after the flush."""

    activity: ActivityLog
    awards: tuple[AwardView, ...]
    replayed: bool = False

    def result(self) -> RecordResult:
        return RecordResult(self.activity.id, replayed=self.replayed, awards=self.awards)


@dataclass
class LearnerState:
    """The learner's row, lesson progress by lesson id, aggregates and earned awards."""

    user: User
    progress: dict[int, UserProgress]
    figures: Aggregates
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
        return self.figures.totals.lesson_score


async def load_learner(
    session: AsyncSession,
    zone: ZoneInfo,
    *,
    user_id: int | None = None,
    telegram_id: int | None = None,
    lock: bool = False,
) -> LearnerState:
    """Load (and with `lock`, lock) a learner and what they have done; UnknownUser if absent."""
    user = await find_user(session, user_id=user_id, telegram_id=telegram_id, lock=lock)
    [state] = await _states(session, [user], zone)
    return state


async def _states(
    session: AsyncSession, users: Sequence[User], zone: ZoneInfo
) -> list[LearnerState]:
    """The state of each of `users`, in three queries whatever their number."""
    ids = [user.id for user in users]
    progress: dict[int, dict[int, UserProgress]] = defaultdict(dict)
    for row in await session.scalars(select(UserProgress).where(UserProgress.user_id.in_(ids))):
        progress[row.user_id][row.lesson_id] = row
    figures = await aggregates.load(session, ids, zone)
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
            figures=figures[user.id],
            earned=earned[user.id],
        )
        for user in users
    ]


class Learners:
    """The learners one transaction has locked, by questline id and by Telegram id."""

    def __init__(self, session: AsyncSession, zone: ZoneInfo) -> None:
        self.session = session
        self.zone = zone
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
            state.user.id: self._remember(state)
            for state in await _states(self.session, users, self.zone)
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
            self.session, self.zone, user_id=user_id, telegram_id=telegram_id, lock=True
        )
        return self._remember(state)

    def totals_changed(self, learner: LearnerState) -> None:
        """Mark the learner's leaderboard totals for refreshing when the work is settled."""
        self._changed[learner.user.id] = learner

    async def settle(self) -> None:
        """Refresh the leaderboard rows of learners whose totals changed, write the learners'
        aggregates, and flush."""
        for learner in self._changed.values():
            await refresh_learner(self.session, learner)
        self._changed.clear()
        await aggregates.write(self.session, (state.figures for state in self._by_id.values()))
        await self.session.flush()
