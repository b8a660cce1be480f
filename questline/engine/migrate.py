"""Run the Alembic migrations from code (the CLI's ``db upgrade``, the tests, ``demo``).

The migration scripts live in the repository's ``migrations/`` directory, next to the
``questline`` package; :data:`MIGRATIONS_DIR` is resolved from this file, so the functions
here work from any working directory when questline is installed in editable mode (or run
from a checkout). ``alembic.ini`` points at the same directory for the ``alembic`` CLI.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine.db import DatabaseConfigError, create_engine, reading

__all__ = [
    "MIGRATIONS_DIR",
    "alembic_config",
    "current_revision",
    "downgrade_database",
    "drop_all_tables",
    "head_revision",
    "migrating_alone",
    "upgrade_database",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent.parent / "migrations"


def drop_all_tables(connection: Connection) -> None:
    """Drop every table in the connected database (reflected, so leftovers go too)."""
    mysql = connection.dialect.name in ("mysql", "mariadb")
    if mysql:
        connection.exec_driver_sql("SET FOREIGN_KEY_CHECKS=0")
    try:
        reflected = MetaData()
        reflected.reflect(connection)
        reflected.drop_all(connection)
    finally:
        if mysql:
            connection.exec_driver_sql("SET FOREIGN_KEY_CHECKS=1")


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic Config for questline's migrations, optionally bound to a sync connection."""
    if not (MIGRATIONS_DIR / "env.py").is_file():
        raise DatabaseConfigError(
            f"questline's migrations were not found at {MIGRATIONS_DIR}; "
            "install questline from a source checkout (pip install -e .)"
        )
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["configure_logger"] = False
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    """The newest revision id in the migration scripts."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def _run(
    engine_or_url: AsyncEngine | URL | str | None, fn, *args, reads_only: bool = False
) -> object:
    owned = not isinstance(engine_or_url, AsyncEngine)
    engine = create_engine(engine_or_url) if owned else engine_or_url
    try:
        # A plain connect() (not begin()): env.py then manages the transactions itself and,
        # on SQLite, switches foreign keys off around the table rebuilds.
        async with (reading(engine) if reads_only else engine).connect() as connection:
            return await connection.run_sync(fn, *args)
    finally:
        if owned:
            await engine.dispose()


MIGRATION_LOCK = "questline.migrations"
LOCK_WAIT_SECONDS = 600
_HOLDING = "questline_migration_lock"


@contextmanager
def migrating_alone(connection: Connection) -> Iterator[None]:
    """One migrating process at a time on MySQL/MariaDB, by a named lock: their DDL commits
    as it goes, so two upgrades (`questline db upgrade`, `alembic upgrade head`) would both
    create the same table and one would fail. SQLite's write lock orders them there. Taken
    once per connection (env.py takes it too, for the alembic command)."""
    if connection.dialect.name not in ("mysql", "mariadb") or connection.info.get(_HOLDING):
        yield
        return
    taken = connection.exec_driver_sql(
        f"SELECT GET_LOCK('{MIGRATION_LOCK}', {LOCK_WAIT_SECONDS})"
    ).scalar()
    connection.commit()  # the lock belongs to the session, not the transaction
    if taken != 1:
        raise DatabaseConfigError(
            f"another process has been migrating the database for {LOCK_WAIT_SECONDS} s; "
            "run the command again once it is done"
        )
    connection.info[_HOLDING] = True
    try:
        yield
    finally:
        del connection.info[_HOLDING]
        connection.exec_driver_sql(f"SELECT RELEASE_LOCK('{MIGRATION_LOCK}')")
        connection.commit()


def _upgrade(connection: Connection, revision: str) -> str | None:
    with migrating_alone(connection):
        before = _current(connection)
        connection.commit()  # env.py runs the migrations in transactions of its own
        command.upgrade(alembic_config(connection), revision)
        return before


def _downgrade(connection: Connection, revision: str) -> None:
    with migrating_alone(connection):
        command.downgrade(alembic_config(connection), revision)


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def upgrade_database(
    engine_or_url: AsyncEngine | URL | str | None = None, revision: str = "head"
) -> str | None:
    """Migrate the database up to ``revision`` (default: head); returns the revision it was
    at (read once no other process migrates it), None for an empty database.

    ``engine_or_url``: an AsyncEngine (left open), a URL (an engine is created and disposed),
    or None for ``DATABASE_URL``.
    """
    return await _run(engine_or_url, _upgrade, revision)  # type: ignore[return-value]


async def downgrade_database(engine_or_url: AsyncEngine | URL | str | None, revision: str) -> None:
    """Migrate the database down to ``revision`` (e.g. ``"base"`` or ``"-1"``)."""
    await _run(engine_or_url, _downgrade, revision)


async def current_revision(engine_or_url: AsyncEngine | URL | str | None = None) -> str | None:
    """The revision the database is at, or None for an unmigrated database."""
    return await _run(engine_or_url, _current, reads_only=True)  # type: ignore[return-value]
