"""The database goes away under a running API, then comes back: each request in between gets
503 database-unavailable with Retry-After and writes nothing, and the next one after it comes
back works, with no restart. MariaDB only: SQLite is a local file that cannot go away."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.adapters.http.app import create_app
from questline.adapters.http.settings import HttpSettings
from questline.engine import Engine, UserProfile
from tests.engine.conftest import make_engine
from tests.http.conftest import BASE, bearer
from tests.support.proxy import CuttableProxy, through

pytestmark = pytest.mark.mysql_only


@asynccontextmanager
async def api_behind(
    db: AsyncEngine,
    database_url: str,
    proxy: CuttableProxy,
    telegram_id: int,
    settings: HttpSettings | None = None,
) -> AsyncIterator[tuple[AsyncClient, dict[str, str]]]:
    """A client of an API whose engine reaches the database through `proxy`, and a reader's
    key; learner `telegram_id` (Ada) is registered."""
    setup = await make_engine(db)
    await setup.register_user(UserProfile(telegram_id=telegram_id, first_name="Ada"))
    reader = (await setup.create_api_key("reader", ["read"])).secret
    await setup.shutdown()
    engine = Engine(through(database_url, proxy))
    await engine.startup()
    try:
        transport = ASGITransport(app=create_app(engine, settings))
        async with AsyncClient(transport=transport, base_url=BASE) as client:
            yield client, bearer(reader)
    finally:
        await engine.shutdown()


async def test_the_api_answers_503_while_the_database_is_away_then_recovers(
    db: AsyncEngine, database_url: str, proxy: CuttableProxy, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="questline.adapters.http")
    async with api_behind(db, database_url, proxy, 4243) as (client, reader):
        path = "/v1/learners/4243"
        assert (await client.get(path, headers=reader)).status_code == 200
        proxy.cut()
        away = await client.get(path, headers=reader)
        assert away.status_code == 503
        assert away.headers["retry-after"] == "5"
        assert away.headers["content-type"] == "application/problem+json"
        assert away.json()["type"] == "urn:questline:problem:database-unavailable"
        said = [record.getMessage() for record in caplog.records]
        assert said and all("\n" not in line for line in said), said  # one line each
        proxy.restore()
        back = await client.get(path, headers=reader)
        assert back.status_code == 200 and back.json()["first_name"] == "Ada"


async def test_a_database_that_stops_answering_gets_503_in_time_not_a_hang(
    db: AsyncEngine, database_url: str, proxy: CuttableProxy
) -> None:
    settings = HttpSettings(request_timeout=1)
    async with api_behind(db, database_url, proxy, 4244, settings) as (client, reader):
        path = "/v1/learners/4244"
        assert (await client.get(path, headers=reader)).status_code == 200
        proxy.freeze()  # connections stay open; nothing comes back
        started = time.monotonic()
        away = await asyncio.wait_for(client.get(path, headers=reader), 10)
        assert time.monotonic() - started < 5
        assert away.status_code == 503 and away.headers["retry-after"] == "5"
        assert away.json()["type"] == "urn:questline:problem:database-unavailable"
        assert "no answer within 1 s" in away.json()["detail"]
        ready = await asyncio.wait_for(client.get("/v1/ready"), 10)
        assert ready.status_code == 503
        assert ready.json()["type"] == "urn:questline:problem:not-ready"
        proxy.restore()
        back = await client.get(path, headers=reader)
        assert back.status_code == 200 and back.json()["first_name"] == "Ada"
        assert (await client.get("/v1/ready")).status_code == 200
