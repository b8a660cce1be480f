"""Adapters' conversation states (the Telegram bot's FSM state and data).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

Additive only. ``conversation_states`` holds where a bot's conversation with a learner stands,
so it survives restarts and is shared by several bot processes. (A challenge is solved once
through ``user_progress.solved_at``, which 0005 adds.)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _datetime() -> sa.types.TypeEngine:
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
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
