"""pytest-alembic wiring: the migrations run against ``migrations_database_url``.

Each migration test starts from an empty database. The engine is async with no pool:
pytest-alembic and env.py each run it in their own event loop (``asyncio.run``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool

from questline.engine.db import create_engine
from questline.engine.migrate import alembic_config as questline_alembic_config
from tests.conftest import reset_database


@pytest.fixture
def alembic_config() -> Config:
    return questline_alembic_config()


@pytest.fixture
async def alembic_engine(migrations_database_url: str) -> AsyncIterator[AsyncEngine]:
    await reset_database(migrations_database_url)
    engine = create_engine(migrations_database_url, poolclass=NullPool)
    try:
        yield engine
    finally:
        await engine.dispose()
