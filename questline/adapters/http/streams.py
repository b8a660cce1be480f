"""Fan-out of granted awards to the open Server-Sent Events streams of one engine."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from questline.engine.views import AwardView

QUEUE_SIZE = 256

log = logging.getLogger(__name__)


class AwardStreams:
    """Each subscriber gets its own bounded queue; a subscriber too slow to keep up loses the
    oldest awards rather than holding the engine back. `close()` ends every stream."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[AwardView | None]] = set()
        self.closed = False

    @property
    def subscribers(self) -> int:
        return len(self._queues)

    def publish(self, award: AwardView) -> None:
        for queue in self._queues:
            if queue.full():
                queue.get_nowait()
                log.warning("an award stream fell behind; its oldest award was dropped")
            queue.put_nowait(award)

    def close(self) -> None:
        self.closed = True
        for queue in self._queues:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(None)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[AwardView | None]]:
        """A queue of awards granted from now on; None in it means the server is stopping."""
        queue: asyncio.Queue[AwardView | None] = asyncio.Queue(QUEUE_SIZE)
        if self.closed:
            queue.put_nowait(None)
        self._queues.add(queue)
        try:
            yield queue
        finally:
            self._queues.discard(queue)
