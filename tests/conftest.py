"""Shared fixtures: one database per test session, emptied before every DB test.

``DATABASE_URL`` selects the database, as in production: unset, the suite runs on a SQLite
file in a temporary directory; set to ``mysql+aiomysql://…/questline_test`` it runs on
MySQL/MariaDB. Fixtures other tests rely on:

- ``database_url`` (session): the URL under test.
- ``async_engine`` (session): an AsyncEngine for it, migrated to head once (on MySQL every
  leftover table is dropped first).
- ``db`` (function): ``async_engine`` after deleting every row of every table.
- ``session`` (function): an AsyncSession on ``db``.
- ``migrations_database_url`` (session): a separate database for migration up/down tests
  (SQLite: another temporary file; MySQL: the test database's name with ``_migrations``
  appended, e.g. ``questline_test_migrations``).
- ``proxy`` (function): a TCP proxy in front of the database server that a test can cut
  and restore (``tests/support/proxy.py``).
- marker ``mysql_only``: the test is skipped unless the URL is MySQL/MariaDB.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from hypothesis import settings
from sqlalchemy import delete
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from questline.engine.db import create_engine, is_mysql, session_factory
from questline.engine.migrate import drop_all_tables, upgrade_database
from questline.engine.models import Base
from tests.support.proxy import CuttableProxy

# No property test has a time limit per example: how long one takes depends on the machine and
# what else runs on it (a deadline failed drawn-rule examples under load), never on the code.
settings.register_profile("questline", deadline=None)
settings.load_profile("questline")


def _env_url() -> str | None:
    return os.environ.get("DATABASE_URL", "").strip() or None


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("mysql_only") is not None:
        url = _env_url()
        if url is None or not is_mysql(url):
            pytest.skip("needs DATABASE_URL pointing at MySQL/MariaDB")


async def reset_database(url: str) -> None:
    """Leave the database at ``url`` without any table (not even alembic_version)."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(drop_all_tables)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = _env_url()
    if url is not None:
        return url
    path = tmp_path_factory.mktemp("db") / "questline_test.db"
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(scope="session")
def migrations_database_url(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> str:
    if is_mysql(database_url):
        main = make_url(database_url)
        url = main.set(database=f"{main.database}_migrations")
        return url.render_as_string(hide_password=False)
    path = tmp_path_factory.mktemp("migrations") / "questline_migrations.db"
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(scope="session")
async def async_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    if is_mysql(database_url):
        await reset_database(database_url)
    engine = create_engine(database_url)
    try:
        await upgrade_database(engine)
        yield engine
    finally:
        await engine.dispose()


async def _delete_all_rows(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(delete(table))


@pytest.fixture
async def db(async_engine: AsyncEngine) -> AsyncEngine:
    await _delete_all_rows(async_engine)
    return async_engine


@pytest.fixture
async def session(db: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with session_factory(db)() as session:
        yield session


@pytest.fixture
async def proxy(database_url: str) -> AsyncIterator[CuttableProxy]:
    """A proxy in front of the test database's server."""
    url = make_url(database_url)
    running = CuttableProxy(url.host or "127.0.0.1", url.port or 3306)
    await running.start()
    yield running
    await running.stop()
