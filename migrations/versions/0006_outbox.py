"""Outbox: notifications written in the transaction of the event they announce.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

Additive only: one new table. The dispatcher claims pending rows by (status, available_at).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _datetime() -> sa.types.TypeEngine:
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dedupe_id", sa.String(36), nullable=False),
        sa.Column("topic", sa.String(50), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("activity_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(10), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("available_at", _datetime(), nullable=False),
        sa.Column("claim_token", sa.String(32), nullable=True),
        sa.Column("delivered_to", sa.Text(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", _datetime(), nullable=False),
        sa.Column("delivered_at", _datetime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity_log.id"],
            name="fk_outbox_activity_id_activity_log",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("dedupe_id", name="uq_outbox_dedupe_id"),
    )
    op.create_index("ix_outbox_status_available_at", "outbox", ["status", "available_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_status_available_at", table_name="outbox")
    op.drop_table("outbox")
