"""Alembic environment for questline (async).

Where the database comes from, in order:

1. ``config.attributes["connection"]``: a sync ``Connection`` (what
   ``questline.engine.migrate`` passes from ``AsyncConnection.run_sync``), a sync ``Engine``, or
   an ``AsyncEngine`` (what pytest-alembic passes when its ``alembic_engine`` fixture is async);
2. the ``sqlalchemy.url`` main option, when a caller set one programmatically;
3. ``DATABASE_URL`` through :func:`questline.engine.db.database_url` (the ``alembic`` CLI).

SQLite runs with ``render_as_batch`` (ALTERs become copy-and-move) and with foreign keys off
while the tables are rebuilt, then checked with ``PRAGMA foreign_key_check``.
"""

from __future__ import annotations

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine.db import create_engine, database_url
from questline.engine.migrate import migrating_alone
from questline.engine.models import Base

config = context.config

if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or database_url()


def _include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Compare only questline's own tables: plugins may keep tables of theirs in the database."""
    return type_ != "table" or name in target_metadata.tables


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_name=_include_name,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        compare_server_default=True,
    )


def do_run_migrations(connection: Connection) -> None:
    """Run the migrations on a sync connection (inside AsyncConnection.run_sync or directly).

    A connection that is not in a transaction is ours to manage: alembic commits each step,
    and on SQLite foreign keys are switched off for the rebuilds (the pragma only works
    outside a transaction), checked afterwards, and switched back on. A connection already
    in a transaction belongs to the caller, who commits (and handles the pragma).
    """
    if connection.in_transaction():
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return

    with migrating_alone(connection):
        _run_alone(connection)


def _run_alone(connection: Connection) -> None:
    """The migrations, each step committed; on SQLite with foreign keys off meanwhile."""
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        _sqlite_pragma(connection, "PRAGMA foreign_keys=OFF")
    try:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        if connection.in_transaction():
            connection.commit()
        if sqlite:
            problems = _sqlite_pragma(connection, "PRAGMA foreign_key_check")
            if problems:
                raise RuntimeError(f"foreign key violations after migrating: {problems}")
    finally:
        if connection.in_transaction():
            connection.rollback()
        if sqlite:
            _sqlite_pragma(connection, "PRAGMA foreign_keys=ON")


def _sqlite_pragma(connection: Connection, sql: str) -> list:
    """Run a pragma on the DBAPI connection, outside any transaction SQLAlchemy would begin
    (``PRAGMA foreign_keys`` is silently ignored inside a transaction)."""
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql)
        return list(cursor.fetchall())
    finally:
        cursor.close()


async def run_async_migrations(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.run_sync(do_run_migrations)


async def run_with_new_engine(url: str) -> None:
    engine = create_engine(url)
    try:
        await run_async_migrations(engine)
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is None:
        asyncio.run(run_with_new_engine(_url()))
    elif isinstance(connectable, AsyncEngine):
        asyncio.run(run_async_migrations(connectable))
    elif isinstance(connectable, Engine):
        with connectable.connect() as connection:
            do_run_migrations(connection)
    else:
        do_run_migrations(connectable)


def run_migrations_offline() -> None:
    url = _url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
