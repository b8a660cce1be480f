"""Seed schema: the eight tables of the product's data model, exactly as specified.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Names follow the metadata naming convention (pk_/uq_/fk_/ix_). Times are DATETIME (DATETIME(6)
on MySQL/MariaDB) holding UTC; enums are native ENUM on MySQL/MariaDB and VARCHAR on SQLite.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _datetime() -> sa.types.TypeEngine:
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


PROGRESS_STATUS = ("NOT_STARTED", "IN_PROGRESS", "COMPLETED")
ACHIEVEMENT_TYPE = (
    "LESSON_COMPLETED",
    "MODULE_COMPLETED",
    "STREAK",
    "CHALLENGES_SOLVED",
    "MILESTONE",
)
ACTIVITY_TYPE = (
    "LESSON_STARTED",
    "LESSON_COMPLETED",
    "CHALLENGE_ATTEMPTED",
    "CHALLENGE_SOLVED",
    "ACHIEVEMENT_EARNED",
    "LOGIN",
)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("username", sa.String(100), nullable=True),
        sa.Column("first_name", sa.String(100), nullable=True),
        sa.Column("last_name", sa.String(100), nullable=True),
        sa.Column("language_code", sa.String(10), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default="1", nullable=False),
        sa.Column("created_at", _datetime(), nullable=False),
        sa.Column("updated_at", _datetime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
    )
    op.create_index("ix_users_telegram_id", "users", ["telegram_id"], unique=True)

    op.create_table(
        "modules",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("order", sa.Integer(), nullable=False),
        sa.Column("is_published", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("created_at", _datetime(), nullable=False),
        sa.Column("updated_at", _datetime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_modules"),
    )
    op.create_index("ix_modules_order", "modules", ["order"])

    op.create_table(
        "lessons",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("module_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("order", sa.Integer(), nullable=False),
        sa.Column("estimated_duration", sa.Integer(), nullable=True),
        sa.Column("is_published", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("created_at", _datetime(), nullable=False),
        sa.Column("updated_at", _datetime(), nullable=False),
        sa.ForeignKeyConstraint(["module_id"], ["modules.id"], name="fk_lessons_module_id_modules"),
        sa.PrimaryKeyConstraint("id", name="pk_lessons"),
    )
    op.create_index("ix_lessons_module_id", "lessons", ["module_id"])
    op.create_index("ix_lessons_module_id_order", "lessons", ["module_id", "order"])

    op.create_table(
        "user_progress",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("lesson_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.Enum(*PROGRESS_STATUS, name="progress_status"), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("started_at", _datetime(), nullable=True),
        sa.Column("completed_at", _datetime(), nullable=True),
        sa.Column("created_at", _datetime(), nullable=False),
        sa.Column("updated_at", _datetime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_user_progress_user_id_users"),
        sa.ForeignKeyConstraint(
            ["lesson_id"], ["lessons.id"], name="fk_user_progress_lesson_id_lessons"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_user_progress"),
        sa.UniqueConstraint("user_id", "lesson_id", name="uq_user_progress_user_id_lesson_id"),
    )
    op.create_index("ix_user_progress_user_id_status", "user_progress", ["user_id", "status"])
    op.create_index("ix_user_progress_lesson_id_status", "user_progress", ["lesson_id", "status"])

    op.create_table(
        "achievements",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("type", sa.Enum(*ACHIEVEMENT_TYPE, name="achievement_type"), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("icon", sa.String(100), nullable=True),
        sa.Column("points", sa.Integer(), server_default="0", nullable=False),
        sa.Column("criteria", sa.Text(), nullable=True),
        sa.Column("created_at", _datetime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_achievements"),
    )
    op.create_index("ix_achievements_type", "achievements", ["type"])

    op.create_table(
        "user_achievements",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("achievement_id", sa.Integer(), nullable=False),
        sa.Column("earned_at", _datetime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_user_achievements_user_id_users"
        ),
        sa.ForeignKeyConstraint(
            ["achievement_id"],
            ["achievements.id"],
            name="fk_user_achievements_achievement_id_achievements",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_user_achievements"),
        sa.UniqueConstraint(
            "user_id", "achievement_id", name="uq_user_achievements_user_id_achievement_id"
        ),
    )
    op.create_index(
        "ix_user_achievements_user_id_earned_at", "user_achievements", ["user_id", "earned_at"]
    )

    op.create_table(
        "leaderboard_cache",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("total_score", sa.Integer(), server_default="0", nullable=False),
        sa.Column("lessons_completed", sa.Integer(), server_default="0", nullable=False),
        sa.Column("achievements_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("updated_at", _datetime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_leaderboard_cache_user_id_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_leaderboard_cache"),
        sa.UniqueConstraint("user_id", name="uq_leaderboard_cache_user_id"),
    )
    # The seed lists an index on rank twice (the column's own and a separate (rank) index):
    # one single-column index is created, plus the composite (rank, total_score).
    op.create_index("ix_leaderboard_cache_rank", "leaderboard_cache", ["rank"])
    op.create_index(
        "ix_leaderboard_cache_rank_total_score", "leaderboard_cache", ["rank", "total_score"]
    )

    op.create_table(
        "activity_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("activity_type", sa.Enum(*ACTIVITY_TYPE, name="activity_type"), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=True),
        sa.Column("entity_type", sa.String(50), nullable=True),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("created_at", _datetime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_activity_log_user_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_activity_log"),
    )
    op.create_index("ix_activity_log_user_id", "activity_log", ["user_id"])
    op.create_index("ix_activity_log_activity_type", "activity_log", ["activity_type"])
    op.create_index("ix_activity_log_created_at", "activity_log", ["created_at"])
    op.create_index(
        "ix_activity_log_user_id_activity_type_created_at",
        "activity_log",
        ["user_id", "activity_type", "created_at"],
    )


def downgrade() -> None:
    # Tables are dropped children first; dropping a table drops its indexes and foreign keys
    # with it (on MySQL/MariaDB an index a foreign key still needs cannot be dropped alone).
    op.drop_table("activity_log")
    op.drop_table("leaderboard_cache")
    op.drop_table("user_achievements")
    op.drop_table("achievements")
    op.drop_table("user_progress")
    op.drop_table("lessons")
    op.drop_table("modules")
    op.drop_table("users")
    # The enums are inline (MySQL/MariaDB ENUM, SQLite VARCHAR): no separate types to drop.
