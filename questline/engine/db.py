"""Database connection: which database (``DATABASE_URL``), engines, sessions, one-line errors.

``DATABASE_URL`` selects the database. Unset or empty, questline uses the SQLite file
``questline.db`` in the current working directory (``sqlite+aiosqlite:///questline.db``), so
nothing needs a server. Supported drivers:

- ``sqlite+aiosqlite:///path/to/file.db`` (``sqlite+aiosqlite://`` alone is an in-memory database)
- ``mysql+aiomysql://user:password@host:3306/dbname`` (MySQL 8 / MariaDB 10.11)

Everything that goes wrong with the configuration raises :class:`DatabaseConfigError` whose
message is one line that names the problem and never contains the password.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import re
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiomysql
from pymysql.err import OperationalError as MySQLOperationalError
from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    NoSuchModuleError,
    OperationalError,
    SAWarning,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry, PoolResetState, StaticPool

from questline.engine.errors import QuestlineError
from questline.engine.sqlite_driver import one_hop_dbapi
from questline.environment import seconds_from_env

__all__ = [
    "DEFAULT_DATABASE_URL",
    "SUPPORTED_DRIVERS",
    "BoundedSessions",
    "DatabaseConfigError",
    "DatabaseLocked",
    "answering",
    "check_connection",
    "create_engine",
    "database_timeout",
    "database_url",
    "first_line",
    "is_mysql",
    "is_sqlite",
    "missing_sqlite_file",
    "parse_database_url",
    "reading",
    "retryable",
    "safe_url",
    "session_factory",
    "sqlite_locked",
]

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///questline.db"
SQLITE_SYNCHRONOUS_ENV = "QUESTLINE_SQLITE_SYNCHRONOUS"
SQLITE_SYNCHRONOUS = ("NORMAL", "FULL")
SQLITE_BUSY_TIMEOUT_MS = 30_000
SUPPORTED_DRIVERS = ("sqlite+aiosqlite", "mysql+aiomysql")
DATABASE_TIMEOUT_ENV = "QUESTLINE_DB_TIMEOUT"
DEFAULT_DATABASE_TIMEOUT = 60.0
MYSQL_CONNECT_TIMEOUT = 10.0
_EXAMPLES = "e.g. sqlite+aiosqlite:///questline.db or mysql+aiomysql://user:password@host:3306/db"


class DatabaseConfigError(QuestlineError):
    """The database is misconfigured or unreachable; ``str(error)`` is one line for the user."""


class DatabaseLocked(DatabaseConfigError):
    """SQLite's write lock was held by another process past the busy timeout."""


class DatabaseUnreachable(DatabaseConfigError):
    """The database could not be reached or did not answer; a later try may work."""


def sqlite_locked(error: BaseException | None) -> bool:
    """Whether `error` is SQLite's "database is locked": another process kept the write lock
    past the busy timeout."""
    return isinstance(error, DBAPIError) and "database is locked" in str(error.orig)


def database_url() -> str:
    """The configured database URL: ``$DATABASE_URL``, else the default SQLite file."""
    return os.environ.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL


def parse_database_url(url: str | URL | None = None) -> URL:
    """Parse and validate ``url`` (default: :func:`database_url`); raise DatabaseConfigError."""
    if url is None:
        url = database_url()
    if isinstance(url, URL):
        parsed = url
    else:
        try:
            parsed = make_url(url)
        except (ArgumentError, ValueError):
            raise DatabaseConfigError(
                f"DATABASE_URL is not a valid database URL ({_EXAMPLES})"
            ) from None
    driver = parsed.drivername  # as written: naming the driver loads it, and may fail
    if driver not in SUPPORTED_DRIVERS:
        raise DatabaseConfigError(
            f"unsupported database driver {parsed.drivername!r} in DATABASE_URL; "
            f"supported: {', '.join(SUPPORTED_DRIVERS)} ({_EXAMPLES})"
        )
    if driver == "mysql+aiomysql" and not parsed.database:
        raise DatabaseConfigError(
            f"DATABASE_URL {safe_url(parsed)} names no database ({_EXAMPLES})"
        )
    return parsed


def safe_url(url: str | URL) -> str:
    """``url`` as a string with the password replaced by ``***``."""
    if isinstance(url, str):
        try:
            url = make_url(url)
        except (ArgumentError, ValueError):
            return "<malformed URL>"
    return url.render_as_string(hide_password=True)


