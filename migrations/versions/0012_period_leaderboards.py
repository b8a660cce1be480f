"""Periodic leaderboards: per-learner week and month gains, and the closed periods.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

Additive only. ``learner_period_scores`` starts empty: events recorded from now on fill it;
``questline db rebuild-aggregates`` fills past weeks and months from ``activity_log``.
``leaderboard_closes`` records each week or month whose period rules have been evaluated.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _datetime() -> sa.types.TypeEngine:
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def _count(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), server_default="0", nullable=False)


def upgrade() -> None:
    op.create_table(
        "learner_period_scores",
        sa.Column("user_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("period", sa.String(5), nullable=False),
        sa.Column("period_start", sa.Integer(), autoincrement=False, nullable=False),
        _count("score"),
        _count("lessons_completed"),
        _count("achievements_count"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_learner_period_scores_user_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "user_id", "period", "period_start", name="pk_learner_period_scores"
        ),
    )
    op.create_index(
        "ix_learner_period_scores_period_period_start_score_user_id",
        "learner_period_scores",
        ["period", "period_start", "score", "user_id"],
    )
    op.create_table(
        "leaderboard_closes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("period", sa.String(5), nullable=False),
        sa.Column("period_start", sa.Integer(), nullable=False),
        _count("learners"),
        _count("awards"),
        sa.Column("closed_at", _datetime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_leaderboard_closes"),
        sa.UniqueConstraint(
            "period", "period_start", name="uq_leaderboard_closes_period_period_start"
        ),
    )


def downgrade() -> None:
    op.drop_table("leaderboard_closes")
    op.drop_index(
        "ix_learner_period_scores_period_period_start_score_user_id",
        table_name="learner_period_scores",
    )
    op.drop_table("learner_period_scores")
