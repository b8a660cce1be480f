"""A database that stops answering (a hung server, a network that drops everything: a proxy
that forwards nothing) fails the work within QUESTLINE_DB_TIMEOUT, as a lost connection
does, instead of holding it forever; once it answers again, work goes on. MariaDB only
(SQLite cannot stop answering)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine import Engine, Event, UserProfile
from questline.engine.db import DatabaseConfigError, check_connection, create_engine
from questline.plugins.manager import build_plugin_manager
from questline.rules.vocabulary import ActivityType
from tests.engine.conftest import row_counts
from tests.support.proxy import CuttableProxy, through

pytestmark = pytest.mark.mysql_only


async def test_work_on_a_silent_database_fails_in_time_and_resumes_after(
    db: AsyncEngine, database_url: str, proxy: CuttableProxy
) -> None:
    engine = Engine(
        through(database_url, proxy),
        plugin_manager=build_plugin_manager(load_entry_points=False),
        timeout=2,
    )
    try:
        learner = await engine.register_user(UserProfile(telegram_id=77, first_name="Ada"))
        before = await row_counts(db)
        proxy.freeze()
        started = time.monotonic()
        with pytest.raises(OperationalError, match=r"no answer from the database within 2 s"):
            await engine.record(Event(type=ActivityType.LOGIN, user_id=learner.id))
        assert time.monotonic() - started < 30  # bounded, where it waited forever
        with pytest.raises(OperationalError, match="within 2 s"):
            await engine.top(5)
        proxy.restore()
        assert await row_counts(db) == before
        result = await engine.record(Event(type=ActivityType.LOGIN, user_id=learner.id))
        assert not result.replayed
    finally:
        proxy.restore()
        await engine.shutdown()


async def test_a_server_that_accepts_and_never_greets_is_named(
    database_url: str, proxy: CuttableProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUESTLINE_DB_TIMEOUT", "2")
    proxy.freeze()
    engine = create_engine(through(database_url, proxy))
    try:
        with pytest.raises(DatabaseConfigError, match=r"cannot connect to database .*within 2 s"):
            await check_connection(engine)
    finally:
        await engine.dispose()
