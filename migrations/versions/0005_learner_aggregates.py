"""Learner aggregates: running figures per learner and per learner-day, and first-solve times.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

Additive only. ``learner_totals`` and ``learner_days`` start empty: the engine builds a
learner's rows from ``activity_log`` the first time it records for them (or all at once with
``questline db rebuild-aggregates``). ``user_progress.solved_at`` is filled from the log here.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COUNTERS = (
    "lesson_starts",
    "lesson_completions",
    "challenge_attempts",
    "challenge_solves",
    "logins",
)


def _datetime() -> sa.types.TypeEngine:
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def _count(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), server_default="0", nullable=False)


def _user_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["user_id"], ["users.id"], name=f"fk_{table}_user_id_users", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "learner_totals",
        sa.Column("user_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("zone", sa.String(64), nullable=False),
        *(_count(name) for name in _COUNTERS),
        *(
            _count(name)
            for name in (
                "lessons_started",
                "lessons_completed",
                "challenges_solved",
                "lesson_score",
                "days_active",
                "streak_current",
                "streak_longest",
            )
        ),
        sa.Column("last_learning_day", sa.Integer(), nullable=True),
        sa.Column("last_active_day", sa.Integer(), nullable=True),
        sa.Column("last_event_at", _datetime(), nullable=True),
        _user_fk("learner_totals"),
        sa.PrimaryKeyConstraint("user_id", name="pk_learner_totals"),
    )
    op.create_table(
        "learner_days",
        sa.Column("user_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Integer(), autoincrement=False, nullable=False),
        _count("activities"),
        *(_count(name) for name in _COUNTERS),
        _user_fk("learner_days"),
        sa.PrimaryKeyConstraint("user_id", "day", name="pk_learner_days"),
    )
    with op.batch_alter_table("user_progress") as batch:
        batch.add_column(sa.Column("solved_at", _datetime(), nullable=True))
    op.execute(
        "UPDATE user_progress SET solved_at = ("
        "SELECT MIN(a.created_at) FROM activity_log a"
        " WHERE a.user_id = user_progress.user_id AND a.entity_id = user_progress.lesson_id"
        " AND a.activity_type = 'CHALLENGE_SOLVED')"
    )


def downgrade() -> None:
    with op.batch_alter_table("user_progress") as batch:
        batch.drop_column("solved_at")
    op.drop_table("learner_days")
    op.drop_table("learner_totals")