def _url_of(target: AsyncEngine | Engine | AsyncConnection | Connection | URL | str) -> URL:
    if isinstance(target, AsyncEngine | Engine):
        return target.url
    if isinstance(target, AsyncConnection | Connection):
        return target.engine.url
    if isinstance(target, URL):
        return target
    return make_url(target)


def is_mysql(target: AsyncEngine | Engine | AsyncConnection | Connection | URL | str) -> bool:
    """True when the engine/connection/URL points at MySQL or MariaDB."""
    return _url_of(target).get_backend_name() in ("mysql", "mariadb")


def is_sqlite(target: AsyncEngine | Engine | AsyncConnection | Connection | URL | str) -> bool:
    """True when the engine/connection/URL points at SQLite."""
    return _url_of(target).get_backend_name() == "sqlite"


def missing_sqlite_file(url: URL) -> bool:
    """Whether `url` names a SQLite database file that does not exist: connecting would
    create it, empty."""
    if url.get_backend_name() != "sqlite" or "uri" in url.query:
        return False  # a URI filename (?uri=true) may name no file at all
    return url.database not in (None, "", ":memory:") and not Path(url.database).exists()


def database_timeout() -> float:
    """Seconds one unit of database work may take (a transaction, a read, a connection):
    ``$QUESTLINE_DB_TIMEOUT``, default 60."""
    return seconds_from_env(DATABASE_TIMEOUT_ENV, DEFAULT_DATABASE_TIMEOUT, DatabaseConfigError)


@asynccontextmanager
async def answering(seconds: float) -> AsyncIterator[None]:
    """Bound the database work inside to `seconds`: a server that stopped answering (hung,
    or behind a network that drops everything) otherwise holds a statement forever. Past
    it, an OperationalError with the connection invalidated, as for a lost connection."""
    deadline = asyncio.timeout(seconds)
    try:
        async with deadline:
            yield
    except TimeoutError:
        if not deadline.expired():
            raise
        reason = f"no answer from the database within {seconds:g} s ({DATABASE_TIMEOUT_ENV})"
        lost = OperationalError(None, None, TimeoutError(reason), connection_invalidated=True)
        raise lost from None


class BoundedSessions:
    """Sessions on `engine` whose use must end within `seconds` (see `answering`): for work
    that may write (calling the object), or that only reads (`reading()`)."""

    def __init__(self, engine: AsyncEngine, seconds: float) -> None:
        self.factories = (session_factory(engine), session_factory(reading(engine)))
        self.seconds = seconds

    def configure(self, **options: Any) -> None:
        for factory in self.factories:
            factory.configure(**options)

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[AsyncSession]:
        async with answering(self.seconds), self.factories[0]() as session:
            yield session

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A session that only reads: on SQLite it never waits for another writer."""
        async with answering(self.seconds), self.factories[1]() as session:
            yield session


def sqlite_synchronous() -> str:
    """SQLite's ``synchronous`` setting: ``$QUESTLINE_SQLITE_SYNCHRONOUS``, default NORMAL."""
    value = os.environ.get(SQLITE_SYNCHRONOUS_ENV, "").strip().upper() or "NORMAL"
    if value not in SQLITE_SYNCHRONOUS:
        raise DatabaseConfigError(f"{SQLITE_SYNCHRONOUS_ENV} must be NORMAL or FULL, not {value!r}")
    return value


def _sqlite_pragmas(synchronous: str) -> Any:
    def on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # The driver must not open transactions behind SQLAlchemy's back (_sqlite_on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            # WAL: readers never block the writer; an in-memory database keeps "memory"
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={synchronous}")
        finally:
            cursor.close()

    return on_connect


READING = "questline_reading"
"""Execution option of connections whose transactions only read (see `reading`)."""


def reading(engine: AsyncEngine) -> AsyncEngine:
    """`engine` (the same pool) for work that only reads. On SQLite its transactions start
    with a deferred BEGIN: a snapshot of the write-ahead log that another process's write
    transaction does not hold up; a write inside one would fail under contention."""
    return engine.execution_options(**{READING: True})


