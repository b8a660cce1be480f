"""Migration 0004: idempotency keys written before it keep their bytes and become exact."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine.db import create_engine, is_mysql
from questline.engine.migrate import current_revision, downgrade_database, upgrade_database
from questline.engine.models import ActivityLog
from tests.conftest import reset_database

T = {"t": "2025-01-01 00:00:00"}


@pytest.fixture
async def at_0003(migrations_database_url: str) -> AsyncEngine:
    """The migrations database at 0003 with one learner and the keys "k1" and "ключ"."""
    await reset_database(migrations_database_url)
    await upgrade_database(migrations_database_url, "0003")
    engine = create_engine(migrations_database_url)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO users (id, telegram_id, is_active, created_at, updated_at) "
                "VALUES (1, 77, 1, :t, :t)"
            ),
            T,
        )
        for key in ("k1", "ключ"):
            await connection.execute(
                text(
                    "INSERT INTO activity_log (user_id, activity_type, created_at, "
                    "idempotency_key) VALUES (1, 'LOGIN', :t, :key)"
                ),
                {**T, "key": key},
            )
    return engine


async def _add_key(engine: AsyncEngine, key: str) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            insert(ActivityLog).values(user_id=1, activity_type="LOGIN", idempotency_key=key)
        )


async def test_before_0004_mysql_took_a_trailing_space_for_the_same_key(
    at_0003: AsyncEngine,
) -> None:
    """The defect itself, on the old column: SQLite told the keys apart, MySQL/MariaDB did not."""
    try:
        statement = text(
            "INSERT INTO activity_log (user_id, activity_type, created_at, idempotency_key) "
            "VALUES (1, 'LOGIN', :t, 'k1 ')"
        )
        if is_mysql(at_0003):
            with pytest.raises(IntegrityError, match="Duplicate entry"):
                async with at_0003.begin() as connection:
                    await connection.execute(statement, T)
        else:
            async with at_0003.begin() as connection:
                await connection.execute(statement, T)
    finally:
        await at_0003.dispose()


async def test_0004_keeps_the_keys_and_makes_them_exact(at_0003: AsyncEngine) -> None:
    try:
        await upgrade_database(at_0003, "0004")
        async with at_0003.connect() as connection:
            keys = await connection.scalars(
                select(ActivityLog.idempotency_key).order_by(ActivityLog.id)
            )
            assert list(keys) == ["k1", "ключ"]
            found = await connection.scalar(
                select(ActivityLog.id).where(ActivityLog.idempotency_key == "ключ")
            )
            assert found is not None
        await _add_key(at_0003, "k1 ")
        with pytest.raises(IntegrityError, match=r"(?i)duplicate|unique"):
            await _add_key(at_0003, "k1")
        # back to 0003, the old collation cannot hold "k1" and "k1 " for one learner
        if is_mysql(at_0003):
            with pytest.raises(DBAPIError):
                await downgrade_database(at_0003, "0003")
            assert await current_revision(at_0003) == "0004"
    finally:
        await at_0003.dispose()
