"""The catalogue's version, so that every process sees rules and content loaded elsewhere.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08

Additive only. ``catalog_versions`` holds one row, ``catalog``, whose ``version`` goes up in
the transaction of every `rules load` and `content load`; an engine reads it at most every
few seconds and reloads its rules and course when it moved. Without it a running server,
bot or worker kept awarding the rules it started with.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    versions = op.create_table(
        "catalog_versions",
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_catalog_versions"),
    )
    op.bulk_insert(versions, [{"name": "catalog", "version": 0}])


def downgrade() -> None:
    op.drop_table("catalog_versions")
