"""The NATS adapter as a questline plugin (entry point `nats`).

Every engine loads this module, so it imports nothing heavy: nats-py is imported only when
QUESTLINE_NATS_URL is set and something is published.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from questline.plugins import hookimpl

if TYPE_CHECKING:
    import click

    from questline.adapters.nats.publisher import Publisher
    from questline.engine import Engine
    from questline.engine.outbox import Delivery
    from questline.engine.views import AwardView


class NatsPlugin:
    """Adds `events publish` and `worker`; publishes awards to `<subject>.awards.<user id>`."""

    def __init__(self) -> None:
        self._publishers: WeakKeyDictionary[Engine, asyncio.Task[Publisher | None]] = (
            WeakKeyDictionary()
        )

    async def publisher(self, engine: Engine) -> Publisher | None:
        """The engine's publisher, connected on first use; None when QUESTLINE_NATS_URL is
        unset."""
        task = self._publishers.get(engine)
        if task is None or (task.done() and task.exception() is not None):
            task = asyncio.ensure_future(self._open())
            self._publishers[engine] = task
        return await asyncio.shield(task)

    @staticmethod
    async def _open() -> Publisher | None:
        from questline.adapters.nats.publisher import Publisher
        from questline.adapters.nats.settings import NatsSettings

        settings = NatsSettings.from_env()
        return None if settings is None else await Publisher.open(settings)

    @hookimpl
    def questline_cli_commands(self, cli: click.Group) -> None:
        from questline.adapters.cli.ingest import events
        from questline.adapters.nats.cli import publish, worker

        events.add_command(publish)
        cli.add_command(worker)

    @hookimpl
    async def questline_award_granted(
        self, engine: Engine, award: AwardView, delivery: Delivery
    ) -> None:
        """Publish the award with the outbox entry's stable id as `Nats-Msg-Id`, so that a
        delivery made twice is stored once."""
        from questline.engine.outbox import award_data

        publisher = await self.publisher(engine)
        if publisher is None:
            return
        # as webhooks and the HTTP API carry it: earned_at in ISO 8601 (str() gave a space)
        payload = json.dumps(award_data(award), ensure_ascii=False).encode()
        await publisher.js.publish(
            publisher.settings.awards_subject(award.user_id),
            payload,
            headers={"Nats-Msg-Id": f"award-{delivery.id}"},
        )

    @hookimpl
    async def questline_shutdown(self, engine: Engine) -> None:
        task = self._publishers.pop(engine, None)
        if task is not None and task.done() and task.exception() is None:
            publisher = task.result()
            if publisher is not None:
                await publisher.close()


plugin = NatsPlugin()
