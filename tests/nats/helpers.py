"""Running workers and commands against the NATS test settings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import nats
from click.testing import CliRunner, Result

from questline.adapters.cli import main
from questline.adapters.nats.plugin import NatsPlugin
from questline.adapters.nats.settings import NatsSettings
from questline.adapters.nats.worker import Worker
from questline.plugins.manager import build_plugin_manager
from tests.nats.scenario import engine_on


async def invoke(args: list[str], env: dict[str, str]) -> Result:
    """Run a `questline` command in a thread (it calls asyncio.run itself)."""
    return await asyncio.to_thread(CliRunner().invoke, main, args, env=env)


@asynccontextmanager
async def workers(
    url: str, settings: NatsSettings, count: int, *extra_plugins: object
) -> AsyncIterator[list[Worker]]:
    """`count` workers in this process, each with its own engine (and outbox dispatcher
    publishing awards through the NATS plugin, plus `extra_plugins`); stopped gracefully on
    exit."""
    engines, running = [], []
    for _ in range(count):
        plugins = build_plugin_manager(load_entry_points=False)
        plugins.register(NatsPlugin(), name="nats")
        for plugin in extra_plugins:
            plugins.register(plugin)
        engine = engine_on(url, plugins)
        await engine.startup()
        engine.start_dispatcher()
        engines.append(engine)
        worker = Worker(engine, settings)
        running.append((worker, asyncio.create_task(worker.run())))
    try:
        yield [worker for worker, _ in running]
    finally:
        for worker, _ in running:
            worker.stop()
        await asyncio.gather(*(task for _, task in running))
        for engine in engines:
            await engine.shutdown()


async def stream_messages(settings: NatsSettings, stream: str) -> int:
    """How many messages `stream` stores now."""
    client = await nats.connect(settings.url)
    try:
        info = await client.jetstream().stream_info(stream)
    finally:
        await client.close()
    return info.state.messages


async def drained(settings: NatsSettings) -> bool:
    """Every published event was recorded and acknowledged (a work queue keeps no other)."""
    return await stream_messages(settings, settings.stream) == 0
