"""Streak freezes: grants, the days they covered, and the reward a rule gives.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02

Additive only. ``streak_freeze_grants`` holds every freeze given to a learner (by an admin or
with an award); ``streak_freeze_uses`` the missed days freezes covered (derived, rebuilt with
the aggregates). ``achievements.streak_freezes`` is a rule's reward in freezes;
``learner_totals`` counts freezes given and used. Existing rows get 0 everywhere.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _count(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), server_default="0", nullable=False)


def upgrade() -> None:
    with op.batch_alter_table("achievements") as batch:
        batch.add_column(_count("streak_freezes"))
    with op.batch_alter_table("learner_totals") as batch:
        batch.add_column(_count("freezes_granted"))
        batch.add_column(_count("freezes_used"))
    op.create_table(
        "streak_freeze_grants",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column(
            "granted_at",
            sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"),
            nullable=False,
        ),
        sa.Column("reason", sa.String(255), nullable=True),
        sa.Column("achievement_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_streak_freeze_grants_user_id_users",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["achievement_id"],
            ["achievements.id"],
            name="fk_streak_freeze_grants_achievement_id_achievements",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_streak_freeze_grants"),
        sa.UniqueConstraint(
            "user_id", "achievement_id", name="uq_streak_freeze_grants_user_id_achievement_id"
        ),
    )
    op.create_index(
        "ix_streak_freeze_grants_user_id_granted_at",
        "streak_freeze_grants",
        ["user_id", "granted_at"],
    )
    op.create_table(
        "streak_freeze_uses",
        sa.Column("user_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Integer(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_streak_freeze_uses_user_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "day", name="pk_streak_freeze_uses"),
    )


def downgrade() -> None:
    op.drop_table("streak_freeze_uses")
    op.drop_index("ix_streak_freeze_grants_user_id_granted_at", table_name="streak_freeze_grants")
    op.drop_table("streak_freeze_grants")
    with op.batch_alter_table("learner_totals") as batch:
        batch.drop_column("freezes_used")
        batch.drop_column("freezes_granted")
    with op.batch_alter_table("achievements") as batch:
        batch.drop_column("streak_freezes")
