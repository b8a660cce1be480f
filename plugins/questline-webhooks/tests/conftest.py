"""Fixtures for questline-webhooks: a real database, an engine, a real receiver on 127.0.0.1.

``DATABASE_URL`` selects the database as in questline's own suite (unset: a temporary SQLite
file; ``mysql+aiomysql://…`` for MariaDB/MySQL). The engine loads installed plugins through
their entry points, so these tests run only with this distribution installed
(``pip install ./plugins/questline-webhooks``).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from questline_webhooks import store
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine
from support import SAMPLE_COURSE, Receiver

from questline.engine import Engine
from questline.engine.db import create_engine, is_mysql
from questline.engine.migrate import upgrade_database
from questline.engine.models import Base
from questline.plugins.manager import build_plugin_manager
from questline.rules.loading import CATALOG_DIR


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "mysql_only: runs only on a MySQL/MariaDB DATABASE_URL")


def pytest_runtest_setup(item: pytest.Item) -> None:
    url = os.environ.get("DATABASE_URL", "").strip()
    if item.get_closest_marker("mysql_only") is not None and not (url and is_mysql(url)):
        pytest.skip("needs DATABASE_URL pointing at MySQL/MariaDB")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        return url
    return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'webhooks_test.db'}"


@pytest.fixture(scope="session")
async def async_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await upgrade_database(engine)
    await store.ensure_schema(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def db(async_engine: AsyncEngine) -> AsyncEngine:
    async with async_engine.begin() as connection:
        for table in reversed(store.metadata.sorted_tables + Base.metadata.sorted_tables):
            await connection.execute(delete(table))
    return async_engine


@pytest.fixture
def cli_env(database_url: str) -> dict[str, str]:
    """The environment of a `questline` subprocess on the test database."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "QUESTLINE_DISABLE_PLUGINS": "telegram",
        "COLUMNS": "200",
    }


@pytest.fixture
async def engine(db: AsyncEngine) -> AsyncIterator[Engine]:
    """An engine with every installed plugin but the Telegram bot, course and rules loaded."""
    engine = Engine(db, plugin_manager=build_plugin_manager(disabled={"telegram"}))
    await engine.load_content(SAMPLE_COURSE)
    await engine.load_rules([CATALOG_DIR])
    await engine.startup()
    yield engine
    await engine.shutdown()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    await receiver.start()
    yield receiver
    await receiver.stop()