def _sqlite_on_begin(connection: Connection) -> None:
    # A transaction that may write takes the write lock when it starts: two concurrent
    # read-then-write transactions would otherwise deadlock on the lock upgrade and one would
    # fail at once with "database is locked". Savepoints also need the transaction to be
    # explicit. One that only reads takes no lock (WAL: readers and the writer never wait).
    reads = connection.get_execution_options().get(READING, False)
    connection.exec_driver_sql("BEGIN" if reads else "BEGIN IMMEDIATE")


def _in_transaction(driver_connection: Any) -> bool:
    """Whether the driver's connection is inside a transaction, without a round trip:
    aiosqlite asks SQLite, aiomysql reads the server status of the last reply."""
    if isinstance(driver_connection, aiomysql.Connection):
        return bool(driver_connection.get_transaction_status())
    return bool(driver_connection.in_transaction)


def _reset_when_open(
    dbapi_connection: Any, connection_record: ConnectionPoolEntry, reset_state: PoolResetState
) -> None:
    # The pool's own reset rolls back every connection handed back, also one whose session
    # has just committed or rolled back: a round trip (a thread hop on SQLite) per
    # transaction for nothing. This one rolls back only what is still open.
    if reset_state.terminate_only or reset_state.transaction_was_reset:
        return
    if _in_transaction(connection_record.driver_connection):
        dbapi_connection.rollback()


def create_engine(url: str | URL | None = None, **kwargs: Any) -> AsyncEngine:
    """An AsyncEngine for ``url`` (default: :func:`database_url`).

    SQLite: foreign keys are enforced on every connection (``PRAGMA foreign_keys=ON``), the
    journal is a write-ahead log (``journal_mode=WAL``) synced at checkpoints
    (``synchronous=NORMAL``, or FULL with ``QUESTLINE_SQLITE_SYNCHRONOUS=FULL``), a locked
    database is waited for up to 30 s (``busy_timeout``), and every transaction starts with
    ``BEGIN IMMEDIATE``; an in-memory database uses one shared connection. A connection handed
    back to the pool is rolled back only if it is still in a transaction. MySQL/MariaDB:
    ``charset=utf8mb4``, ``pool_pre_ping``, hourly connection recycling and READ COMMITTED
    isolation. Extra ``kwargs`` go to
    :func:`sqlalchemy.ext.asyncio.create_async_engine`.
    """
    parsed = parse_database_url(url)
    options: dict[str, Any] = {"pool_reset_on_return": None}  # see _reset_when_open
    synchronous = "NORMAL"
    if parsed.get_backend_name() == "sqlite":
        synchronous = sqlite_synchronous()
        if parsed.database in (None, "", ":memory:"):
            options["poolclass"] = StaticPool
        options["connect_args"] = {"timeout": 30}
        options["module"] = one_hop_dbapi()
    else:
        if "charset" not in parsed.query:
            parsed = parsed.update_query_dict({"charset": "utf8mb4"})
        options["pool_pre_ping"] = True
        options["pool_recycle"] = 3600
        # Each statement sees what has committed: a transaction that locks one learner after
        # another (a batch) must not read an older snapshot of the second learner.
        options["isolation_level"] = "READ COMMITTED"
    options.update(kwargs)
    _check_options(parsed)
    if parsed.get_backend_name() == "mysql":
        options.setdefault("async_creator", _mysql_connector(parsed))
    try:
        engine = create_async_engine(parsed, **options)
    except (ArgumentError, NoSuchModuleError, TypeError) as exc:
        raise DatabaseConfigError(
            f"cannot create a database engine for {safe_url(parsed)}: {first_line(exc)}"
        ) from None
    if options["pool_reset_on_return"] is None:
        event.listen(engine.sync_engine.pool, "reset", _reset_when_open)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas(synchronous))
        event.listen(engine.sync_engine, "begin", _sqlite_on_begin)
    return engine


def _mysql_connector(url: URL) -> Callable[[], Awaitable[aiomysql.Connection]]:
    """aiomysql's connect, bounded as a whole: its own `connect_timeout` (from the URL,
    default 10 s here) covers opening the socket but not the server's greeting, so a server
    that accepts and then says nothing held every connection attempt forever."""
    _, params = url.get_dialect()().create_connect_args(url)
    params.setdefault("connect_timeout", MYSQL_CONNECT_TIMEOUT)
    seconds = float(params["connect_timeout"])

    async def connect() -> aiomysql.Connection:
        try:
            async with asyncio.timeout(seconds):
                return await aiomysql.connect(**params)
        except TimeoutError:
            raise MySQLOperationalError(
                2003, f"Can't connect to MySQL server on {url.host!r} (no answer in {seconds:g} s)"
            ) from None

    return connect


