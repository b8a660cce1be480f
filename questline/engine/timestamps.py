"""UTC timestamps: the one clock and the one column type the engine stores times with.

Every time in the database is UTC. The column is a plain ``DATETIME`` (no time zone in the DDL);
:class:`UTCDateTime` stores naive UTC and hands back timezone-aware UTC datetimes, and refuses a
naive datetime on write so that a local time can never be stored by accident.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


def utcnow() -> datetime:
    """The current time as a timezone-aware UTC datetime."""
    return datetime.now(UTC)


class NaiveDatetimeError(ValueError):
    """A datetime without tzinfo was about to be written to a UTC column."""


class UTCDateTime(TypeDecorator[datetime]):
    """``DATETIME`` that stores naive UTC and returns aware UTC datetimes.

    On MySQL/MariaDB the column is ``DATETIME(6)`` so microseconds survive exactly as on SQLite
    (a bare ``DATETIME`` rounds on MySQL 8 and truncates on MariaDB).
    """

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}: {value!r}")
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            raise NaiveDatetimeError(
                f"refusing to store naive datetime {value.isoformat()}: "
                "pass a timezone-aware datetime (e.g. datetime.now(UTC))"
            )
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
