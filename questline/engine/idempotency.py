"""Idempotency keys: what a key may hold, and a column that compares keys exactly everywhere.

A key is 1 to 100 characters, compared exactly: case, whitespace (leading and trailing too)
and Unicode normalisation all count, so ``"k1"`` and ``"k1 "`` are two keys on every database.
Characters that would break a one-line message or cannot be stored are refused
(`questline.engine.printable`).

On MySQL/MariaDB the column is ``VARBINARY`` holding the key's UTF-8 bytes: binary strings are
compared byte for byte with no padding, where ``VARCHAR`` collations either ignore case or
ignore trailing spaces (``utf8mb4_bin`` is a PAD SPACE collation). Keys travel as text and the
server converts them (``CAST(… AS BINARY)`` on the utf8mb4 connection), because aiomysql
cannot send ``bytes`` parameters with current PyMySQL. SQLite compares text exactly already.
Python always sees ``str``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, cast
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.types import TypeDecorator, TypeEngine

from questline.engine.errors import InvalidEvent
from questline.engine.printable import unprintable

__all__ = [
    "MAX_KEY_BYTES",
    "MAX_KEY_LENGTH",
    "SOLVE_KEY_SUFFIX",
    "IdempotencyKey",
    "challenge_keys",
    "key_problem",
]

MAX_KEY_LENGTH = 100
MAX_KEY_BYTES = 4 * MAX_KEY_LENGTH
"""The longest key in UTF-8 bytes (every character takes at most 4)."""


def key_problem(key: str) -> str | None:
    """Why `key` is not a valid idempotency key, or None when it is one."""
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        return f"must be 1 to {MAX_KEY_LENGTH} characters long, not {len(key)}"
    return unprintable(key)


SOLVE_KEY_SUFFIX = ":solved"
"""What follows a keyed answer's key in the key of its solve."""


def challenge_keys(key: str | None) -> tuple[str | None, str | None]:
    """The keys of a keyed answer's attempt (`key`) and solve (`key` + `SOLVE_KEY_SUFFIX`);
    InvalidEvent if the solve's key would be too long."""
    if key is None:
        return None, None
    longest = MAX_KEY_LENGTH - len(SOLVE_KEY_SUFFIX)
    if len(key) > longest:
        raise InvalidEvent(
            f"idempotency_key: an answer's key must be 1 to {longest} characters, "
            f"not {len(key)} (its solve is keyed with {SOLVE_KEY_SUFFIX!r} added)"
        )
    return key, key + SOLVE_KEY_SUFFIX


class _Utf8Bytes(mysql.VARBINARY):
    """``VARBINARY`` whose parameters are text that the server turns into UTF-8 bytes."""

    def bind_processor(self, dialect: Dialect) -> None:
        return None

    def bind_expression(self, bindvalue: BindParameter[Any]) -> ColumnElement[Any]:
        return cast(bindvalue, mysql.BINARY())


class IdempotencyKey(TypeDecorator[str]):
    """``VARCHAR(100)`` on SQLite, ``VARBINARY(400)`` of the UTF-8 bytes on MySQL/MariaDB."""

    impl = String(MAX_KEY_LENGTH)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(_Utf8Bytes(MAX_KEY_BYTES))
        return dialect.type_descriptor(String(MAX_KEY_LENGTH))

    def process_result_value(self, value: str | bytes | None, dialect: Dialect) -> str | None:
        if isinstance(value, bytes):
            return value.decode("utf-8")
        return value
