"""Outbox payloads up to 16 MiB on MySQL/MariaDB.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07

``outbox.payload`` was TEXT, 65,535 bytes on MySQL/MariaDB: an event's ``event.recorded``
entry holds the event and every award it granted, each with its description (up to 65,535
bytes itself), so an event granting two awards with long descriptions could not be recorded
there at all while SQLite took it. MEDIUMTEXT holds 16 MiB. SQLite's TEXT has no such limit:
nothing changes there. A downgrade fails if a payload no longer fits TEXT.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _retype_payload(was: sa.types.TypeEngine, becomes: sa.types.TypeEngine) -> None:
    if op.get_bind().dialect.name in ("mysql", "mariadb"):
        op.alter_column(
            "outbox", "payload", existing_type=was, type_=becomes, existing_nullable=False
        )


def upgrade() -> None:
    _retype_payload(sa.Text(), mysql.MEDIUMTEXT())


def downgrade() -> None:
    _retype_payload(mysql.MEDIUMTEXT(), sa.Text())
