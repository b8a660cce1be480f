"""SQLite through aiosqlite, one thread hop per statement.

aiosqlite runs every call on the SQLite connection in its own thread, and each call is a hop
to that thread and back through the event loop. SQLAlchemy's aiosqlite adaptor makes a call
of each cursor step: create, execute, fetch the rows, close: three or four hops per
statement, a large part of the time of a `record()` on SQLite. This adaptor hands the
whole statement to the thread as one call (`_run`); the rows come back with it.

Server-side cursors (streamed results) keep SQLAlchemy's cursor. The adaptor uses
aiosqlite's `Connection._execute(function, *args)`, which runs a function on the thread: the
only way to run more than one step per hop; tests/db/test_sqlite_driver.py fails if a
version of aiosqlite stops providing it.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util.concurrency import await_


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What a statement left on its cursor, read on the thread."""

    description: Any
    rows: list[Any]
    rowcount: int
    lastrowid: int | None


def _run(connection: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    """Execute one statement and read everything it returns (on aiosqlite's thread)."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return _Outcome(description, rows, cursor.rowcount, cursor.lastrowid)
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose every statement is one call on aiosqlite's thread."""

    __slots__ = ("_arraysize", "_outcome")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = {}  # type: ignore[assignment]
        self._rows = collections.deque()
        self._outcome = _Outcome(None, [], -1, None)
        self._arraysize = 1

    @property
    def arraysize(self) -> int:
        """Rows per `fetchmany()` without a size (1, as the DBAPI specifies)."""
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    @property
    def description(self) -> Any:
        return self._outcome.description

    @property
    def rowcount(self) -> int:
        return self._outcome.rowcount

    @property
    def lastrowid(self) -> int:
        return self._outcome.lastrowid  # type: ignore[return-value]

    async def _async_soft_close(self) -> None:
        """Nothing stays open on the thread: the statement's cursor closed with it."""

    def close(self) -> None:
        self._rows.clear()

    def execute(self, operation: Any, parameters: Any = None) -> None:
        self._execute_on_thread(operation, parameters, many=False)

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Any]) -> None:
        self._execute_on_thread(operation, seq_of_parameters, many=True)

    def _execute_on_thread(self, operation: Any, parameters: Any, *, many: bool) -> None:
        try:
            self._outcome = await_(self._execute_async_once(operation, parameters, many))
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self._rows = collections.deque(self._outcome.rows)

    async def _execute_async_once(self, operation: Any, parameters: Any, many: bool) -> _Outcome:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        async with self._adapt_connection._execute_mutex:
            return await connection._execute(_run, connection._conn, operation, parameters, many)  # type: ignore[no-any-return]


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneHopCursor


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """SQLAlchemy's aiosqlite DBAPI adaptor, handing out `OneHopConnection`s."""

    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        adapted = super().connect(*arg, **kw)
        return OneHopConnection(self, adapted._connection)


def one_hop_dbapi() -> OneHopDBAPI:
    """The DBAPI module to give `create_async_engine(module=…)` for `sqlite+aiosqlite`."""
    return OneHopDBAPI(aiosqlite, sqlite3)
