"""Engine extensions: slugs, rule switch, idempotency key, award provenance, lesson challenges.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02

Additive only: no seed column is changed. On SQLite the ALTERs run in batch mode (the table is
rebuilt); env.py switches foreign keys off while that happens.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _datetime() -> sa.types.TypeEngine:
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    with op.batch_alter_table("achievements") as batch:
        batch.add_column(sa.Column("slug", sa.String(100), nullable=True))
        batch.add_column(sa.Column("enabled", sa.Boolean(), server_default="1", nullable=False))
        batch.create_unique_constraint("uq_achievements_slug", ["slug"])

    with op.batch_alter_table("activity_log") as batch:
        # Binary collation on MySQL/MariaDB: keys differing only in case are different keys.
        batch.add_column(
            sa.Column(
                "idempotency_key",
                sa.String(100).with_variant(
                    mysql.VARCHAR(100, charset="utf8mb4", collation="utf8mb4_bin"),
                    "mysql",
                    "mariadb",
                ),
                nullable=True,
            )
        )
        batch.create_unique_constraint(
            "uq_activity_log_user_id_idempotency_key", ["user_id", "idempotency_key"]
        )

    with op.batch_alter_table("user_achievements") as batch:
        batch.add_column(sa.Column("activity_id", sa.Integer(), nullable=True))
        batch.create_index("ix_user_achievements_activity_id", ["activity_id"])
        batch.create_foreign_key(
            "fk_user_achievements_activity_id_activity_log",
            "activity_log",
            ["activity_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("modules") as batch:
        batch.add_column(sa.Column("slug", sa.String(100), nullable=True))
        batch.create_unique_constraint("uq_modules_slug", ["slug"])

    with op.batch_alter_table("lessons") as batch:
        batch.add_column(sa.Column("slug", sa.String(100), nullable=True))
        batch.create_unique_constraint("uq_lessons_module_id_slug", ["module_id", "slug"])

    op.create_table(
        "lesson_challenges",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("lesson_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("points", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", _datetime(), nullable=False),
        sa.Column("updated_at", _datetime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lesson_id"],
            ["lessons.id"],
            name="fk_lesson_challenges_lesson_id_lessons",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_lesson_challenges"),
        sa.UniqueConstraint("lesson_id", name="uq_lesson_challenges_lesson_id"),
    )


def downgrade() -> None:
    op.drop_table("lesson_challenges")

    # On MySQL/MariaDB a unique index that a foreign key uses cannot be dropped while the key
    # exists; (module_id, slug) is not the only index on module_id, so this is safe.
    with op.batch_alter_table("lessons") as batch:
        batch.drop_constraint("uq_lessons_module_id_slug", type_="unique")
        batch.drop_column("slug")

    with op.batch_alter_table("modules") as batch:
        batch.drop_constraint("uq_modules_slug", type_="unique")
        batch.drop_column("slug")

    # Foreign key first: MySQL/MariaDB refuse to drop the index a foreign key relies on.
    with op.batch_alter_table("user_achievements") as batch:
        batch.drop_constraint("fk_user_achievements_activity_id_activity_log", type_="foreignkey")
        batch.drop_index("ix_user_achievements_activity_id")
        batch.drop_column("activity_id")

    with op.batch_alter_table("activity_log") as batch:
        batch.drop_constraint("uq_activity_log_user_id_idempotency_key", type_="unique")
        batch.drop_column("idempotency_key")

    with op.batch_alter_table("achievements") as batch:
        batch.drop_constraint("uq_achievements_slug", type_="unique")
        batch.drop_column("enabled")
        batch.drop_column("slug")
