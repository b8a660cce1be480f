"""Rows of counters written as increments: an insert that adds to the row already stored."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import mysql, sqlite


@cache
def add_counts(table: Table, keys: tuple[str, ...], counters: tuple[str, ...], dialect: str) -> Any:
    """INSERT into `table` that, for a row whose `keys` are already stored, adds each of
    `counters` to it instead (an upsert of increments), for SQLite or MySQL/MariaDB."""
    if dialect == "sqlite":
        statement = sqlite.insert(table)
        return statement.on_conflict_do_update(
            index_elements=[table.c[name] for name in keys],
            set_={name: table.c[name] + statement.excluded[name] for name in counters},
        )
    statement = mysql.insert(table)
    return statement.on_duplicate_key_update(
        {name: table.c[name] + statement.inserted[name] for name in counters}
    )
