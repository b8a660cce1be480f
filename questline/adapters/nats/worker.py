"""`questline worker`: take a share of the partitions by lease and consume each of them.

Every third of the lease TTL the worker announces itself, renews its leases, gives up
partitions beyond its share (ceil(partitions / live workers)) and takes free ones up to it.
A partition's consumer runs while its lease is held; a lost lease stops it after its batch.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from contextlib import suppress

from nats.aio.client import Client

from questline.adapters.nats.connection import connect, ensure_streams
from questline.adapters.nats.consumer import PartitionConsumer
from questline.adapters.nats.leases import Leases
from questline.adapters.nats.settings import NatsSettings
from questline.engine import Engine

log = logging.getLogger(__name__)
RECORDING_SLOTS = 2


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
        self.client: Client | None = None
        self.recorded = 0
        self.dead = 0

    def stop(self) -> None:
        """Finish the batches in hand, ack them, release the leases and return from run()."""
        self.stopping.set()

    async def run(self) -> None:
        client = self.client = await connect(self.settings)
        try:
            js = client.jetstream()
            await ensure_streams(js, self.settings)
            leases = await Leases.open(
                js, self.settings.lease_bucket, self.settings.lease_ttl, self.worker_id
            )
            try:
                await self._balance_until_stopped(client, leases)
            finally:
                await self._stop_consumers(list(self.consumers))
                await leases.leave()
        finally:
            await client.close()

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
        await leases.announce()
        lost = await leases.renew()
        if lost:
            log.warning("worker %s: leases lost (expired): %s", self.worker_id, lost)
        await self._stop_consumers(lost)
        self._reap()
        share = min(len(self.partitions), await leases.share(len(self.partitions)))
        extra = sorted(leases.held)[share:]
        await self._stop_consumers(extra)
        for partition in extra:
            await leases.release(partition)
            log.info("worker %s: partition %s handed over", self.worker_id, partition)
        # start the search at a place of our own, so that workers do not all race for 0, 1, …
        start = int(self.worker_id.rsplit("-", 1)[-1], 16) % len(self.partitions)
        for partition in self.partitions[start:] + self.partitions[:start]:
            if len(leases.held) >= share:
                break
            if partition not in leases.held:
                await leases.acquire(partition)
        for partition in leases.held:
            if partition not in self.consumers:
                self._start(client, partition)

    def _start(self, client: Client, partition: int) -> None:
        consumer = PartitionConsumer(
            self.engine, client.jetstream(), self.settings, partition, self.gate
        )
        task = asyncio.create_task(consumer.run(), name=f"partition-{partition}")
        self.consumers[partition] = (consumer, task)
        log.info("worker %s: consuming partition %s", self.worker_id, partition)

    def _reap(self) -> None:
        """Forget consumers whose task ended by itself (an error, logged); the next balance
        starts them again while the lease is held."""
        for partition, (_, task) in list(self.consumers.items()):
            if task.done():
                self._count(self.consumers.pop(partition)[0])
                if not task.cancelled() and task.exception() is not None:
                    log.error("partition %s stopped: %s", partition, task.exception())

    async def _stop_consumers(self, partitions: list[int]) -> None:
        stopping = [self.consumers.pop(p) for p in partitions if p in self.consumers]
        for consumer, _ in stopping:
            consumer.stopping.set()
        await asyncio.gather(*(task for _, task in stopping), return_exceptions=True)
        for consumer, _ in stopping:
            self._count(consumer)
        if stopping and self.client is not None:
            with suppress(Exception):  # the acks reach the server before the leases go
                await self.client.flush()

    def _count(self, consumer: PartitionConsumer) -> None:
        self.recorded += consumer.recorded
        self.dead += consumer.dead
