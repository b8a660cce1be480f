"""One partition's consumer: fetch a batch, record it in one transaction, ack after commit.

A learner's order holds because nothing newer is fetched while a batch is unacknowledged:
the consumer allows one batch in flight (`max_ack_pending` = batch), a failed batch is
retried here rather than handed back (a nak would let newer messages overtake it), and a
consumer taking a partition over waits until its previous owner's batch is acknowledged or
due again (JetStream redelivers due messages before new ones).

A redelivered message is a replay (the engine's idempotency keys). An event the engine
refuses (a `QuestlineError`: unknown learner or lesson, reused key) or a message that is not
a valid event is dead-lettered at once, since delivering it again cannot change the answer.
A lost database connection or a lock timeout is retried until the database answers; any
other failure `max_deliver` times (deliveries included), after which the batch is recorded
event by event and the events that still fail are dead-lettered. Dead letters carry the
reason in the header `Questline-Reason`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, OperationalError

from questline.adapters.cli.ingest import validation_message
from questline.adapters.nats.routing import with_key
from questline.adapters.nats.settings import NatsSettings
from questline.engine import Engine, Event, EventRejected
from questline.engine.views import RecordResult
from questline.plain_errors import one_line

log = logging.getLogger(__name__)
FETCH_WAIT = 1.0  # seconds a fetch waits for messages; also how soon a stop is noticed
RETRY_DELAY = 1.0  # seconds before a failed batch is tried again
POLL = 0.2  # seconds between looks at a taken-over partition's unacknowledged batch
REASON = "Questline-Reason"


@dataclass
class Pending:
    message: Msg
    event: Event


def transient(error: BaseException) -> bool:
    """A failure that says nothing about the events: the database is away or busy."""
    if isinstance(error, OperationalError):
        return True
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, OSError)


class PartitionConsumer:
    """Consumes one partition through its durable pull consumer until told to stop."""

    def __init__(
        self,
        engine: Engine,
        js: JetStreamContext,
        settings: NatsSettings,
        partition: int,
        gate: asyncio.Semaphore,
        leased: Callable[[], bool],
    ) -> None:
        self.engine = engine
        self.js = js
        self.settings = settings
        self.partition = partition
        self.gate = gate  # shared by a worker's partitions: how many batches record at once
        self.leased = leased  # whether the worker's lease on the partition still holds
        self.stopping = asyncio.Event()
        self.recorded = 0  # events written
        self.repeated = 0  # replays and challenges already solved: taken, nothing written
        self.dead = 0

    def config(self) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=self.settings.durable(self.partition),
            filter_subject=self.settings.events_subject(self.partition),
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=self.settings.ack_wait,
            max_ack_pending=self.settings.batch,
            max_deliver=-1,
        )

    async def run(self) -> None:
        """Fetch, record and ack batches until `stopping` is set; the batch in hand is
        finished and acknowledged first."""
        await self.js.add_consumer(self.settings.stream, self.config())
        await self.previous_owner_settled()
        subscription = await self.js.pull_subscribe_bind(
            durable=self.settings.durable(self.partition), stream=self.settings.stream
        )
        try:
            while not self.stopping.is_set():
                if not self.leased():  # expired before the worker noticed: fetch nothing
                    await asyncio.sleep(POLL)
                    continue
                try:
                    messages = await subscription.fetch(self.settings.batch, timeout=FETCH_WAIT)
                except (NatsTimeout, TimeoutError):
                    continue
                async with self.in_progress(messages), self.gate:
                    await self.handle(messages)
        finally:
            await subscription.unsubscribe()

    async def previous_owner_settled(self) -> None:
        """Wait until no batch of a previous owner is unacknowledged, or until it is due for
        redelivery: the previous owner's lease expired at least a TTL after its last sign of
        life, so its batch's ack deadline passes within `ack_wait` (plus slack) from now."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.ack_wait * 1.1 + 0.5
        durable = self.settings.durable(self.partition)
        while loop.time() < deadline and not self.stopping.is_set():
            info = await self.js.consumer_info(self.settings.stream, durable)
            if not info.num_ack_pending:
                return
            await asyncio.sleep(POLL)

    @asynccontextmanager
    async def in_progress(self, messages: list[Msg]) -> AsyncIterator[None]:
        """Tell JetStream every third of `ack_wait` that the batch is still being worked on,
        so that a batch waiting for its turn or for the database is not delivered again —
        while the lease holds: the next owner must get the batch due within `ack_wait`."""

        async def beat() -> None:
            while True:
                await asyncio.sleep(self.settings.ack_wait / 3)
                if self.leased():
                    for message in messages:
                        await message.in_progress()

        task = asyncio.create_task(beat())
        try:
            yield
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    async def handle(self, messages: list[Msg]) -> None:
        """Record one fetched batch and settle every message of it (or, stopping while the
        database is away, leave it to be delivered again)."""
        batch: list[Pending] = []
        # redelivered messages may come in any order: the stream's order is the publish order
        for message in sorted(messages, key=lambda m: m.metadata.sequence.stream):
            try:
                event = with_key(Event.model_validate_json(message.data))
            except ValidationError as error:
                await self.dead_letter(message, f"invalid event: {validation_message(error)}")
                continue
            batch.append(Pending(message, event))
        attempt = max((item.message.metadata.num_delivered for item in batch), default=1)
        await self.record_in_order(batch, attempt)

    async def record_in_order(self, batch: list[Pending], attempt: int) -> bool:
        """Record `batch` in order and settle its messages; False when stopping left some
        to be delivered again.

        A refused event is dead-lettered once what came before it is recorded, and the rest
        goes on after it: each event is recorded at most twice however many are refused.
        """
        results: list[RecordResult] = []  # what is left after a refusal may be nothing
        while batch:
            try:
                results = await self.engine.record_many(
                    [item.event for item in batch], chunk_size=len(batch)
                )
            except EventRejected as rejected:
                before, refused = batch[: rejected.index], batch[rejected.index]
                if before and not await self.record_in_order(before, attempt):
                    return False
                await self.dead_letter(refused.message, f"refused: {one_line(rejected.error)}")
                batch = batch[rejected.index + 1 :]
                continue
            except Exception as error:
                if not transient(error) and attempt >= self.settings.max_deliver:
                    return await self.one_by_one(batch, attempt)
                if not await self.pause(f"batch of {len(batch)} (attempt {attempt})", error):
                    return False
                attempt += 0 if transient(error) else 1
                continue
            break
        for item in batch:
            await item.message.ack()
        self._count(results)
        return True

    def _count(self, results: list[RecordResult]) -> None:
        repeated = sum(result.replayed or result.already_solved for result in results)
        self.repeated += repeated
        self.recorded += len(results) - repeated

    async def pause(self, what: str, error: Exception) -> bool:
        """Log a failure and wait before trying again; False when stopping instead."""
        log.warning("partition %s: %s not recorded: %s", self.partition, what, one_line(error))
        if self.stopping.is_set():
            return False
        await asyncio.sleep(RETRY_DELAY)
        return True

    async def one_by_one(self, batch: list[Pending], attempts: int) -> bool:
        """Record a batch that keeps failing event by event; dead-letter those that fail.
        False when stopping left some to be delivered again."""
        for item in batch:
            while True:
                try:
                    results = await self.engine.record_many([item.event])
                except Exception as error:
                    if transient(error):
                        if not await self.pause("event", error):
                            return False
                        continue
                    await self.dead_letter(item.message, f"failed {attempts} times: {error}")
                    break
                await item.message.ack()
                self._count(results)
                break
        return True

    async def dead_letter(self, message: Msg, reason: str) -> None:
        """Copy the message to the dead-letter subject with the reason, then end it."""
        headers = dict(message.headers or {})
        headers[REASON] = one_line(ValueError(reason))[:1000]
        log.warning("partition %s: dead letter: %s", self.partition, headers[REASON])
        await self.js.publish(
            self.settings.dead_subject(self.partition), message.data, headers=headers
        )
        await message.term()
        self.dead += 1
