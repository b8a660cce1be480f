"""Idempotency keys compare exactly on MySQL/MariaDB: VARBINARY instead of a PAD SPACE collation.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

``activity_log.idempotency_key`` (an extension column of 0002) was ``VARCHAR(100)`` with
``utf8mb4_bin``, a PAD SPACE collation: ``"k1"`` and ``"k1 "`` were one key there and two on
SQLite. It becomes ``VARBINARY(400)``, the key's UTF-8 bytes (100 characters of at most 4
bytes), compared byte for byte on MySQL 8 and MariaDB 10.11 alike; existing keys keep their
bytes. SQLite compares text exactly already and is left as it is.

Downgrading fails (the ALTER is refused and changes nothing) while two keys of one learner
differ only by trailing spaces, since the old collation cannot tell them apart.
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _is_mysql() -> bool:
    return op.get_bind().dialect.name in ("mysql", "mariadb")


def upgrade() -> None:
    if _is_mysql():
        op.alter_column(
            "activity_log",
            "idempotency_key",
            existing_type=mysql.VARCHAR(100, charset="utf8mb4", collation="utf8mb4_bin"),
            type_=mysql.VARBINARY(400),
            existing_nullable=True,
        )


def downgrade() -> None:
    if _is_mysql():
        op.alter_column(
            "activity_log",
            "idempotency_key",
            existing_type=mysql.VARBINARY(400),
            type_=mysql.VARCHAR(100, charset="utf8mb4", collation="utf8mb4_bin"),
            existing_nullable=True,
        )
