"""The LIVE database after migrating to head, inspected through SQLAlchemy's inspector."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Boolean, Enum, Integer, String, Text, inspect
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.types import BigInteger, DateTime

from questline.engine.db import is_mysql
from tests.db import schema_spec as spec


def _kind(type_: Any) -> tuple[str, int | None]:
    if isinstance(type_, Enum):
        return "enum", None
    if isinstance(type_, Boolean) or (
        isinstance(type_, mysql.TINYINT) and type_.display_width == 1
    ):
        return "bool", None
    if isinstance(type_, BigInteger):
        return "bigint", None
    if isinstance(type_, Integer):
        return "int", None
    if isinstance(type_, DateTime):
        return "datetime", None
    if isinstance(type_, Text):
        return "text", None
    if isinstance(type_, String):
        return "str", type_.length
    return type(type_).__name__, None


def _snapshot(connection: Connection) -> dict[str, Any]:
    inspector = inspect(connection)
    tables = {}
    for table in inspector.get_table_names():
        tables[table] = {
            "columns": inspector.get_columns(table),
            "indexes": inspector.get_indexes(table),
            "uniques": inspector.get_unique_constraints(table),
            "foreign_keys": inspector.get_foreign_keys(table),
            "pk": inspector.get_pk_constraint(table),
        }
    return tables


@pytest.fixture
async def live(db: AsyncEngine) -> dict[str, Any]:
    async with db.connect() as connection:
        return await connection.run_sync(_snapshot)


async def test_tables_are_exactly_the_seed_tables_plus_extensions(live: dict[str, Any]) -> None:
    expected = set(spec.SEED_COLUMNS) | {"lesson_challenges", "api_keys", "alembic_version"}
    assert set(live) == expected


@pytest.mark.parametrize("table", sorted(spec.all_columns()))
async def test_columns_types_lengths_nullability(
    live: dict[str, Any], table: str, db: AsyncEngine
) -> None:
    expected = spec.all_columns()[table]
    columns = {column["name"]: column for column in live[table]["columns"]}
    assert set(columns) == set(expected)
    for name, (kind, length, nullable) in expected.items():
        column = columns[name]
        actual_kind, actual_length = _kind(column["type"])
        if kind == "enum" and not is_mysql(db):
            # SQLite has no ENUM: a VARCHAR as long as the longest member name.
            enum_class = spec.ENUM_COLUMNS[(table, name)]
            assert actual_kind == "str", (table, name, column["type"])
            assert actual_length == max(len(member.name) for member in enum_class)
        else:
            assert actual_kind == kind, (table, name, column["type"])
            assert actual_length == length, (table, name)
        assert column["nullable"] is nullable, (table, name)
        if kind == "datetime" and is_mysql(db):
            assert column["type"].fsp == 6, (table, name)


async def test_mysql_enums_list_every_member(live: dict[str, Any], db: AsyncEngine) -> None:
    if not is_mysql(db):
        pytest.skip("native ENUM exists on MySQL/MariaDB only")
    for (table, name), enum_class in spec.ENUM_COLUMNS.items():
        column = next(c for c in live[table]["columns"] if c["name"] == name)
        assert list(column["type"].enums) == [member.value for member in enum_class]


async def test_server_defaults(live: dict[str, Any]) -> None:
    for table, data in live.items():
        for column in data["columns"]:
            default = column["default"]
            expected = spec.SERVER_DEFAULTS.get((table, column["name"]))
            if expected is None:
                assert default is None, (table, column["name"], default)
            else:
                assert default is not None, (table, column["name"])
                assert default.strip("'\"") == expected, (table, column["name"], default)


async def test_primary_keys_are_id_autoincrement(live: dict[str, Any]) -> None:
    for table, data in live.items():
        if table == "alembic_version":
            continue
        assert data["pk"]["constrained_columns"] == ["id"], table
        assert data["pk"]["name"] in (f"pk_{table}", None, "PRIMARY"), table


async def test_every_index_exists_with_column_order(live: dict[str, Any], db: AsyncEngine) -> None:
    expected = {**spec.SEED_INDEXES, **spec.EXTENSION_INDEXES}
    actual: dict[str, tuple[str, tuple[str, ...]]] = {}
    implicit: dict[str, tuple[str, tuple[str, ...]]] = {}
    for table, data in live.items():
        unique_names = {u["name"] for u in data["uniques"]}
        fk_names = {fk["name"] for fk in data["foreign_keys"]}
        for index in data["indexes"]:
            if index["unique"] or index["name"] in unique_names:
                continue
            entry = (table, tuple(index["column_names"]))
            if index["name"] in fk_names:
                implicit[index["name"]] = entry  # InnoDB's own index for a foreign key
            else:
                actual[index["name"]] = entry
    assert actual == expected
    if not is_mysql(db):
        assert implicit == {}


async def test_unique_constraints_and_unique_indexes(live: dict[str, Any]) -> None:
    expected = spec.merged(spec.SEED_UNIQUES, spec.EXTENSION_UNIQUES)
    actual: dict[str, set[tuple[str, ...]]] = {}
    for table, data in live.items():
        if table == "alembic_version":
            continue
        found = {tuple(u["column_names"]) for u in data["uniques"]}
        found |= {tuple(i["column_names"]) for i in data["indexes"] if i["unique"]}
        if found:
            actual[table] = found
    assert actual == expected


async def test_foreign_keys(live: dict[str, Any]) -> None:
    expected = spec.merged(spec.SEED_FOREIGN_KEYS, spec.EXTENSION_FOREIGN_KEYS)
    actual: dict[str, set[tuple[tuple[str, ...], str, tuple[str, ...], str | None]]] = {}
    for table, data in live.items():
        for fk in data["foreign_keys"]:
            ondelete = (fk.get("options") or {}).get("ondelete")
            if ondelete is not None and ondelete.upper() in ("RESTRICT", "NO ACTION"):
                ondelete = None
            actual.setdefault(table, set()).add(
                (
                    tuple(fk["constrained_columns"]),
                    fk["referred_table"],
                    tuple(fk["referred_columns"]),
                    ondelete.upper() if ondelete else None,
                )
            )
    assert actual == expected


async def test_constraint_and_index_names_fit_mysql_limit(live: dict[str, Any]) -> None:
    for data in live.values():
        names = [i["name"] for i in data["indexes"]]
        names += [u["name"] for u in data["uniques"]]
        names += [fk["name"] for fk in data["foreign_keys"]]
        for name in names:
            if name is not None:
                assert len(name) <= 64, name
