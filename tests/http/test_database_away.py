"""The database goes away under a running API, then comes back: each request in between gets
503 database-unavailable with Retry-After and writes nothing, and the next one after it comes
back works, with no restart. MariaDB only: SQLite is a local file that cannot go away."""

from __future__ import annotations

import asyncio
import time

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


async def test_the_api_answers_503_while_the_database_is_away_then_recovers(
    db: AsyncEngine, database_url: str, proxy: CuttableProxy
) -> None:
    setup = await make_engine(db)
    await setup.register_user(UserProfile(telegram_id=4243, first_name="Ada"))
    reader = (await setup.create_api_key("reader", ["read"])).secret
    await setup.shutdown()
    engine = Engine(through(database_url, proxy))
    await engine.startup()
    app = create_app(engine)
    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url=BASE) as client:
            path = "/v1/learners/4243"
            assert (await client.get(path, headers=bearer(reader))).status_code == 200
            proxy.cut()
            away = await client.get(path, headers=bearer(reader))
            assert away.status_code == 503
            assert away.headers["retry-after"] == "5"
            assert away.headers["content-type"] == "application/problem+json"
            assert away.json()["type"] == "urn:questline:problem:database-unavailable"
            proxy.restore()
            back = await client.get(path, headers=bearer(reader))
            assert back.status_code == 200 and back.json()["first_name"] == "Ada"
    finally:
        await engine.shutdown()


async def test_a_database_that_stops_answering_gets_503_in_time_not_a_hang(
    db: AsyncEngine, database_url: str, proxy: CuttableProxy
) -> None:
    setup = await make_engine(db)
    await setup.register_user(UserProfile(telegram_id=4244, first_name="Ada"))
    reader = (await setup.create_api_key("reader", ["read"])).secret
    await setup.shutdown()
    engine = Engine(through(database_url, proxy))
    await engine.startup()
    app = create_app(engine, HttpSettings(request_timeout=1))
    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url=BASE) as client:
            path = "/v1/learners/4244"
            assert (await client.get(path, headers=bearer(reader))).status_code == 200
            proxy.freeze()  # connections stay open; nothing comes back
            started = time.monotonic()
            away = await asyncio.wait_for(client.get(path, headers=bearer(reader)), 10)
            assert time.monotonic() - started < 5
            assert away.status_code == 503 and away.headers["retry-after"] == "5"
            assert away.json()["type"] == "urn:questline:problem:database-unavailable"
            assert "no answer within 1 s" in away.json()["detail"]
            ready = await asyncio.wait_for(client.get("/v1/ready"), 10)
            assert ready.status_code == 503
            assert ready.json()["type"] == "urn:questline:problem:not-ready"
            proxy.restore()
            back = await client.get(path, headers=bearer(reader))
            assert back.status_code == 200 and back.json()["first_name"] == "Ada"
            assert (await client.get("/v1/ready")).status_code == 200
    finally:
        await engine.shutdown()
