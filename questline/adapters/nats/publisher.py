"""Publishing events to JetStream: one learner's events to one partition, each acknowledged."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import PubAck

from questline.adapters.nats.connection import (
    NatsUnavailable,
    close_quietly,
    connect,
    ensure_streams,
)
from questline.adapters.nats.routing import learner_ref, message_id, partition_of, with_key
from questline.adapters.nats.settings import NatsSettings
from questline.engine import Event
from questline.engine.errors import QuestlineError

ACK_TIMEOUT = 2.0  # seconds to wait for one acknowledgement before trying again
WINDOW = 256  # messages in flight while a file is published


class PublishFailed(QuestlineError):
    """JetStream did not acknowledge an event in time; it may or may not be stored."""


@dataclass(frozen=True)
class Published:
    """What `publish_all` sent: `count` events, of which `duplicates` JetStream already held
    (the same event published before, within the duplicate window)."""

    count: int
    duplicates: int


class Publisher:
    """Publishes events on one connection; every publish waits for JetStream's ack.

    Messages carry the event as JSON (with its idempotency key, derived if absent) and a
    `Nats-Msg-Id` of learner and key, so a republished event is dropped by JetStream within
    the duplicate window and replayed by the engine after it.
    """

    def __init__(self, settings: NatsSettings, client: Client, js: JetStreamContext) -> None:
        self.settings = settings
        self.client = client
        self.js = js

    @classmethod
    async def open(cls, settings: NatsSettings) -> Publisher:
        client = await connect(settings)
        js = client.jetstream()
        try:
            await ensure_streams(js, settings)
        except BaseException:
            await client.close()
            raise
        return cls(settings, client, js)

    async def close(self) -> None:
        await close_quietly(self.client)

    def message(self, event: Event) -> tuple[str, bytes, dict[str, str]]:
        """Subject, payload and headers of `event`."""
        keyed = with_key(event)
        partition = partition_of(learner_ref(keyed), self.settings.partitions)
        headers = {"Nats-Msg-Id": message_id(keyed)}
        return self.settings.events_subject(partition), keyed.model_dump_json().encode(), headers

    async def publish(self, event: Event, *, retry_for: float = 0.0) -> PubAck:
        """Publish and wait for the ack, trying again for `retry_for` seconds (a reconnecting
        client); PublishFailed if JetStream never acknowledged it."""
        subject, payload, headers = self.message(event)
        deadline = time.monotonic() + retry_for
        while True:
            try:
                return await self.js.publish(
                    subject, payload, timeout=ACK_TIMEOUT, headers=dict(headers)
                )
            except (NatsError, TimeoutError) as error:
                if time.monotonic() >= deadline:
                    raise PublishFailed(
                        f"NATS did not acknowledge the event: {error or type(error).__name__}"
                    ) from None
                await asyncio.sleep(0.2)

    async def publish_all(
        self,
        events: Iterable[Event],
        *,
        retry_for: float = 60.0,
        progress: Callable[[int], None] | None = None,
    ) -> Published:
        """Publish `events` in order, `WINDOW` at a time, each window fully acknowledged
        before the next; a window with a failure is published again whole (its stored
        messages are dropped as duplicates). Returns how many were published, and how many
        of them JetStream already held (dropped as duplicates)."""
        published = duplicates = 0
        for window in _windows(events):
            acks = await self._publish_window([self.message(e) for e in window], retry_for)
            published += len(window)
            duplicates += sum(1 for ack in acks if ack.duplicate)
            if progress is not None:
                progress(len(window))
        return Published(published, duplicates)

    async def publish_batch(
        self, events: Iterable[Event], *, retry_for: float = 0.0
    ) -> list[PubAck]:
        """Publish `events` in order like `publish_all`; the ack of each, in order."""
        acks: list[PubAck] = []
        for window in _windows(events):
            acks += await self._publish_window([self.message(e) for e in window], retry_for)
        return acks

    async def _publish_window(
        self, window: list[tuple[str, bytes, dict[str, str]]], retry_for: float
    ) -> list[PubAck]:
        deadline = time.monotonic() + retry_for
        while True:
            futures: list[asyncio.Future[PubAck]] = []
            try:
                for subject, payload, headers in window:
                    futures.append(
                        await self.js.publish_async(subject, payload, headers=dict(headers))
                    )
                async with asyncio.timeout(ACK_TIMEOUT):
                    return list(await asyncio.gather(*futures))
            except (NatsError, TimeoutError) as error:
                for future in futures:
                    future.cancel()
                if time.monotonic() >= deadline:
                    raise PublishFailed(
                        f"NATS did not acknowledge {len(window)} event(s) for "
                        f"{retry_for:g} s: {error or type(error).__name__}"
                    ) from None
                await asyncio.sleep(0.2)


def _windows(events: Iterable[Event]) -> Iterator[list[Event]]:
    iterator = iter(events)
    while window := list(islice(iterator, WINDOW)):
        yield window


__all__ = ["NatsUnavailable", "PublishFailed", "Publisher"]
