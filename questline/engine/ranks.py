"""Ranks without counting learners: how many active learners hold each score, per board.

A learner's competition rank is 1 + the active learners with a higher score on the board. The
`leaderboard_score_counts` table keeps, for every board (all-time; each week and month), the
number of active learners at each score, and `leaderboard_score_bands` the same summed over
bands of consecutive scores (`band_of`), both changed in the same transaction as the scores.
The count above a score is then the sum of the bands above it and of the counts left in its
own band: a few hundred rows at most, however many learners and distinct scores there are.

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
    Table,
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
    LeaderboardScoreBand,
    LeaderboardScoreCount,
    LearnerPeriodScore,
    User,
)
from questline.engine.upserts import add_counts

ALL_TIME = "all"
"""The all-time board's name (its `period_start` is 0); periods are named by `Period`."""

_table = LeaderboardScoreCount.__table__
_bands = LeaderboardScoreBand.__table__
_NO_BAND_ABOVE = 2**62
"""Above every score: where the band of a score with no band above it ends."""

BoardKey = tuple[str, int]
"""(board, period start): "all" and 0, or a period and its first local day's ordinal."""

BAND_BITS = 5
"""The highest bits of a score that name its band (migration 0018 fills the bands with it)."""


def band_of(score: int) -> int:
    """The band holding `score`, named by its lowest score: `score` with all but its
    BAND_BITS highest bits cleared. Scores below 2**BAND_BITS are bands of their own; above,
    each power of two splits into 16 bands, so a 31-bit score range has fewer than 450."""
    shift = max(score.bit_length() - BAND_BITS, 0)
    return (score >> shift) << shift


Counts = Counter[tuple[str, int, int]]
"""Learners by (board, period start, score or band)."""


class Moves:
    """Learners' scores leaving and reaching boards in one transaction, netted per score and
    per band."""

    def __init__(self) -> None:
        self.deltas: Counts = Counter()
        self.band_deltas: Counts = Counter()

    def move(self, board: BoardKey, old: int | None, new: int | None) -> None:
        """One active learner's score on `board` goes from `old` to `new` (None: no row)."""
        if old == new:
            return
        if old is not None:
            self.deltas[(*board, old)] -= 1
            self.band_deltas[(*board, band_of(old))] -= 1
        if new is not None:
            self.deltas[(*board, new)] += 1
            self.band_deltas[(*board, band_of(new))] += 1

    async def write(self, session: AsyncSession) -> None:
        """Add the net changes to the stored counts and bands (an upsert each, rows in key
        order so that concurrent transactions lock them in the same order; none for bands
        when every move stayed in its band), and forget them."""
        dialect = session.get_bind().dialect.name
        for table, deltas in ((_table, self.deltas), (_bands, self.band_deltas)):
            rows = _rows(table, deltas)
            if rows:
                keys = tuple(column.name for column in table.primary_key)
                await session.execute(add_counts(table, keys, ("learners",), dialect), rows)
        self.deltas, self.band_deltas = Counter(), Counter()


def _rows(table: Table, counts: Counts) -> list[dict[str, Any]]:
    """Rows of `table` (counts or bands) for the non-zero `counts`, in key order."""
    board, start, score = (column.name for column in table.primary_key)
    return [
        {board: name, start: first_day, score: value, "learners": learners}
        for (name, first_day, value), learners in sorted(counts.items())
        if learners
    ]


def _on(table: Table, board: tuple[Any, Any]) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """The conditions that select `board`'s rows of `table` (counts or bands); `board` is a
    (name, period start) pair of values or of bound parameters."""
    name, start = board
    return table.c.board == name, table.c.period_start == start


async def learners_on(session: AsyncSession, board: BoardKey) -> int:
    """How many active learners are on `board`."""
    query = select(func.coalesce(func.sum(_bands.c.learners), 0)).where(*_on(_bands, board))
    return int(await session.scalar(query) or 0)


ABOVE, HELD = "above", "held"
"""Kinds of the rows of `counts_near`: a part of the count above a score, one score's count."""


def counts_near(mine: ColumnElement[int], radius: int) -> list[Select]:
    """Reads that rank a page of up to `radius` entries either side of a learner with the
    score `mine`, on the board named by the parameters `board_period` and `board_start`:
    the count above `mine` in two rows of kind ABOVE (the bands above it; the counts above it
    in its own band), and the count rows (kind HELD) of the `radius` nearest held scores
    above it, of `mine` and of the `radius` nearest below. The page's scores are among those,
    so `ranks_near` ranks them. Columns: kind, score, learners; the last two reads are
    limited, so a union of them must parenthesize or nest them."""
    board = (bindparam("board_period"), bindparam("board_start"))
    score, learners = _table.c.score, _table.c.learners
    next_band = (
        select(func.min(_bands.c.band))
        .where(*_on(_bands, board), _bands.c.band > mine)
        .scalar_subquery()
    )
    above = [
        select(
            literal(ABOVE).label("kind"),
            mine.label("score"),
            func.coalesce(func.sum(_bands.c.learners), 0).label("learners"),
        ).where(*_on(_bands, board), _bands.c.band > mine),
        select(literal(ABOVE), mine, func.coalesce(func.sum(learners), 0)).where(
            *_on(_table, board),
            score > mine,
            score < func.coalesce(next_band, _NO_BAND_ABOVE),
        ),
    ]
    if not radius:
        return above
    held = select(literal(HELD), score, learners).where(*_on(_table, board), learners > 0)
    higher = held.where(score > mine).order_by(score.asc()).limit(radius)
    lower = held.where(score <= mine).order_by(score.desc()).limit(radius + 1)
    return [*above, higher, lower]


def ranks_near(
    mine: int, counts: Iterable[tuple[str, int, int]], scores: Iterable[int]
) -> dict[int, int]:
    """The competition rank of each of `scores` (a page around a learner with the score
    `mine`) from the rows (kind, score, learners) of `counts_near`."""
    count_above_mine, held = 0, {}
    for kind, score, learners in counts:
        if kind == ABOVE:
            count_above_mine += int(learners)
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
        .where(*_on(_table, board))
        .subquery()
    )


async def recount(session: AsyncSession) -> None:
    """Replace every board's counts and bands by counts of the stored scores of active
    learners: each
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
    counts: Counts = Counter()
    for query in everyone:
        for name, start, score, learners in await session.execute(query):
            counts[(name, start, score)] += learners
    for query in left_out:
        for name, start, score in await session.execute(query):
            counts[(name, start, score)] -= 1
    bands: Counts = Counter()
    for (name, start, score), learners in counts.items():
        bands[(name, start, band_of(score))] += learners
    for table, summed in ((_table, counts), (_bands, bands)):
        await session.execute(delete(table))
        rows = _rows(table, summed)
        if rows:
            await session.execute(insert(table), rows)
