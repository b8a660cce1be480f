"""The database goes away under a running outbox dispatcher: it says so once, not with a
traceback every pass, and says when it is back. MariaDB only (SQLite cannot go away)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine import Engine
from questline.engine.dispatcher import DispatchSettings
from tests.support.proxy import CuttableProxy, through

pytestmark = pytest.mark.mysql_only


async def test_an_unreachable_database_is_logged_once_per_outage(
    db: AsyncEngine, database_url: str, proxy: CuttableProxy, caplog: pytest.LogCaptureFixture
) -> None:
    engine = Engine(through(database_url, proxy))
    caplog.set_level(logging.WARNING, logger="questline.engine.dispatcher")
    engine.start_dispatcher(DispatchSettings(poll_seconds=0.1, lease=timedelta(seconds=5)))
    try:
        await asyncio.sleep(0.3)
        proxy.cut()
        await asyncio.sleep(1.5)  # about 15 passes while the database is away
        proxy.restore()
        await asyncio.sleep(1.0)
    finally:
        await engine.shutdown()
    records = [r for r in caplog.records if r.name == "questline.engine.dispatcher"]
    messages = [r.getMessage() for r in records]
    assert sum("the database is unreachable" in m for m in messages) == 1, messages
    assert sum("the database is back" in m for m in messages) == 1, messages
    assert not [r for r in records if r.levelno >= logging.ERROR or r.exc_info]
