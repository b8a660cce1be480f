"""The SQLite adaptor: one call on aiosqlite's thread per statement, results as SQLAlchemy's.

These run on a SQLite file of their own whatever database the suite is on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine.db import create_engine


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with engine.begin() as connection:
        await connection.execute(
            text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL UNIQUE)")
        )
    yield engine
    await engine.dispose()


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The name of every function aiosqlite runs on its thread, in order."""
    calls: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    yield calls


async def test_each_statement_is_one_call_on_the_thread(
    sqlite: AsyncEngine, hops: list[str]
) -> None:
    async with sqlite.connect() as connection:
        hops.clear()
        await connection.execute(text("INSERT INTO notes (body) VALUES ('a')"))
        rows = (await connection.execute(text("SELECT id, body FROM notes"))).all()
        assert hops == ["_run", "_run", "_run"]  # BEGIN IMMEDIATE, INSERT, SELECT
        await connection.commit()
    assert [tuple(row) for row in rows] == [(1, "a")]
    assert hops[-1] == "commit"


async def test_results_carry_rows_counts_and_the_new_row_id(sqlite: AsyncEngine) -> None:
    async with sqlite.begin() as connection:
        inserted = await connection.execute(text("INSERT INTO notes (body) VALUES ('a')"))
        assert inserted.lastrowid == 1
        many = await connection.execute(
            text("INSERT INTO notes (body) VALUES (:body)"), [{"body": "b"}, {"body": "c"}]
        )
        assert many.rowcount == 2
        updated = await connection.execute(text("UPDATE notes SET body = body || '!'"))
        assert updated.rowcount == 3
        result = await connection.execute(text("SELECT id, body FROM notes ORDER BY id"))
        assert list(result.keys()) == ["id", "body"]
        assert [tuple(row) for row in result] == [(1, "a!"), (2, "b!"), (3, "c!")]
        assert (await connection.execute(text("SELECT body FROM notes WHERE 0"))).all() == []
        result = await connection.execute(text("SELECT id FROM notes ORDER BY id"))
        assert [tuple(row) for row in result.fetchmany()] == [(1,)]
        assert [tuple(row) for row in result.fetchmany(5)] == [(2,), (3,)]


async def test_a_failed_statement_raises_the_usual_error_and_the_connection_goes_on(
    sqlite: AsyncEngine,
) -> None:
    async with sqlite.connect() as connection:
        await connection.execute(text("INSERT INTO notes (body) VALUES ('a')"))
        with pytest.raises(IntegrityError, match=r"UNIQUE constraint failed: notes\.body"):
            await connection.execute(text("INSERT INTO notes (body) VALUES ('a')"))
        with pytest.raises(OperationalError, match="no such table: nowhere"):
            await connection.execute(text("SELECT * FROM nowhere"))
        await connection.execute(text("INSERT INTO notes (body) VALUES ('b')"))
        await connection.commit()
    async with sqlite.connect() as connection:
        assert (await connection.scalars(text("SELECT body FROM notes ORDER BY id"))).all() == [
            "a",
            "b",
        ]


async def test_streamed_results_still_come_row_by_row(sqlite: AsyncEngine) -> None:
    async with sqlite.begin() as connection:
        await connection.execute(
            text("INSERT INTO notes (body) VALUES (:body)"),
            [{"body": f"note {n}"} for n in range(250)],
        )
    async with sqlite.connect() as connection:
        streamed = await connection.stream(text("SELECT body FROM notes ORDER BY id"))
        bodies = [row.body async for row in streamed]
    assert bodies == [f"note {n}" for n in range(250)]
