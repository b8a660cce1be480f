"""What every command shares: the plugin manager, engines, consoles and one-line errors."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Coroutine, Iterator
from contextlib import asynccontextmanager, contextmanager
from functools import cache
from typing import Any, TypeVar

import click
from rich.console import Console
from sqlalchemy.exc import DBAPIError

from questline.engine import Engine
from questline.engine.db import (
    DatabaseConfigError,
    DatabaseLocked,
    answering,
    check_connection,
    missing_sqlite_file,
    safe_url,
    sqlite_locked,
)
from questline.engine.errors import QuestlineError
from questline.engine.limits import BIGINT_MAX
from questline.engine.migrate import current_revision, head_revision, upgrade_database
from questline.plain_errors import one_line
from questline.plugins import PluginError
from questline.plugins.manager import PluginManager, build_plugin_manager

T = TypeVar("T")
TELEGRAM_ID = click.IntRange(1, BIGINT_MAX)
"""A Telegram id argument: what ``users.telegram_id`` (BIGINT) holds."""
TIMEZONE_ENV = "QUESTLINE_TIMEZONE"
# For commands that read no data (validation, plugin listing): never connected, never touched.
OFFLINE_DATABASE = "sqlite+aiosqlite://"


@cache
def plugin_manager() -> PluginManager:
    """The installed plugins, loaded once per process and shared by every engine."""
    return build_plugin_manager()


def console(*, stderr: bool = False) -> Console:
    """A rich console on the current stdout, or stderr (looked up at print time)."""
    return Console(highlight=False, stderr=stderr)


def database_message(error: DBAPIError) -> str:
    """A database error as one line: `database error: <the driver's first line>`."""
    if sqlite_locked(error):
        return "database error: the database is locked by another writer"
    reason = one_line(error.orig) if error.orig is not None else one_line(error)
    return f"database error: {reason}"


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn questline's and the database's errors into one line on stderr and exit code 1."""
    try:
        yield
    except (QuestlineError, DatabaseConfigError, PluginError) as error:
        raise click.ClickException(one_line(error)) from None
    except DBAPIError as error:
        raise click.ClickException(database_message(error)) from None


def run(work: Coroutine[Any, Any, T]) -> T:
    """Run a command's async work, reporting errors in one line."""
    with reported_errors():
        return asyncio.run(work)


async def ensure_migrated(engine: Engine) -> None:
    """Fail with one line unless the engine's database answers and is at the newest revision.

    A SQLite file that does not exist is not connected to, which would create it empty."""
    if missing_sqlite_file(engine.db.url):
        state = "not migrated (its file does not exist)"
    else:
        try:
            await check_connection(engine.db)
        except DatabaseLocked as error:
            raise DatabaseLocked(
                f"{error}; nothing was written, and running the command again once it is done "
                "is safe"
            ) from None
        async with answering(engine.sessions.seconds):
            current, head = await current_revision(engine.db), head_revision()
        if current == head:
            return
        state = "not migrated" if current is None else f"at revision {current}, not {head}"
    raise DatabaseConfigError(
        f"database {safe_url(engine.db.url)} is {state}; run `questline db upgrade`"
    )


def make_engine(url: str | None = None) -> Engine:
    """An engine on `url` (default: DATABASE_URL) in QUESTLINE_TIMEZONE, with the plugins."""
    return Engine(
        url, timezone=os.environ.get(TIMEZONE_ENV, "UTC"), plugin_manager=plugin_manager()
    )


@contextmanager
def offline_engine() -> Iterator[Engine]:
    """An engine for work that reads no data (its facts, operators and plugins)."""
    with reported_errors():
        engine = make_engine(OFFLINE_DATABASE)
    try:
        yield engine
    finally:
        run(engine.shutdown())


@asynccontextmanager
async def open_engine(url: str | None = None, *, migrate: bool = False) -> AsyncIterator[Engine]:
    """A started engine on a migrated database (migrated first if `migrate`), shut down on exit."""
    engine = make_engine(url)
    try:
        if migrate:
            await upgrade_database(engine.db)
        await ensure_migrated(engine)
        await engine.startup()
        yield engine
    finally:
        await engine.shutdown()
