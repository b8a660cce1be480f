"""Partition leases in a JetStream key-value bucket whose entries expire after a TTL.

A worker holds partition `n` while the key `partition.<n>` carries its id; it renews the key
every third of the TTL with a compare-and-set on the revision it wrote, so two workers can
never both believe they hold it. A worker that dies stops renewing: the bucket's TTL removes
the key and another worker takes the partition within TTL plus one renewal period. Live
workers announce themselves under `worker.<id>` (same TTL), so each can take its share.
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from collections.abc import Sequence
from contextlib import suppress
from fractions import Fraction

from nats.js import JetStreamContext
from nats.js.errors import (
    APIError,
    BadRequestError,
    KeyWrongLastSequenceError,
    NoKeysError,
    NotFoundError,
)
from nats.js.kv import KeyValue

from questline.adapters.nats.connection import NatsUnavailable

WORKER = "worker."
PARTITION = "partition."


class Leases:
    """One worker's view of the lease bucket."""

    def __init__(self, kv: KeyValue, worker_id: str, ttl: float) -> None:
        self.kv = kv
        self.worker_id = worker_id
        self.ttl = ttl
        self.held: dict[int, int] = {}  # partition → revision of our last write
        self.until: dict[int, float] = {}  # partition → when our lease surely still holds

    def valid(self, partition: int) -> bool:
        """Whether our lease on `partition` still holds by our own clock: it expires TTL
        after our last write, which the server stored after we sent it."""
        return asyncio.get_running_loop().time() < self.until.get(partition, 0.0)

    @classmethod
    async def open(cls, js: JetStreamContext, bucket: str, ttl: float, worker_id: str) -> Leases:
        """The lease bucket, made with `ttl` if new; NatsUnavailable if it exists with
        another (every worker must use the same QUESTLINE_NATS_LEASE_TTL)."""
        try:
            kv = await js.create_key_value(bucket=bucket, ttl=ttl, history=1)
        except BadRequestError as error:
            raise NatsUnavailable(
                f"NATS key-value bucket {bucket} exists with another configuration "
                f"({error.description}): every worker must use the same "
                f"QUESTLINE_NATS_LEASE_TTL ({ttl:g} s here); delete the bucket, with no worker "
                "running, to change it"
            ) from None
        return cls(kv, worker_id, ttl)

    async def announce(self, partitions: Sequence[int]) -> None:
        """Tell the others this worker is alive and which partitions it may take (expires
        after the TTL)."""
        await self.kv.put(WORKER + self.worker_id, ",".join(map(str, partitions)).encode())

    async def share(self, partitions: Sequence[int]) -> tuple[int, Counter[int]]:
        """How many of `partitions` (those this worker may take) it should hold with the
        workers alive now, each partition's work split evenly among the live workers that may
        take it (a worker pinned to other partitions takes none of these off it); and how
        many live workers may take each (so that a worker keeps first what only it may take)."""
        takers = Counter({partition: 0 for partition in partitions})
        for announced in await self._announcements():
            takers.update(list(takers) if announced is None else announced & takers.keys())
        owed = sum((Fraction(1, max(1, count)) for count in takers.values()), Fraction(0))
        return min(len(partitions), math.ceil(owed)), takers

    async def _announcements(self) -> list[set[int] | None]:
        """The partitions each live worker may take (None: all, as a worker announcing nothing
        does)."""
        try:
            keys = await self.kv.keys()
        except NoKeysError:
            return []
        announced: list[set[int] | None] = []
        for key in keys:
            if not key.startswith(WORKER):
                continue
            try:
                entry = await self.kv.get(key)
            except NotFoundError:
                continue  # left or expired meanwhile
            text = (entry.value or b"").decode()
            announced.append({int(part) for part in text.split(",")} if text else None)
        return announced

    async def acquire(self, partition: int) -> bool:
        """Take `partition` if no live worker holds it."""
        sent = asyncio.get_running_loop().time()
        try:
            revision = await self.kv.create(f"{PARTITION}{partition}", self.worker_id.encode())
        except KeyWrongLastSequenceError:
            return False
        self.held[partition] = revision
        self.until[partition] = sent + self.ttl
        return True

    async def renew(self) -> list[int]:
        """Renew every held lease; returns the partitions lost (taken over after our lease
        expired), which this worker must stop consuming."""
        lost = []
        for partition, revision in list(self.held.items()):
            sent = asyncio.get_running_loop().time()
            try:
                renewed = await self.kv.update(
                    f"{PARTITION}{partition}", self.worker_id.encode(), last=revision
                )
            except KeyWrongLastSequenceError:
                self.held.pop(partition, None)
                self.until.pop(partition, None)
                lost.append(partition)
                continue
            if partition in self.held:  # not released meanwhile
                self.held[partition] = renewed
                self.until[partition] = sent + self.ttl
        return lost

    async def release(self, partition: int) -> None:
        """Give `partition` up at once, so another worker can take it without waiting."""
        revision = self.held.pop(partition, None)
        self.until.pop(partition, None)
        if revision is not None:
            with suppress(APIError):  # already expired and taken: nothing of ours to release
                await self.kv.delete(f"{PARTITION}{partition}", last=revision)

    async def leave(self) -> None:
        """Release every lease and withdraw the announcement."""
        for partition in list(self.held):
            await self.release(partition)
        await self.kv.delete(WORKER + self.worker_id)

    async def holders(self) -> dict[int, str]:
        """Partition → id of the worker holding it, for `questline worker status`."""
        try:
            keys = await self.kv.keys()
        except NoKeysError:
            return {}
        result = {}
        for key in keys:
            if key.startswith(PARTITION):
                try:
                    entry = await self.kv.get(key)
                except NotFoundError:
                    continue  # released or expired meanwhile
                if entry.value:
                    result[int(key.removeprefix(PARTITION))] = entry.value.decode()
        return result
