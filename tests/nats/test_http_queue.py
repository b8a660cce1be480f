"""The HTTP API with QUESTLINE_NATS_URL: POST /v1/events (and :batch) queues to JetStream
(202 after the ack), a repeat is a duplicate, a worker records it, and a NATS that does not
answer gives 503 not-queued (never a silently dropped event)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.adapters.http.app import create_app
from questline.adapters.http.keys import KeyCheck
from questline.adapters.http.settings import HttpSettings
from questline.adapters.nats.publisher import Publisher
from questline.adapters.nats.settings import NatsSettings
from questline.engine import Engine, UserProfile
from tests.engine.conftest import make_engine
from tests.http.conftest import BASE, assert_problem, bearer
from tests.nats.conftest import eventually
from tests.nats.helpers import drained, workers
from tests.nats.scenario import recorded_events
from tests.support.proxy import CuttableProxy, through

EVENT = {"type": "LOGIN", "telegram_id": 4242, "occurred_at": "2026-03-02T09:00:00+00:00"}


@dataclass
class Api:
    client: AsyncClient
    writer: str
    publisher: Publisher


@pytest.fixture
async def api(db: AsyncEngine, settings: NatsSettings) -> AsyncIterator[Api]:
    """The API queueing to NATS, with learner 4242 and a key allowed to write events."""
    engine = await make_engine(db)
    await engine.register_user(UserProfile(telegram_id=4242, first_name="Ada"))
    writer = (await engine.create_api_key("writer", ["events:write"])).secret
    publisher = await Publisher.open(settings)
    app = create_app(engine, publisher=publisher)
    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url=BASE) as client:
            yield Api(client, writer, publisher)
    finally:
        await publisher.close()
        await engine.shutdown()


async def test_events_are_queued_then_recorded_by_a_worker(
    api: Api, database_url: str, settings: NatsSettings
) -> None:
    client, writer = api.client, api.writer
    headers = {**bearer(writer), "Idempotency-Key": "login-1"}
    first = await client.post("/v1/events", json=EVENT, headers=headers)
    assert first.status_code == 202, first.text
    body = first.json()
    assert body == {
        "idempotency_key": "login-1",
        "stream": settings.stream,
        "sequence": body["sequence"],
        "duplicate": False,
    }
    again = await client.post("/v1/events", json=EVENT, headers=headers)
    assert again.status_code == 202
    assert again.json() == {**body, "duplicate": True}
    unkeyed = await client.post("/v1/events", json=EVENT, headers=bearer(writer))
    assert unkeyed.json()["idempotency_key"].startswith("nats-")
    assert await recorded_events(database_url) == 0  # queued, not recorded

    async with workers(database_url, settings, 1):
        await eventually(lambda: drained(settings), "the queued events recorded")
    assert await recorded_events(database_url) == 2

    await api.publisher.close()  # NATS unreachable from now on
    refused = await client.post("/v1/events", json=EVENT, headers=bearer(writer))
    body = assert_problem(refused, 503, "not-queued")
    assert body["detail"].startswith("NATS did not accept the event: ")


async def test_a_batch_is_queued_in_order_and_recorded_by_a_worker(
    api: Api, database_url: str, settings: NatsSettings
) -> None:
    client = api.client
    logins = [{**EVENT, "occurred_at": f"2026-03-0{day}T09:00:00+00:00"} for day in (2, 3, 4)]
    headers = {**bearer(api.writer), "Idempotency-Key": "logins"}
    first = await client.post("/v1/events:batch", json={"events": logins}, headers=headers)
    assert first.status_code == 202, first.text
    queued = first.json()["queued"]
    assert [item["idempotency_key"] for item in queued] == ["logins:0", "logins:1", "logins:2"]
    sequences = [item["sequence"] for item in queued]
    assert sequences == sorted(sequences) and not any(item["duplicate"] for item in queued)
    again = await client.post("/v1/events:batch", json={"events": logins}, headers=headers)
    assert [item["duplicate"] for item in again.json()["queued"]] == [True] * 3

    async with workers(database_url, settings, 1):
        await eventually(lambda: drained(settings), "the queued batch recorded")
    assert await recorded_events(database_url) == 3

    await api.publisher.close()
    refused = await client.post("/v1/events:batch", json={"events": logins}, headers=headers)
    body = assert_problem(refused, 503, "not-queued")
    assert body["detail"].startswith("NATS did not accept the events: ")


@pytest.mark.mysql_only
async def test_events_are_queued_while_the_database_is_away(
    db: AsyncEngine,
    database_url: str,
    settings: NatsSettings,
    proxy: CuttableProxy,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The key check needs the database; a key it confirmed lately is still admitted while
    the database is away or does not answer, so queueing does not wait for the database."""
    setup = await make_engine(db)
    await setup.register_user(UserProfile(telegram_id=4242, first_name="Ada"))
    writer = (await setup.create_api_key("writer", ["events:write"])).secret
    unseen = (await setup.create_api_key("unseen", ["events:write"])).secret
    await setup.shutdown()
    engine = Engine(through(database_url, proxy))
    await engine.startup()
    publisher = await Publisher.open(settings)
    clock = [0.0]
    app = create_app(engine, HttpSettings(request_timeout=10), publisher=publisher)
    app.state.keys = KeyCheck(engine, trust=60, patience=1, clock=lambda: clock[0])
    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url=BASE) as client:

            async def post(key: str, idempotency_key: str) -> Response:
                headers = {**bearer(key), "Idempotency-Key": idempotency_key}
                return await client.post("/v1/events", json=EVENT, headers=headers)

            assert (await post(writer, "before")).status_code == 202  # the key is confirmed
            for away in (proxy.freeze, proxy.cut):
                away()
                started = time.monotonic()
                queued = await post(writer, f"while-{away.__name__}")
                assert queued.status_code == 202, queued.text
                assert time.monotonic() - started < 5
                assert_problem(await post(unseen, "never-confirmed"), 503, "database-unavailable")
                proxy.restore()
            proxy.cut()
            clock[0] = 61  # confirmed longer ago than the trust window
            assert_problem(await post(writer, "too-late"), 503, "database-unavailable")
            proxy.restore()
            assert (await post(writer, "after")).status_code == 202
    finally:
        await publisher.close()
        await engine.shutdown()
    said = [r.getMessage() for r in caplog.records if r.name == "questline.adapters.http.keys"]
    assert len(said) == 2  # once when the database went away, once when it answered again
    assert "keys confirmed in the last 60 s are admitted meanwhile" in said[0]
    assert said[1] == "the database answers again: API keys are looked up again"
    async with workers(database_url, settings, 1):
        await eventually(lambda: drained(settings), "the queued events recorded")
    assert await recorded_events(database_url) == 4
