"""Ranks without counting learners: how many active learners hold each score, per board.

A learner's competition rank is 1 + the active learners with a higher score on the board. The
`leaderboard_score_counts` table keeps, for every board (all-time; each week and month), the
number of active learners at each score, changed in the same transaction as the scores. A
rank is then the sum of the board's rows above a score: its cost grows with the number of
distinct scores above (points come in a few sizes, so a board of a million learners holds a
few thousand), never with the number of learners.

Inactive learners are not counted. The engine never changes `users.is_active`; whoever does
runs `Engine.rebuild_leaderboard()` (`questline leaderboard --rebuild`) afterwards, which
recounts every board from the scores.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Subquery,
    bindparam,
    delete,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from questline.engine.models import (
    LeaderboardCache,
    LeaderboardScoreCount,
    LearnerPeriodScore,
    User,
)
from questline.engine.upserts import add_counts

ALL_TIME = "all"
"""The all-time board's name (its `period_start` is 0); periods are named by `Period`."""

_table = LeaderboardScoreCount.__table__
_KEYS = ("board", "period_start", "score")

BoardKey = tuple[str, int]
"""(board, period start): "all" and 0, or a period and its first local day's ordinal."""


class Moves:
    """Learners' scores leaving and reaching boards in one transaction, netted per score."""

    def __init__(self) -> None:
        self.deltas: Counter[tuple[str, int, int]] = Counter()

    def move(self, board: BoardKey, old: int | None, new: int | None) -> None:
        """One active learner's score on `board` goes from `old` to `new` (None: no row)."""
        if old == new:
            return
        if old is not None:
            self.deltas[(*board, old)] -= 1
        if new is not None:
            self.deltas[(*board, new)] += 1

    async def write(self, session: AsyncSession) -> None:
        """Add the net changes to the stored counts (one upsert, rows in key order so that
        concurrent transactions lock them in the same order), and forget them."""
        rows = _rows(self.deltas)
        self.deltas = Counter()
        if rows:
            dialect = session.get_bind().dialect.name
            await session.execute(add_counts(_table, _KEYS, ("learners",), dialect), rows)


def _rows(counts: Counter[tuple[str, int, int]]) -> list[dict[str, Any]]:
    """Table rows for the non-zero `counts` by (board, period start, score), in key order."""
    return [
        {"board": board, "period_start": start, "score": score, "learners": learners}
        for (board, start, score), learners in sorted(counts.items())
        if learners
    ]


def _on(board: BoardKey) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """The conditions that select `board`'s rows."""
    name, start = board
    return _table.c.board == name, _table.c.period_start == start


async def learners_on(session: AsyncSession, board: BoardKey) -> int:
    """How many active learners are on `board`."""
    query = select(func.coalesce(func.sum(_table.c.learners), 0)).where(*_on(board))
    return int(await session.scalar(query) or 0)


ABOVE, HELD = "above", "held"
"""Kinds of the rows of `counts_near`: the count above a score, one score's count."""


def counts_near(mine: ColumnElement[int], radius: int) -> list[Select]:
    """Reads that rank a page of up to `radius` entries either side of a learner with the
    score `mine`, on the board named by the parameters `board_period` and `board_start`:
    the count above `mine` (kind ABOVE), and the count rows (kind HELD) of the `radius`
    nearest held scores above it, of `mine` and of the `radius` nearest below. The page's
    scores are among those, so `ranks_near` ranks them. Columns: kind, score, learners."""
    board, score, learners = _table.c.board, _table.c.score, _table.c.learners
    on_board = (
        board == bindparam("board_period"),
        _table.c.period_start == bindparam("board_start"),
    )
    above = select(
        literal(ABOVE).label("kind"), mine.label("score"), func.coalesce(func.sum(learners), 0)
    ).where(*on_board, score > mine)
    if not radius:
        return [above]
    held = select(literal(HELD), score, learners).where(*on_board, learners > 0)
    higher = held.where(score > mine).order_by(score.asc()).limit(radius)
    lower = held.where(score <= mine).order_by(score.desc()).limit(radius + 1)
    return [above, select(higher.subquery()), select(lower.subquery())]


def ranks_near(
    mine: int, counts: Iterable[tuple[str, int, int]], scores: Iterable[int]
) -> dict[int, int]:
    """The competition rank of each of `scores` (a page around a learner with the score
    `mine`) from the rows (kind, score, learners) of `counts_near`."""
    count_above_mine, held = 0, {}
    for kind, score, learners in counts:
        if kind == ABOVE:
            count_above_mine = int(learners)
        else:
            held[score] = int(learners)
    ranks = {}
    for wanted in scores:
        if wanted > mine:
            passed = sum(n for score, n in held.items() if mine < score <= wanted)
            ranks[wanted] = 1 + count_above_mine - passed
        else:
            passed = sum(n for score, n in held.items() if wanted < score <= mine)
            ranks[wanted] = 1 + count_above_mine + passed
    return ranks


def ladder(board: BoardKey) -> Subquery:
    """Each score held on `board` (column `score`) with its competition rank (`rank`): one
    window sum over the board's counts."""
    above = func.sum(_table.c.learners).over(order_by=_table.c.score.desc(), rows=(None, -1))
    return (
        select(_table.c.score, (1 + func.coalesce(above, 0)).label("rank"))
        .where(*_on(board))
        .subquery()
    )


async def recount(session: AsyncSession) -> None:
    """Replace every board's counts by counts of the stored scores of active learners: each
    board grouped by score along its index, less its inactive learners (a scan of `users`;
    an index on `is_active` would mislead SQLite's planner for the board reads), so the
    boards are not joined to `users` row by row."""
    inactive = User.is_active == False  # noqa: E712 (SQL, not Python)
    board, period = LeaderboardCache, LearnerPeriodScore
    everyone = (
        select(literal(ALL_TIME), literal(0), board.total_score, func.count()).group_by(
            board.total_score
        ),
        select(period.period, period.period_start, period.score, func.count()).group_by(
            period.period, period.period_start, period.score
        ),
    )
    left_out = (
        select(literal(ALL_TIME), literal(0), board.total_score)
        .join(User, User.id == board.user_id)
        .where(inactive),
        select(period.period, period.period_start, period.score)
        .join(User, User.id == period.user_id)
        .where(inactive),
    )
    counts: Counter[tuple[str, int, int]] = Counter()
    for query in everyone:
        for name, start, score, learners in await session.execute(query):
            counts[(name, start, score)] += learners
    for query in left_out:
        for name, start, score in await session.execute(query):
            counts[(name, start, score)] -= 1
    await session.execute(delete(_table))
    rows = _rows(counts)
    if rows:
        await session.execute(insert(_table), rows)