def _check_options(url: URL) -> None:
    """Refuse query options (``?name=value``) the driver would ignore or fail to connect with."""
    dialect = url.get_dialect()()
    try:
        with warnings.catch_warnings():
            # SQLite drops the options it does not know with a warning; they are named below
            warnings.simplefilter("ignore", SAWarning)
            _, params = dialect.create_connect_args(url)
    except (ValueError, TypeError) as error:
        raise DatabaseConfigError(
            f"DATABASE_URL {safe_url(url)} has an option with a bad value: {first_line(error)}"
        ) from None
    if url.get_backend_name() == "mysql":
        accepted = inspect.signature(aiomysql.connect).parameters
        unknown = sorted(name for name in params if name not in accepted)
    elif "uri" in url.query:  # SQLite URI filenames pass every option on to SQLite
        unknown = []
    else:
        unknown = sorted(name for name in url.query if name not in params)
    if unknown:
        raise DatabaseConfigError(
            f"DATABASE_URL {safe_url(url)} has option(s) the {url.drivername} driver does not "
            f"accept: {', '.join(unknown)}"
        )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions bound to ``engine``; objects stay usable after commit (expire_on_commit=False)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def _without_password(text: str, password: object) -> str:
    """`text` with the password, where it stands as a word of its own, replaced by ``***``
    (a database named after it, e.g. questline_test for password questline, stays legible)."""
    if not password:
        return text
    return re.sub(rf"(?<!\w){re.escape(str(password))}(?!\w)", "***", text)


def first_line(exc: BaseException) -> str:
    """The first line of what the driver said (SQLAlchemy's text of an error goes on with
    the statement and a link): a database error fit for one log line."""
    message = str(getattr(exc, "orig", None) or exc).strip()
    return message.splitlines()[0] if message else type(exc).__name__


async def check_connection(engine: AsyncEngine) -> None:
    """Open one connection and run ``SELECT 1`` within QUESTLINE_DB_TIMEOUT; failures become
    a one-line DatabaseConfigError."""
    try:
        async with answering(database_timeout()), reading(engine).connect() as conn:
            await conn.execute(text("SELECT 1"))
    except (DBAPIError, OSError) as exc:
        if sqlite_locked(exc):  # connected; its first transaction waited for another writer
            raise DatabaseLocked(
                f"database {safe_url(engine.url)} is locked by another writer"
            ) from None
        reason = _without_password(first_line(exc), engine.url.password)
        away = isinstance(exc, OSError) or database_unreachable(exc)
        raise (DatabaseUnreachable if away else DatabaseConfigError)(
            f"cannot connect to database {safe_url(engine.url)}: {reason}"
        ) from None


# MySQL client and server codes that mean the server is away or full, not that a statement
# is wrong: can't connect (2002, 2003), server gone or lost (2006, 2013), too many
# connections (1040), shutting down (1053).
_UNREACHABLE_MYSQL_CODES = frozenset({1040, 1053, 2002, 2003, 2006, 2013})


def database_unreachable(error: BaseException) -> bool:
    """Whether `error` says the database could not be reached or serve us now (away, full,
    locked by another writer past the busy timeout, no free connection in the pool: a retry
    later may work), as opposed to a statement or a schema that is wrong."""
    if isinstance(error, PoolTimeout):
        return True
    if not isinstance(error, DBAPIError):
        return False
    code = _driver_code(error)
    return error.connection_invalidated or code in _UNREACHABLE_MYSQL_CODES or sqlite_locked(error)


# MySQL/MariaDB: deadlock found; lock wait timeout. Both mean "run the transaction again".
_RETRYABLE_MYSQL_CODES = frozenset({1213, 1205})


def retryable(error: BaseException) -> bool:
    """Whether the database asks for the failed transaction to run again from its start
    (a deadlock, a lock wait timeout, SQLite locked past the busy timeout)."""
    return isinstance(error, DBAPIError) and (
        _driver_code(error) in _RETRYABLE_MYSQL_CODES or sqlite_locked(error)
    )


def _driver_code(error: DBAPIError) -> object:
    """The driver's error code: MySQL's error number (the first argument); other drivers'
    first argument, which no code set here matches."""
    return (getattr(error.orig, "args", None) or (None,))[0]
