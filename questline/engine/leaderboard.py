"""The leaderboards: all-time totals in leaderboard_cache, week and month gains in
learner_period_scores, each ranked by competition ranking ("1224").

total_score = the sum of the learner's best lesson scores (user_progress.score, where challenge
scores count for their lesson) + the points of every achievement the learner has earned. A
week's or month's board ranks what the period added to it (see `questline.engine.periods`).
Ties share a rank; within a tie, entries are listed by user id (who registered first).
A rank is 1 + the number of active learners with a higher score on the same board, read from
the board's score counts (`questline.engine.ranks`), so reads stay exact without counting
learners; pages are read along the index in display order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Row,
    Select,
    and_,
    bindparam,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from questline.engine import catalogue, ranks
from questline.engine.catalogue import user_view
from questline.engine.models import (
    Achievement,
    LeaderboardCache,
    LearnerPeriodScore,
    LearnerTotals,
    User,
    UserAchievement,
)
from questline.engine.periods import Period
from questline.engine.timestamps import utcnow
from questline.engine.values import values_of
from questline.engine.views import LeaderboardEntry

_score = LeaderboardCache.total_score
_table = LeaderboardCache.__table__
_update_board = update(_table).where(_table.c.user_id == bindparam("key_user"))
_insert_board = insert(_table)
UNRANKED = 0
"""The stored rank of a learner no rebuild has ranked (new since the last, or inactive).
Reads never use stored ranks: they count live (see `top`, `around`)."""
_UNRANK_CHUNK = 10_000
"""Inactive learners unranked per statement by `rebuild`."""


@dataclass(frozen=True)
class Standings:
    """One board's rows: its key in the score counts, the index of its display order, its
    score, learner and counts columns, and which rows belong."""

    key: ranks.BoardKey
    display_index: str
    score: Any
    user_id: Any
    lessons_completed: Any
    achievements_count: Any
    belongs: ColumnElement[bool]

    @property
    def parameters(self) -> dict[str, Any]:
        """Values for the bound parameters of `belongs` (a cached statement is reused for
        every week or month)."""
        name, start = self.key
        return {"board_period": name, "board_start": start}


ALL_TIME = Standings(
    (ranks.ALL_TIME, 0),
    "ix_leaderboard_cache_display_order",
    LeaderboardCache.total_score,
    LeaderboardCache.user_id,
    LeaderboardCache.lessons_completed,
    LeaderboardCache.achievements_count,
    true(),
)


def period_board(period: Period, start: int) -> Standings:
    """The board of the week or month whose first local day is the ordinal `start`."""
    return Standings(
        (period.value, start),
        "ix_learner_period_scores_display_order",
        LearnerPeriodScore.score,
        LearnerPeriodScore.user_id,
        LearnerPeriodScore.lessons_completed,
        LearnerPeriodScore.achievements_count,
        and_(
            LearnerPeriodScore.period == bindparam("board_period", period.value),
            LearnerPeriodScore.period_start == bindparam("board_start", start),
        ),
    )


@dataclass(frozen=True)
class Board:
    """A learner's leaderboard totals."""

    total_score: int
    lessons_completed: int
    achievements_count: int


@dataclass(frozen=True)
class BoardChange:
    """A learner's new all-time totals, with the ones stored (None: no row yet)."""

    user_id: int
    board: Board
    stored: Board | None
    active: bool


async def write_boards(
    session: AsyncSession, changes: Sequence[BoardChange], moves: ranks.Moves
) -> None:
    """Store learners' totals, and note active learners' score moves in `moves`.

    The stored rank is set to UNRANKED when a learner first enters the leaderboard and
    refreshed for everyone by `rebuild()`; reads never use it (they rank live), so the
    per-event path does not pay for ranking.
    """
    now = utcnow()
    updates, inserts = [], []
    for change in changes:
        values = {**values_of(change.board), "updated_at": now}
        if change.stored is None:
            inserts.append({**values, "user_id": change.user_id, "rank": UNRANKED})
        else:
            updates.append({**values, "key_user": change.user_id})
        if change.active:
            old = change.stored.total_score if change.stored else None
            moves.move(ALL_TIME.key, old, change.board.total_score)
    if updates:
        await session.execute(_update_board, updates)
    if inserts:
        await session.execute(_insert_board, inserts)


def _entries(board: Standings, *leading: ColumnElement[Any]) -> Select:
    """The board's rows of active learners with their names, in no particular order, after
    the `leading` columns."""
    return (
        select(
            *leading,
            board.score.label("total_score"),
            User.id,
            User.telegram_id,
            User.username,
            User.first_name,
            User.last_name,
            User.language_code,
            board.lessons_completed.label("lessons_completed"),
            board.achievements_count.label("achievements_count"),
        )
        .join(User, User.id == board.user_id)
        .where(User.is_active, board.belongs)
    )


