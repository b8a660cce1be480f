"""Reminders: each learner's time zone and reminder choices, and the reminders claimed.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02

Additive only. ``reminder_settings`` holds one row per learner who set up reminders (no row:
no time zone, no reminders). ``reminder_sends`` holds one row per reminder claimed, unique per
(learner, local day, kind), so a reminder is sent once however many processes schedule.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _datetime() -> sa.types.TypeEngine:
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "reminder_settings",
        sa.Column("user_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("daily_at", sa.Integer(), nullable=True),
        sa.Column("streak_nudge", sa.Boolean(), nullable=False),
        sa.Column("stopped", sa.Boolean(), nullable=False),
        sa.Column("blocked_at", _datetime(), nullable=True),
        sa.Column("daily_due_at", _datetime(), nullable=True),
        sa.Column("streak_due_at", _datetime(), nullable=True),
        sa.Column("updated_at", _datetime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_reminder_settings_user_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name="pk_reminder_settings"),
    )
    op.create_index("ix_reminder_settings_daily_due_at", "reminder_settings", ["daily_due_at"])
    op.create_index("ix_reminder_settings_streak_due_at", "reminder_settings", ["streak_due_at"])
    op.create_table(
        "reminder_sends",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("streak", sa.Integer(), server_default="0", nullable=False),
        sa.Column("lease_until", _datetime(), nullable=False),
        sa.Column("claimed_at", _datetime(), nullable=False),
        sa.Column("settled_at", _datetime(), nullable=True),
        sa.Column("last_error", sa.String(255), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_reminder_sends_user_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_reminder_sends"),
        sa.UniqueConstraint("user_id", "day", "kind", name="uq_reminder_sends_user_id_day_kind"),
    )
    op.create_index(
        "ix_reminder_sends_status_lease_until", "reminder_sends", ["status", "lease_until"]
    )


def downgrade() -> None:
    op.drop_table("reminder_sends")
    op.drop_index("ix_reminder_settings_streak_due_at", table_name="reminder_settings")
    op.drop_index("ix_reminder_settings_daily_due_at", table_name="reminder_settings")
    op.drop_table("reminder_settings")
