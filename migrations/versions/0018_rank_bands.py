"""Score bands: the score counts summed over bands of consecutive scores, per board.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07

Additive only. ``leaderboard_score_bands`` holds, per board, how many active learners hold a
score in each band; a band is named by its lowest score: the score with all but its five
highest bits cleared (scores below 32 are bands of their own). It is filled here from
``leaderboard_score_counts`` and kept by the engine from then on.
"""

from collections import Counter
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BAND_BITS = 5
"""The highest bits of a score that name its band (as in questline.engine.ranks, at 0018)."""


def _band_of(score: int) -> int:
    shift = max(score.bit_length() - BAND_BITS, 0)
    return (score >> shift) << shift


def upgrade() -> None:
    bands = op.create_table(
        "leaderboard_score_bands",
        sa.Column("board", sa.String(5), nullable=False),
        sa.Column("period_start", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("band", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("learners", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("board", "period_start", "band", name="pk_leaderboard_score_bands"),
    )
    counts = sa.table(
        "leaderboard_score_counts",
        sa.column("board"),
        sa.column("period_start"),
        sa.column("score"),
        sa.column("learners"),
    )
    summed: Counter[tuple[str, int, int]] = Counter()
    rows = op.get_bind().execute(
        sa.select(counts.c.board, counts.c.period_start, counts.c.score, counts.c.learners)
    )
    for board, start, score, learners in rows:
        summed[(board, start, _band_of(score))] += learners
    filled = [
        {"board": board, "period_start": start, "band": band, "learners": learners}
        for (board, start, band), learners in sorted(summed.items())
        if learners
    ]
    if filled:
        op.bulk_insert(bands, filled)


def downgrade() -> None:
    op.drop_table("leaderboard_score_bands")
