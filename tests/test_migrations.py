"""The seed's migration tests: upgrade/downgrade cycles on the migrations database.

No trace is left after a downgrade, data survives, the alembic CLI works, and pytest-alembic's
built-in checks pass. Each test starts from an empty database. pytest-alembic's engine is async
with no pool: pytest-alembic and env.py each run it in their own event loop.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from pytest_alembic.tests import (
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)
from sqlalchemy import insert, inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool

from questline.engine.db import create_engine, is_mysql, is_sqlite
from questline.engine.migrate import (
    MIGRATIONS_DIR,
    current_revision,
    downgrade_database,
    head_revision,
    upgrade_database,
)
from questline.engine.migrate import (
    alembic_config as questline_alembic_config,
)
from questline.engine.models import ActivityLog, Base
from tests.conftest import reset_database
from tests.db import schema_spec as spec

REPO = MIGRATIONS_DIR.parent

__all__ = [  # pytest-alembic's built-in checks, collected from this module
    "test_model_definitions_match_ddl",
    "test_single_head_revision",
    "test_up_down_consistency",
    "test_upgrade",
]


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


@pytest.fixture
async def url(migrations_database_url: str) -> str:
    await reset_database(migrations_database_url)
    return migrations_database_url


async def _run_sync(url: str, fn: Any) -> Any:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(fn)
    finally:
        await engine.dispose()


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _diff(connection: Connection) -> list:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return compare_metadata(context, Base.metadata)


CHAIN = (
    "0001",
    "0002",
    "0003",
    "0004",
    "0005",
    "0006",
    "0007",
    "0008",
    "0011",
    "0012",
    "0013",
    "0014",
    "0015",
    "0016",
    "0017",
    "0018",
    "0019",
    "0020",
)
"""Every revision, oldest first (numbers are taken when work starts, so some are skipped)."""
HEAD = CHAIN[-1]


def test_revision_ids() -> None:
    assert head_revision() == HEAD
    names = sorted(p.name for p in (MIGRATIONS_DIR / "versions").glob("*.py"))
    assert [name[:4] for name in names] == list(CHAIN)


async def test_downgrade_to_base_leaves_no_trace(url: str) -> None:
    await upgrade_database(url)
    assert await current_revision(url) == HEAD
    await downgrade_database(url, "base")
    assert await current_revision(url) is None
    assert await _run_sync(url, _tables) <= {"alembic_version"}


@pytest.mark.mysql_only  # the named lock is for MySQL; on SQLite the write lock orders them
async def test_two_processes_upgrading_at_once_both_succeed(url: str) -> None:
    """Two `questline db upgrade` started together (a deployment starting two servers): one
    migrates, the other waits for it and finds nothing left to do."""
    befores = await asyncio.gather(upgrade_database(url), upgrade_database(url))
    assert sorted(befores, key=str) == [HEAD, None]  # one found it empty, the other done
    assert await current_revision(url) == HEAD
    assert await _run_sync(url, _diff) == []


@pytest.mark.mysql_only
async def test_the_alembic_command_waits_for_a_questline_upgrade(url: str, tmp_path: Path) -> None:
    """`alembic upgrade head` (the documented command) beside `questline db upgrade`."""
    await asyncio.gather(upgrade_database(url), _alembic(url, tmp_path, "upgrade", "head"))
    assert await current_revision(url) == HEAD


async def test_upgrade_downgrade_upgrade_cycle(url: str) -> None:
    await upgrade_database(url)
    await downgrade_database(url, "base")
    await upgrade_database(url)
    assert await current_revision(url) == HEAD
    assert await _run_sync(url, _diff) == []
    for revision in reversed(CHAIN[:-1]):
        await downgrade_database(url, "-1")
        assert await current_revision(url) == revision
    await upgrade_database(url, f"+{len(CHAIN) - 1}")
    assert await current_revision(url) == HEAD
    assert await _run_sync(url, _diff) == []


async def test_0001_creates_exactly_the_seed_tables(url: str) -> None:
    await upgrade_database(url, "0001")

    def columns(connection: Connection) -> dict[str, set[str]]:
        inspector = inspect(connection)
        return {
            table: {c["name"] for c in inspector.get_columns(table)}
            for table in inspector.get_table_names()
            if table != "alembic_version"
        }

    assert await _run_sync(url, columns) == {
        table: set(cols) for table, cols in spec.SEED_COLUMNS.items()
    }


SEED_ROWS = [
    "INSERT INTO users (id, telegram_id, is_active, created_at, updated_at) "
    "VALUES (1, 77, 1, :t, :t)",
    "INSERT INTO modules (id, title, `order`, is_published, created_at, updated_at) "
    "VALUES (1, 'm', 1, 1, :t, :t)",
    "INSERT INTO lessons (id, module_id, title, `order`, is_published, created_at, updated_at) "
    "VALUES (1, 1, 'l', 1, 1, :t, :t)",
    "INSERT INTO user_progress (id, user_id, lesson_id, status, attempts, created_at, updated_at)"
    " VALUES (1, 1, 1, 'COMPLETED', 1, :t, :t)",
    "INSERT INTO achievements (id, type, title, points, created_at) "
    "VALUES (1, 'MILESTONE', 'a', 5, :t)",
    "INSERT INTO user_achievements (id, user_id, achievement_id, earned_at) VALUES (1, 1, 1, :t)",
    "INSERT INTO leaderboard_cache (id, user_id, `rank`, total_score, lessons_completed, "
    "achievements_count, updated_at) VALUES (1, 1, 1, 5, 1, 1, :t)",
    "INSERT INTO activity_log (id, user_id, activity_type, created_at) "
    "VALUES (1, 1, 'LESSON_COMPLETED', :t)",
]


def _quote(sql: str, connection: Connection) -> str:
    return sql if connection.dialect.name != "sqlite" else sql.replace("`", '"')


async def test_upgrades_and_downgrades_keep_existing_rows(url: str) -> None:
    await upgrade_database(url, "0001")
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            for sql in SEED_ROWS:
                await connection.execute(
                    text(_quote(sql, connection.sync_connection)), {"t": "2025-01-01 00:00:00"}
                )
        await upgrade_database(engine)
        async with engine.connect() as connection:
            for table in spec.SEED_COLUMNS:
                count = await connection.scalar(text(f"SELECT count(*) FROM {table}"))
                assert count == 1, table
            assert await connection.scalar(text("SELECT enabled FROM achievements")) == 1
            assert await connection.scalar(text("SELECT slug FROM modules")) is None
            counts = await connection.execute(
                text("SELECT board, period_start, score, learners FROM leaderboard_score_counts")
            )
            assert counts.all() == [("all", 0, 5, 1)]  # 0017 counted the existing board
            bands = await connection.execute(
                text("SELECT board, period_start, band, learners FROM leaderboard_score_bands")
            )
            assert bands.all() == [("all", 0, 5, 1)]  # 0018 summed the counts by band
            if is_sqlite(engine):
                assert await connection.scalar(text("PRAGMA foreign_keys")) == 1
        async with engine.connect() as connection:
            with pytest.raises(IntegrityError):
                await connection.execute(
                    text(
                        "INSERT INTO user_progress (user_id, lesson_id, status, attempts, "
                        "created_at, updated_at) VALUES (1, 999, 'COMPLETED', 0, :t, :t)"
                    ),
                    {"t": "2025-01-01 00:00:00"},
                )
        await downgrade_database(engine, "0001")
        async with engine.connect() as connection:
            for table in spec.SEED_COLUMNS:
                count = await connection.scalar(text(f"SELECT count(*) FROM {table}"))
                assert count == 1, table
    finally:
        await engine.dispose()


async def test_upgrade_on_shared_in_memory_connection_keeps_foreign_keys_on() -> None:
    engine = create_engine("sqlite+aiosqlite://")
    try:
        await upgrade_database(engine)
        async with engine.connect() as connection:
            assert await connection.scalar(text("PRAGMA foreign_keys")) == 1
            assert "users" in await connection.run_sync(_tables)
    finally:
        await engine.dispose()


async def _alembic(url: str, cwd: Path, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": url}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "alembic",
        "-c",
        str(REPO / "alembic.ini"),
        *args,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    decoded = output.decode()
    assert process.returncode == 0, decoded
    return decoded


async def test_alembic_cli_from_another_directory(url: str, tmp_path: Path) -> None:
    await _alembic(url, tmp_path, "upgrade", "head")
    assert "No new upgrade operations detected" in await _alembic(url, tmp_path, "check")
    history = await _alembic(url, tmp_path, "history")
    assert "<base> -> 0001" in history and f"{CHAIN[-2]} -> {HEAD} (head)" in history
    await _alembic(url, tmp_path, "downgrade", "-1")
    assert (await _alembic(url, tmp_path, "current")).strip().endswith(CHAIN[-2])
    assert os.listdir(tmp_path) == []  # nothing written to the working directory


# -- 0004: exact idempotency keys ------------------------------------------------------------

KEY_TIME = {"t": "2025-01-01 00:00:00"}


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
            KEY_TIME,
        )
        for key in ("k1", "ключ"):
            await connection.execute(
                text(
                    "INSERT INTO activity_log (user_id, activity_type, created_at, "
                    "idempotency_key) VALUES (1, 'LOGIN', :t, :key)"
                ),
                {**KEY_TIME, "key": key},
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
                    await connection.execute(statement, KEY_TIME)
        else:
            async with at_0003.begin() as connection:
                await connection.execute(statement, KEY_TIME)
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