def _listed(rows: Sequence[Row[Any]], rank_of: Mapping[int, int]) -> list[LeaderboardEntry]:
    """Entries for `rows`, each ranked by its score."""
    return [
        LeaderboardEntry(
            rank=rank_of[row.total_score],
            user_id=row.id,
            telegram_id=row.telegram_id,
            display_name=user_view(row).display_name,
            total_score=row.total_score,
            lessons_completed=row.lessons_completed,
            achievements_count=row.achievements_count,
        )
        for row in rows
    ]


def _display_order(board: Standings, *, reverse: bool = False) -> tuple[Any, Any]:
    """(score desc, user id): the order of the index on (score DESC, user_id), or its reverse."""
    if reverse:
        return board.score.asc(), board.user_id.desc()
    return board.score.desc(), board.user_id.asc()


def _along_display_index(board: Standings, query: Select) -> Select:
    """`query`, with MySQL and MariaDB told to read the board along its display-order index."""
    hint = f"FORCE INDEX ({board.display_index})"
    for dialect in ("mysql", "mariadb"):
        query = query.with_hint(board.score.table, hint, dialect)
    return query


Reader = AsyncSession | AsyncConnection
"""What the reads take: a session, or a connection (no ORM session to set up and close)."""


def _dialect_of(reader: Reader) -> str:
    bind = reader if isinstance(reader, AsyncConnection) else reader.get_bind()
    return bind.dialect.name


MAX_TOP = 10_000
"""The most entries `top` reads at once."""


async def top(session: Reader, limit: int, board: Standings = ALL_TIME) -> list[LeaderboardEntry]:
    """The first `limit` entries of the board in display order.

    The first row at each score is preceded by exactly the learners with a higher score, so
    its position + 1 is the score's rank. MariaDB is told to read along the display-order
    index: with statistics not yet updated after a bulk load it sorted the whole board
    instead (`engine_bench.py` at 20,000 learners: 12.8–17.7 ms without the hint, 2.3 ms).
    """
    query = _along_display_index(board, _entries(board).order_by(*_display_order(board)))
    query = query.limit(limit)
    rows = (await session.execute(query)).all()
    rank_of: dict[int, int] = {}
    for position, row in enumerate(rows):
        rank_of.setdefault(row.total_score, position + 1)
    return _listed(rows, rank_of)


async def around(
    session: Reader,
    radius: int,
    board: Standings = ALL_TIME,
    *,
    user_id: int | None = None,
    telegram_id: int | None = None,
) -> list[LeaderboardEntry]:
    """The entry of the learner (by questline id or Telegram id) with up to `radius` entries
    above and below; empty if they are not on the board.

    Two reads: the learner's row; then, in one statement, the nearest rows either side, as
    four ranges read along the display-order index (same score before and after the learner,
    higher and lower scores), each limited to `radius`, and the score counts that rank them
    (`ranks.counts_near`). MariaDB is told to use that index: left to itself it reads a large
    tie from its far end (1.4 s in a tie of a million). Both statements are built once.
    """
    by, learner = catalogue.user_key(user_id=user_id, telegram_id=telegram_id)
    found = await session.execute(
        _entry(board.key[0], by), {"learner": learner, **board.parameters}
    )
    me = found.one_or_none()
    if me is None:
        return []
    nested = _dialect_of(session) == "sqlite"
    page = _page(board.key[0], radius, nested)
    entries: list[Row[Any]] = [me]
    counts: list[tuple[str, int, int]] = []
    parameters = {"score": me.total_score, "user_id": me.id, **board.parameters}
    for row in await session.execute(page, parameters):
        if row.part == _NEAR:
            entries.append(row)
        else:
            counts.append((row.part, row.total_score, row.learners))
    entries.sort(key=lambda row: (-row.total_score, row.id))
    position = entries.index(me)
    entries = entries[max(position - radius, 0) : position + radius + 1]
    rank_of = ranks.ranks_near(me.total_score, counts, {row.total_score for row in entries})
    return _listed(entries, rank_of)


def _template(board_name: str) -> Standings:
    """The all-time board, or a week's or month's whose rows `board_start` selects."""
    return ALL_TIME if board_name == ranks.ALL_TIME else period_board(Period(board_name), 0)


@lru_cache(maxsize=16)
def _entry(board_name: str, by: str) -> Select:
    """The learner's row on the board (parameter `learner`: the value of the users column
    `by`)."""
    return _entries(_template(board_name)).where(getattr(User, by) == bindparam("learner"))


