"""What the engine holds about learners during a transaction: loaded once, kept current.

A learner's row is locked for the whole transaction, so nothing else changes their progress,
figures or awards meanwhile: the engine loads them once (three queries for any number of
learners) and updates the state in memory as it records, and facts are computed from it
without further queries. Nothing loaded grows with the learner's history: lesson rows are
bounded by the course, awards by the rules, and the activity history is summed up in the
learner's aggregates (see `aggregates`). The rows to write are gathered in `Pending` and
written set-wise when the transaction's work is settled.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import CompoundSelect, Row, Select, bindparam, null, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from questline.engine import aggregates, catalogue, ranks
from questline.engine.aggregates import Aggregates, Totals
from questline.engine.errors import UnknownUser
from questline.engine.events import Event
from questline.engine.leaderboard import Board, BoardChange, write_boards
from questline.engine.models import (
    Achievement,
    LeaderboardCache,
    LearnerTotals,
    User,
    UserAchievement,
    UserProgress,
)
from questline.engine.progress import PROGRESS_FIELDS, Progress
from questline.engine.views import AwardView, RecordResult
from questline.engine.writes import ActivityRow, Pending

_users = User.__table__
_totals = LearnerTotals.__table__
_board = LeaderboardCache.__table__
_progress = UserProgress.__table__
_TOTALS = [column.label(f"t_{column.name}") for column in _totals.c]
_BOARD = [
    _board.c.user_id.label("b_user_id"),
    _board.c.total_score.label("b_total_score"),
    _board.c.lessons_completed.label("b_lessons_completed"),
    _board.c.achievements_count.label("b_achievements_count"),
]


@dataclass(frozen=True)
class Recorded:
    """One recorded event. Its rows may not be written yet: ask for `result()` after that."""

    activity: ActivityRow
    user_id: int
    awards: tuple[AwardView, ...]
    replayed: bool = False
    already_solved: bool = False

    def result(self) -> RecordResult:
        assert self.activity.id is not None
        return RecordResult(
            self.activity.id,
            replayed=self.replayed,
            awards=self.awards,
            already_solved=self.already_solved,
            user_id=self.user_id,
        )


@dataclass
class LearnerState:
    """The learner's row, lesson progress by lesson id, aggregates and earned awards."""

    user: User
    """A detached copy of the learner's row."""
    progress: dict[int, Progress]
    figures: Aggregates
    earned: dict[int, int]
    """Achievement id → points, for every achievement the learner holds."""
    board: Board | None = None
    """The learner's leaderboard totals as stored (None: not on the board yet)."""
    recorded: dict[str, Recorded] = field(default_factory=dict)
    """This transaction's recordings by idempotency key (not yet visible to queries)."""

    def completed_lessons(self) -> set[int]:
        return {lesson_id for lesson_id, row in self.progress.items() if row.completed}

    def lesson_scores(self) -> int:
        return self.figures.totals.lesson_score


@cache
def _learners_query() -> Select[Any]:
    """Learners with their stored totals and leaderboard row, in id order."""
    return (
        select(_users, *_TOTALS, *_BOARD)
        .outerjoin(_totals, _totals.c.user_id == _users.c.id)
        .outerjoin(_board, _board.c.user_id == _users.c.id)
        .order_by(_users.c.id)
    )


@cache
def _learner_query(who: str, lock: bool) -> Select[Any]:
    """One learner (parameter `key`, the value of the users column `who`), as in
    `_learners_query`; with `lock`, locked for the transaction."""
    query = _learners_query().where(_users.c[who] == bindparam("key"))
    return query.with_for_update() if lock else query


@cache
def _held_query() -> CompoundSelect:
    """The learners' (parameter `ids`) progress rows, then their awards with the points of
    each achievement (`achievement_id` set), in one read: a round trip less per event."""
    ids = bindparam("ids", expanding=True)
    fields = [_progress.c[name] for name in PROGRESS_FIELDS]
    progress = select(
        _progress.c.user_id,
        _progress.c.lesson_id,
        *fields,
        null().label("achievement_id"),
        null().label("points"),
    ).where(_progress.c.user_id.in_(ids))
    awards = (
        select(
            UserAchievement.user_id,
            null(),
            *(null() for _ in fields),
            UserAchievement.achievement_id,
            Achievement.points,
        )
        .join(Achievement, Achievement.id == UserAchievement.achievement_id)
        .where(UserAchievement.user_id.in_(ids))
    )
    return union_all(progress, awards)


