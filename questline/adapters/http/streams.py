"""The awards the open Server-Sent Events streams of one engine show, read from the outbox.

Every announced award has an `award.granted` outbox entry, written in the transaction that
granted it, whichever process that was: this server, another one on the same database, a NATS
worker, the command line. While a stream is open, a feed task reads the entries written since
the last one it read, every POLL_SECONDS and at once when this process grants an award
(`wake`, from the award hook), and hands the awards to every stream. On MySQL/MariaDB
transactions can commit out of id order, so an id the feed passed over is looked for again
for GAP_SECONDS.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import TYPE_CHECKING

from questline.engine.views import AwardView

if TYPE_CHECKING:
    from questline.engine import Engine

QUEUE_SIZE = 256
POLL_SECONDS = 1.0
GAP_SECONDS = 30.0
MAX_GAPS = 1_000
READ_LIMIT = 500  # entries one read returns; a full read is followed by another at once

log = logging.getLogger(__name__)


class AwardStreams:
    """Each subscriber gets its own bounded queue; a subscriber too slow to keep up loses the
    oldest awards rather than holding the others back. `close()` ends every stream."""

    def __init__(self, engine: Engine) -> None:
        self._engine = weakref.ref(engine)  # the plugin keys streams by engine, weakly
        self.closed = False
        self.cursor = 0
        """The newest outbox entry read (set when the feed starts)."""
        self._queues: set[asyncio.Queue[AwardView | None]] = set()
        self._woken = asyncio.Event()
        self._starting = asyncio.Lock()
        self._feed: asyncio.Task[None] | None = None
        self._gaps: dict[int, float] = {}

    def engine(self) -> Engine:
        engine = self._engine()
        assert engine is not None, "an engine's streams live no longer than the engine"
        return engine

    @property
    def subscribers(self) -> int:
        return len(self._queues)

    def wake(self) -> None:
        """Read the outbox now: this process has just granted an award."""
        self._woken.set()

    def close(self) -> None:
        self.closed = True
        self._stop_feed()
        for queue in self._queues:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(None)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[AwardView | None]]:
        """A queue of the awards granted from now on; None in it means the server is stopping.
        Database errors while starting the feed propagate (the stream has not begun)."""
        queue: asyncio.Queue[AwardView | None] = asyncio.Queue(QUEUE_SIZE)
        async with self._starting:  # streams opening together start one feed
            if self.closed:
                queue.put_nowait(None)
            elif self._feed is None:
                self.cursor = await self.engine().outbox_last_id()
                self._gaps.clear()
                self._feed = asyncio.create_task(self._run(), name="award-streams")
            self._queues.add(queue)
        try:
            yield queue
        finally:
            self._queues.discard(queue)
            if not self._queues:
                self._stop_feed()

    def _stop_feed(self) -> None:
        if self._feed is not None:
            self._feed.cancel()
            self._feed = None

    def _publish(self, award: AwardView) -> None:
        for queue in self._queues:
            if queue.full():
                queue.get_nowait()
                log.warning("an award stream fell behind; its oldest award was dropped")
            queue.put_nowait(award)

    async def _run(self) -> None:
        failing = False
        while True:
            self._woken.clear()
            try:
                if await self._read() >= READ_LIMIT:
                    self._woken.set()
                if failing:
                    log.warning("award streams: the outbox can be read again")
                    failing = False
            except Exception as error:  # the database away: the streams stay open and wait
                if not failing:
                    log.warning("award streams: cannot read the outbox (%s); trying again", error)
                    failing = True
            with suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), POLL_SECONDS)

    async def _read(self) -> int:
        """Read and hand out the entries written since the last read; how many were read."""
        now = time.monotonic()
        self._gaps = {id_: seen for id_, seen in self._gaps.items() if now - seen < GAP_SECONDS}
        entries = await self.engine().outbox_since(self.cursor, self._gaps)
        for id_, award in entries:
            if id_ > self.cursor:
                for skipped in range(self.cursor + 1, min(id_, self.cursor + 1 + MAX_GAPS)):
                    if len(self._gaps) < MAX_GAPS:
                        self._gaps.setdefault(skipped, now)
                self.cursor = id_
            else:
                self._gaps.pop(id_, None)
            if award is not None:
                self._publish(award)
        return len(entries)
