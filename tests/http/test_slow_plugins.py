"""A slow plugin hook does not hold up the answer to the request whose event it hears about."""

from __future__ import annotations

import asyncio
import time

import pytest
from httpx import AsyncClient

from questline.adapters.http.settings import DISPATCH, HttpSettings
from questline.engine import Engine
from questline.engine.outbox import Delivery
from questline.plugins import hookimpl
from tests.http.conftest import Keys, bearer

HOOK_SECONDS = 3.0


class SlowListener:
    """Takes longer over each event than the request may take."""

    def __init__(self) -> None:
        self.heard: list[str] = []

    @hookimpl
    async def questline_event_recorded(self, delivery: Delivery) -> None:
        await asyncio.sleep(HOOK_SECONDS)
        self.heard.append(delivery.id)


@pytest.fixture
def settings() -> HttpSettings:
    return HttpSettings(rate_limit="10000/minute", max_body_bytes=256 * 1024, request_timeout=2)


async def test_an_event_is_answered_before_a_slow_hook_ends_and_the_hook_still_hears_it(
    client: AsyncClient, engine: Engine, keys: Keys, learner: int
) -> None:
    listener = SlowListener()
    engine.plugins.register(listener, name="slow-listener")
    engine.start_dispatcher(DISPATCH)  # as `questline serve` does
    started = time.monotonic()
    response = await client.post(
        "/v1/events", json={"type": "LOGIN", "telegram_id": learner}, headers=bearer(keys.writer)
    )
    assert response.status_code == 201, response.text  # not 503 after the request timeout
    assert time.monotonic() - started < HOOK_SECONDS
    for _ in range(100):
        if (await engine.outbox_status())["done"] == 1:
            break
        await asyncio.sleep(0.1)
    assert len(listener.heard) == 1
    assert await engine.outbox_status() == {"pending": 0, "done": 1, "dead": 0}