async def _states(
    session: AsyncSession, rows: Sequence[Row[Any]], zone: ZoneInfo
) -> list[LearnerState]:
    """The state of each learner of `rows` (from `_learners_query`), in one more query (and
    an index probe for learners whose figures were never written)."""
    ids = [row.id for row in rows]
    unwritten = [row.id for row in rows if row.t_zone is None]
    history = await aggregates.with_history(session, unwritten) if unwritten else set()
    progress: dict[int, dict[int, Progress]] = defaultdict(dict)
    earned: dict[int, dict[int, int]] = defaultdict(dict)
    for row in await session.execute(_held_query(), {"ids": ids}):
        if row.achievement_id is None:
            progress[row.user_id][row.lesson_id] = Progress(
                row.user_id,
                row.lesson_id,
                **{name: getattr(row, name) for name in PROGRESS_FIELDS},
                stored=True,
            )
        else:
            earned[row.user_id][row.achievement_id] = row.points
    # counted in another time zone, or not written yet but with a history: built from the log
    built = await aggregates.build(
        session,
        [r.id for r in rows if r.t_zone != zone.key and (r.t_zone or r.id in history)],
        zone,
    )
    states = []
    for row in rows:
        values = row._mapping
        user = User(**{column.name: values[column] for column in _users.c})
        figures = built.get(row.id)
        if figures is None and row.t_zone is None:
            figures = aggregates.first_figures(row.id, zone)
        elif figures is None:
            totals = Totals(**{name: values[f"t_{name}"] for name in aggregates.TOTALS_FIELDS})
            figures = Aggregates(row.id, totals, stored=True)
        board = None
        if values["b_user_id"] is not None:
            board = Board(
                values["b_total_score"],
                values["b_lessons_completed"],
                values["b_achievements_count"],
            )
        states.append(LearnerState(user, progress[row.id], figures, earned[row.id], board))
    return states


async def load_learner(
    session: AsyncSession,
    zone: ZoneInfo,
    *,
    user_id: int | None = None,
    telegram_id: int | None = None,
    lock: bool = False,
) -> LearnerState:
    """Load (and with `lock`, lock) a learner and what they have done; UnknownUser if absent."""
    who, value = catalogue.user_key(user_id=user_id, telegram_id=telegram_id)
    row = (await session.execute(_learner_query(who, lock), {"key": value})).one_or_none()
    if row is None:
        raise UnknownUser(f"unknown user: no learner with {who} {value}")
    [state] = await _states(session, [row], zone)
    return state


class Learners:
    """The learners one transaction has locked, by questline id and by Telegram id, and the
    rows the transaction will write."""

    def __init__(self, session: AsyncSession, zone: ZoneInfo) -> None:
        self.session = session
        self.zone = zone
        self.pending = Pending()
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
        query = _learners_query().where(
            or_(_users.c.id.in_(ids), _users.c.telegram_id.in_(telegram_ids))
        )
        rows = (await self.session.execute(query.with_for_update())).all()
        for state in await _states(self.session, rows, self.zone):
            self._remember(state)

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
        """Write the transaction's rows, the learners' aggregates and their leaderboard rows."""
        moves = ranks.Moves()
        await self.pending.write(self.session, moves)
        await aggregates.write(self.session, (state.figures for state in self._by_id.values()))
        changes = []
        for learner in self._changed.values():
            board = Board(
                learner.lesson_scores() + sum(learner.earned.values()),
                learner.figures.totals.lessons_completed,
                len(learner.earned),
            )
            if board != learner.board:
                changes.append(
                    BoardChange(learner.user.id, board, learner.board, learner.user.is_active)
                )
                learner.board = board
        self._changed.clear()
        await write_boards(self.session, changes, moves)
        await moves.write(self.session)