_NEAR = "near"
"""The kind of the rows of `_page` that are entries (the others are `ranks.counts_near`'s)."""


@lru_cache(maxsize=64)
def _page(board_name: str, radius: int, nested: bool) -> CompoundSelect:
    """The second read of `around` (parameters: the learner's `score` and `user_id`, and
    the board's), built once: building it cost more than the database took to answer it.
    Column `part` tells entries from score counts; `learners` is a count's. The learner's
    score and id are values, not subqueries: MariaDB took longer to plan those than to run
    the statement. Members are parenthesized where the database accepts it and `nested` in
    subqueries where it does not (SQLite), as derived tables cost MariaDB time too."""
    board = _template(board_name)
    score, key = board.score, board.user_id
    mine, user_id = bindparam("score"), bindparam("user_id")
    leading = (literal(_NEAR).label("part"), null().label("learners"))
    members: list[Select] = []
    if radius:
        sides = [
            (and_(score == mine, key < user_id), True),
            (score > mine, True),
            (and_(score == mine, key > user_id), False),
            (score < mine, False),
        ]
        for condition, reverse in sides:
            near = _entries(board, *leading).where(condition)
            near = near.order_by(*_display_order(board, reverse=reverse)).limit(radius)
            members.append(_along_display_index(board, near))
    no_entry = [null() for _ in range(len(_entries(board).selected_columns) - 1)]
    for read in ranks.counts_near(mine, radius):
        kind, count_score, learners = read.selected_columns
        named = (kind.label("part"), learners.label("learners"), count_score.label("total_score"))
        members.append(read.with_only_columns(*named, *no_entry))
    if nested:
        members = [select(member.subquery()) for member in members]
    return union_all(*members)


async def standing(
    session: AsyncSession, user_id: int, board: Standings
) -> LeaderboardEntry | None:
    """The learner's own entry on the board (None if they are not on it)."""
    entries = await around(session, 0, board, user_id=user_id)
    return entries[0] if entries else None


async def rebuild(session: AsyncSession) -> int:
    """Recompute every learner's all-time totals from their lesson scores and the awards they
    hold (at each achievement's current points, enabled or not), recount every board's score
    counts, then store the competition rank of every learner from the all-time counts (one
    UPDATE joined to `ranks.ladder`) and 0 for the inactive learners, found by one scan of
    `users` (joining the board to `users` row by row took longer than both); a stored rank
    that is already right is not written again, except an inactive learner's (ranked, then
    unranked). Returns the number of learners ranked."""
    held = (
        select(
            UserAchievement.user_id,
            func.sum(Achievement.points).label("points"),
            func.count().label("awards"),
        )
        .join(Achievement, Achievement.id == UserAchievement.achievement_id)
        .group_by(UserAchievement.user_id)
        .subquery()
    )
    total = func.coalesce(LearnerTotals.lesson_score, 0) + func.coalesce(held.c.points, 0)
    awards = func.coalesce(held.c.awards, 0)
    recomputed = (
        select(LeaderboardCache.user_id, total.label("total"), awards.label("awards"))
        .outerjoin(LearnerTotals, LearnerTotals.user_id == LeaderboardCache.user_id)
        .outerjoin(held, held.c.user_id == LeaderboardCache.user_id)
        .where(
            or_(
                LeaderboardCache.total_score != total, LeaderboardCache.achievements_count != awards
            )
        )
        .subquery()
    )
    await session.execute(
        update(LeaderboardCache)
        .where(LeaderboardCache.user_id == recomputed.c.user_id)
        .values(total_score=recomputed.c.total, achievements_count=recomputed.c.awards)
        .execution_options(synchronize_session=False)
    )
    await ranks.recount(session)
    ladder = ranks.ladder(ALL_TIME.key)
    await session.execute(
        update(LeaderboardCache)
        .where(
            LeaderboardCache.total_score == ladder.c.score, LeaderboardCache.rank != ladder.c.rank
        )
        .values(rank=ladder.c.rank)
        .execution_options(synchronize_session=False)
    )
    inactive = list(await session.scalars(select(User.id).where(User.is_active == False)))  # noqa: E712
    for start in range(0, len(inactive), _UNRANK_CHUNK):
        await session.execute(
            update(LeaderboardCache)
            .where(
                LeaderboardCache.user_id.in_(inactive[start : start + _UNRANK_CHUNK]),
                LeaderboardCache.rank != UNRANKED,
            )
            .values(rank=UNRANKED)
            .execution_options(synchronize_session=False)
        )
    return await ranks.learners_on(session, ALL_TIME.key)
