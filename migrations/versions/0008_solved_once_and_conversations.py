"""A challenge is solved once (user_progress.solved_at); adapters' conversation states.

Revision ID: 0008
Revises: 0004
Create Date: 2026-12-02

Additive only. ``solved_at`` is filled from the first CHALLENGE_SOLVED of each learner and
lesson already in ``activity_log``, so solves recorded before this migration count too.
``conversation_states`` holds where a bot's conversation with a learner stands (its FSM
state and data), so it survives restarts and is shared by several bot processes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _datetime() -> sa.types.TypeEngine:
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    with op.batch_alter_table("user_progress") as batch:
        batch.add_column(sa.Column("solved_at", _datetime(), nullable=True))
    progress = sa.table(
        "user_progress",
        sa.column("user_id", sa.Integer),
        sa.column("lesson_id", sa.Integer),
        sa.column("solved_at", _datetime()),
    )
    log = sa.table(
        "activity_log",
        sa.column("user_id", sa.Integer),
        sa.column("entity_id", sa.Integer),
        sa.column("activity_type", sa.String),
        sa.column("created_at", _datetime()),
    )
    first_solve = (
        sa.select(sa.func.min(log.c.created_at))
        .where(
            log.c.user_id == progress.c.user_id,
            log.c.entity_id == progress.c.lesson_id,
            log.c.activity_type == "CHALLENGE_SOLVED",
        )
        .scalar_subquery()
    )
    op.execute(progress.update().values(solved_at=first_solve))

    op.create_table(
        "conversation_states",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("state", sa.String(255), nullable=True),
        sa.Column("data", sa.Text(), nullable=True),
        sa.Column("updated_at", _datetime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_conversation_states"),
        sa.UniqueConstraint("key", name="uq_conversation_states_key"),
    )


def downgrade() -> None:
    op.drop_table("conversation_states")
    with op.batch_alter_table("user_progress") as batch:
        batch.drop_column("solved_at")
