"""The HTTP API with QUESTLINE_NATS_URL: POST /v1/events queues the event to JetStream
(202 after the ack), a repeat is a duplicate, a worker records it, and a NATS that does not
answer gives 503 not-queued (never a silently dropped event)."""

from __future__ import annotations

from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.adapters.http.app import create_app
from questline.adapters.nats.publisher import Publisher
from questline.adapters.nats.settings import NatsSettings
from questline.engine import UserProfile
from tests.http.conftest import BASE, assert_problem, bearer
from tests.nats.conftest import eventually
from tests.nats.helpers import drained, workers
from tests.nats.scenario import recorded_events

EVENT = {"type": "LOGIN", "telegram_id": 4242, "occurred_at": "2026-03-02T09:00:00+00:00"}


async def test_events_are_queued_then_recorded_by_a_worker(
    db: AsyncEngine, database_url: str, settings: NatsSettings
) -> None:
    from tests.engine.conftest import make_engine

    engine = await make_engine(db)
    await engine.register_user(UserProfile(telegram_id=4242, first_name="Ada"))
    writer = (await engine.create_api_key("writer", ["events:write"])).secret
    publisher = await Publisher.open(settings)
    app = create_app(engine, publisher=publisher)
    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url=BASE) as client:
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

            await publisher.close()  # NATS unreachable from now on
            refused = await client.post("/v1/events", json=EVENT, headers=bearer(writer))
            body = assert_problem(refused, 503, "not-queued")
            assert body["detail"].startswith("NATS did not accept the event: ")
    finally:
        await publisher.close()
        await engine.shutdown()
