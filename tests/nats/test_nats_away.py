"""NATS goes away under a worker and a publisher (a proxy in front of the server is cut): the
worker still stops cleanly, a worker started while NATS is away starts when it answers, and a
failed publish is reported as such, not hidden by closing."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

import pytest
from sqlalchemy.engine import make_url

from questline.adapters.nats.publisher import Publisher, PublishFailed
from questline.adapters.nats.settings import NatsSettings
from questline.adapters.patience import RETRY_SECONDS
from questline.engine import Event
from questline.rules.vocabulary import ActivityType
from tests.nats.conftest import eventually
from tests.nats.helpers import workers
from tests.nats.scenario import prepare, recorded_events
from tests.support.proxy import CuttableProxy


async def behind_proxy(settings: NatsSettings) -> tuple[CuttableProxy, NatsSettings]:
    url = make_url(settings.url.replace("nats://", "mysql://", 1))  # host and port only
    proxy = CuttableProxy(url.host or "127.0.0.1", url.port or 4222)
    await proxy.start()
    return proxy, replace(settings, url=f"nats://127.0.0.1:{proxy.port}")


async def test_a_worker_stopped_while_nats_is_away_exits_cleanly(
    settings: NatsSettings, urls: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    await prepare(urls[0])
    proxy, behind = await behind_proxy(settings)
    try:
        async with workers(urls[0], behind, 1) as [worker]:

            async def holds_leases() -> bool:
                return bool(worker.consumers)

            await eventually(holds_leases, "the worker to take its partitions", within=30)
            proxy.cut()
            await asyncio.sleep(0.5)
            started = asyncio.get_running_loop().time()
        # the context manager stopped the worker and awaited it: no exception came out
        assert asyncio.get_running_loop().time() - started < 30  # not hanging
        assert "leases not released" in caplog.text
    finally:
        await proxy.stop()


WAITING = "trying again every second until NATS answers"


async def test_a_worker_started_while_nats_is_away_starts_when_it_answers(
    settings: NatsSettings, urls: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="questline.adapters.nats")
    community = await prepare(urls[0])
    proxy, behind = await behind_proxy(settings)
    proxy.cut()
    try:
        async with workers(urls[0], behind, 1):
            await eventually(lambda: _said(caplog, WAITING), "the worker to wait")
            publisher = await Publisher.open(settings)
            try:
                await publisher.publish(
                    Event(type=ActivityType.LOGIN, user_id=community.user_ids[0])
                )
            finally:
                await publisher.close()
            await asyncio.sleep(2 * RETRY_SECONDS)  # the next attempt is under way
            proxy.restore()
            await eventually(
                lambda: _recorded(urls[0], 1), "the event recorded once NATS answers", within=30
            )
        assert caplog.text.count(WAITING) == 1
        connection_logs = [r for r in caplog.records if r.name.endswith("nats.connection")]
        assert len(connection_logs) == 1, connection_logs  # attempts failing alike: said once
        assert "NATS answers; starting" in caplog.text
    finally:
        await proxy.stop()


async def _said(caplog: pytest.LogCaptureFixture, words: str) -> bool:
    return words in caplog.text


async def _recorded(url: str, count: int) -> bool:
    return await recorded_events(url) == count


async def test_a_publish_that_fails_is_reported_and_closing_after_it_does_not_raise(
    settings: NatsSettings,
) -> None:
    proxy, behind = await behind_proxy(settings)
    try:
        publisher = await Publisher.open(behind)
        proxy.cut()
        with pytest.raises(PublishFailed, match="NATS did not acknowledge the event"):
            await publisher.publish(Event(type=ActivityType.LOGIN, user_id=1), retry_for=0.5)
        await publisher.close()
    finally:
        await proxy.stop()
