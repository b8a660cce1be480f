"""`questline worker`: take a share of the partitions by lease and consume each of them.

Every third of the lease TTL the worker announces itself, renews its leases, gives up
partitions beyond its share (ceil(partitions / live workers)) and takes free ones up to it.
A partition's consumer runs while its lease is held. Balancing never waits for a consumer:
a partition handed over keeps its lease (renewed) until its consumer has acknowledged the
batch in hand, then the lease is released; a lost lease stops its consumer after its batch.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from contextlib import suppress

from nats.aio.client import Client

from questline.adapters.nats.connection import (
    ConnectionLog,
    NatsUnavailable,
    close_quietly,
    connect,
    ensure_streams,
)
from questline.adapters.nats.consumer import PartitionConsumer
from questline.adapters.nats.leases import Leases
from questline.adapters.nats.settings import NatsSettings
from questline.adapters.patience import once_it_answers
from questline.engine import Engine

log = logging.getLogger(__name__)
RECORDING_SLOTS = 2
LEAVE_SECONDS = 2.0  # how long a stopping worker tries to release its leases


def new_worker_id() -> str:
    host = "".join(c if c.isalnum() else "-" for c in socket.gethostname())[:40]
    return f"{host}-{os.getpid()}-{secrets.token_hex(3)}"


class Worker:
    """Consumes the partitions in `partitions` (default: all) that it holds a lease for."""

    def __init__(
        self,
        engine: Engine,
        settings: NatsSettings,
        partitions: list[int] | None = None,
        worker_id: str | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.partitions = partitions or list(range(settings.partitions))
        self.worker_id = worker_id or new_worker_id()
        self.stopping = asyncio.Event()
        # batches recorded at once: one computing while another waits on the database;
        # more only add transactions competing for the same CPU
        self.gate = asyncio.Semaphore(RECORDING_SLOTS)
        self.consumers: dict[int, tuple[PartitionConsumer, asyncio.Task[None]]] = {}
        self.handing_over: dict[int, asyncio.Task[None]] = {}
        self.recorded = 0
        self.repeated = 0
        self.dead = 0

    def stop(self) -> None:
        """Finish the batches in hand, ack them, release the leases and return from run()."""
        self.stopping.set()

    async def run(self) -> None:
        client = await self._connected()
        if client is None:
            return
        try:
            js = client.jetstream()
            await ensure_streams(js, self.settings)
            leases = await Leases.open(
                js, self.settings.lease_bucket, self.settings.lease_ttl, self.worker_id
            )
            try:
                await self._balance_until_stopped(client, leases)
            finally:
                for partition in list(self.consumers):
                    self._hand_over(client, leases, partition)
                await asyncio.gather(*self.handing_over.values(), return_exceptions=True)
                await self._leave(leases)
        finally:
            await close_quietly(client)

    async def _connected(self) -> Client | None:
        """A connection to NATS, waited for while NATS does not answer (a worker started
        before NATS, or during an outage, starts when it answers, as a running one carries
        on); None if stopped first."""
        errors = ConnectionLog()
        return await once_it_answers(
            lambda: connect(self.settings, errors),
            NatsUnavailable,
            "NATS",
            lambda words: log.warning("worker %s: %s", self.worker_id, words),
            self.stopping,
        )

    async def _leave(self, leases: Leases) -> None:
        """Release the leases at once, or, NATS away, leave them to expire after their TTL."""
        try:
            async with asyncio.timeout(LEAVE_SECONDS):
                await leases.leave()
        except Exception as error:  # nats-py's errors and timeouts, OSError
            log.warning(
                "worker %s: leases not released (%s); they expire after %g s",
                self.worker_id,
                str(error) or type(error).__name__,
                self.settings.lease_ttl,
            )

    async def _balance_until_stopped(self, client: Client, leases: Leases) -> None:
        period = self.settings.lease_ttl / 3
        while not self.stopping.is_set():
            try:
                await self._balance(client, leases)
            except Exception as error:  # NATS away: consumers wait, leases are renewed later
                log.warning("worker %s: leases not renewed: %s", self.worker_id, error)
            with suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), period)

    async def _balance(self, client: Client, leases: Leases) -> None:
        await leases.announce(self.partitions)
        lost = await leases.renew()
        if lost:
            log.warning("worker %s: leases lost (expired): %s", self.worker_id, lost)
        for partition in lost:
            self._stop(partition)
        self._reap()
        share, takers = await leases.share(self.partitions)
        # keep first what fewest others may take: what only this worker may take, never handed
        kept = sorted(set(leases.held) - set(self.handing_over), key=lambda p: (takers[p], p))
        for partition in kept[share:]:
            self._hand_over(client, leases, partition)
        # start the search at a place of our own, so that workers do not all race for 0, 1, …;
        # take first what fewest others may take
        start = int(self.worker_id.rsplit("-", 1)[-1], 16) % len(self.partitions)
        rotated = self.partitions[start:] + self.partitions[:start]
        for partition in sorted(rotated, key=lambda p: takers[p]):
            if len(set(leases.held) - set(self.handing_over)) >= share:
                break
            if partition not in leases.held:
                await leases.acquire(partition)
        for partition in leases.held:
            if partition not in self.consumers and partition not in self.handing_over:
                self._start(client, leases, partition)

    def _start(self, client: Client, leases: Leases, partition: int) -> None:
        consumer = PartitionConsumer(
            self.engine,
            client.jetstream(),
            self.settings,
            partition,
            self.gate,
            lambda: leases.valid(partition),
        )
        task = asyncio.create_task(consumer.run(), name=f"partition-{partition}")
        self.consumers[partition] = (consumer, task)
        log.info("worker %s: consuming partition %s", self.worker_id, partition)

    def _stop(self, partition: int) -> asyncio.Task[None] | None:
        """Tell a partition's consumer to stop after its batch; its task, if it runs."""
        entry = self.consumers.pop(partition, None)
        if entry is None:
            return None
        consumer, task = entry
        consumer.stopping.set()
        task.add_done_callback(lambda _: self._count(consumer))
        return task

    def _hand_over(self, client: Client, leases: Leases, partition: int) -> None:
        """Stop consuming `partition`; release its lease once the batch in hand is acked."""
        task = self._stop(partition)

        async def release() -> None:
            if task is not None:
                await asyncio.gather(task, return_exceptions=True)
            with suppress(Exception):  # the acks reach the server before the lease goes
                await client.flush()
            await leases.release(partition)
            self.handing_over.pop(partition, None)
            log.info("worker %s: partition %s handed over", self.worker_id, partition)

        self.handing_over[partition] = asyncio.create_task(release())

    def _reap(self) -> None:
        """Forget consumers whose task ended by itself (an error, logged); the next balance
        starts them again while the lease is held."""
        for partition, (consumer, task) in list(self.consumers.items()):
            if task.done():
                del self.consumers[partition]
                self._count(consumer)
                if not task.cancelled() and task.exception() is not None:
                    log.error("partition %s stopped: %s", partition, task.exception())

    def _count(self, consumer: PartitionConsumer) -> None:
        self.recorded += consumer.recorded
        self.repeated += consumer.repeated
        self.dead += consumer.dead
