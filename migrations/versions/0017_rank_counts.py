"""Ranks without counting learners: score counts per board, and the display-order index.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06

Additive only. ``leaderboard_score_counts`` holds, per board (all-time, each week and month),
how many active learners hold each score; it is filled here from ``leaderboard_cache`` and
``learner_period_scores`` and kept by the engine from then on. The indexes on
``leaderboard_cache (total_score DESC, user_id)`` and ``learner_period_scores (period,
period_start, score DESC, user_id)`` serve a board's display order in both directions.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    counts = op.create_table(
        "leaderboard_score_counts",
        sa.Column("board", sa.String(5), nullable=False),
        sa.Column("period_start", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("score", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("learners", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint(
            "board", "period_start", "score", name="pk_leaderboard_score_counts"
        ),
    )
    op.create_index(
        "ix_leaderboard_cache_display_order",
        "leaderboard_cache",
        [sa.text("total_score DESC"), "user_id"],
    )
    op.create_index(
        "ix_learner_period_scores_display_order",
        "learner_period_scores",
        ["period", "period_start", sa.text("score DESC"), "user_id"],
    )
    users = sa.table("users", sa.column("id"), sa.column("is_active"))
    cache = sa.table("leaderboard_cache", sa.column("user_id"), sa.column("total_score"))
    periods = sa.table(
        "learner_period_scores",
        sa.column("user_id"),
        sa.column("period"),
        sa.column("period_start"),
        sa.column("score"),
    )
    active = sa.and_(users.c.is_active == sa.true())
    all_time = (
        sa.select(sa.literal("all"), sa.literal(0), cache.c.total_score, sa.func.count())
        .join(users, users.c.id == cache.c.user_id)
        .where(active)
        .group_by(cache.c.total_score)
    )
    by_period = (
        sa.select(periods.c.period, periods.c.period_start, periods.c.score, sa.func.count())
        .join(users, users.c.id == periods.c.user_id)
        .where(active)
        .group_by(periods.c.period, periods.c.period_start, periods.c.score)
    )
    columns = ["board", "period_start", "score", "learners"]
    op.execute(counts.insert().from_select(columns, all_time))
    op.execute(counts.insert().from_select(columns, by_period))


def downgrade() -> None:
    op.drop_index("ix_learner_period_scores_display_order", table_name="learner_period_scores")
    op.drop_index("ix_leaderboard_cache_display_order", table_name="leaderboard_cache")
    op.drop_table("leaderboard_score_counts")
