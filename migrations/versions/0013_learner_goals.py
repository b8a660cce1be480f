"""Daily goals: how many lessons a day each learner has set out to complete.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02

Additive only. ``learner_goals`` holds one row per learner who chose a goal; no row, no goal.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "learner_goals",
        sa.Column("user_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("daily_lessons", sa.Integer(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_learner_goals_user_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name="pk_learner_goals"),
    )


def downgrade() -> None:
    op.drop_table("learner_goals")
