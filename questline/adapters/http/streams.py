"""The awards the open Server-Sent Events streams of one engine show, read from the outbox.

Every announced award has an `award.granted` outbox entry, written in the transaction that
granted it, whichever process that was: this server, another one on the same database, a NATS
worker, the command line. While a stream is open, a feed task reads the entries written since
the last one it read, every POLL_SECONDS and at once when this process grants an award
(`wake`, from the award hook), and keeps the newest RECENT awards in order. Each stream follows
them from where it opened, at its own pace: only a stream more than RECENT awards behind loses
the oldest. On MySQL/MariaDB transactions can commit out of id order, so an id the feed passed
over is looked for again for GAP_SECONDS.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import TYPE_CHECKING

from questline.engine.db import first_line
from questline.engine.views import AwardView

if TYPE_CHECKING:
    from questline.engine import Engine

RECENT = 10_000
POLL_SECONDS = 1.0
GAP_SECONDS = 30.0
MAX_GAPS = 1_000
READ_LIMIT = 500  # entries one read returns; a full read is followed by another at once

log = logging.getLogger(__name__)


class AwardStreams:
    """The feed of one engine's awards, and the streams following it. `close()` ends every
    stream."""

    def __init__(self, engine: Engine) -> None:
        self._engine = weakref.ref(engine)  # the plugin keys streams by engine, weakly
        self.closed = False
        self.cursor = 0
        """The newest outbox entry read (set when the feed starts)."""
        self.subscribers = 0
        self._recent: deque[AwardView] = deque(maxlen=RECENT)
        self._count = 0  # awards the feed has read, ever: the position after the newest
        self._news = asyncio.Event()
        self._woken = asyncio.Event()
        self._starting = asyncio.Lock()
        self._feed: asyncio.Task[None] | None = None
        self._gaps: dict[int, float] = {}

    def engine(self) -> Engine:
        engine = self._engine()
        assert engine is not None, "an engine's streams live no longer than the engine"
        return engine

    def wake(self) -> None:
        """Read the outbox now: this process has just granted an award."""
        self._woken.set()

    def close(self) -> None:
        self.closed = True
        self._stop_feed()
        self._announce()

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[AwardView]]:
        """The awards granted from now on, as they are read; the iterator ends when the server
        stops. Database errors while starting the feed propagate: enter this before the
        stream's answer begins, so that the database away is a 503, not an empty stream."""
        async with self._starting:  # streams opening together start one feed
            if self._feed is None and not self.closed:
                self.cursor = await self.engine().outbox_last_id()
                self._gaps.clear()
                self._feed = asyncio.create_task(self._run(), name="award-streams")
            self.subscribers += 1
        try:
            yield self._follow(self._count)
        finally:
            self.subscribers -= 1
            if not self.subscribers:
                self._stop_feed()

    async def _follow(self, position: int) -> AsyncIterator[AwardView]:
        """The awards from `position` on; once closed, those read before, then the end."""
        while True:
            oldest = self._count - len(self._recent)
            if position < oldest:
                log.warning("an award stream fell behind: %d award(s) lost", oldest - position)
                position = oldest
            if position < self._count:
                award = self._recent[position - oldest]
                position += 1
                yield award
                continue
            if self.closed:
                return
            await self._news.wait()

    def _stop_feed(self) -> None:
        if self._feed is not None:
            self._feed.cancel()
            self._feed = None

    def _announce(self) -> None:
        """Wake the streams waiting for awards (each waits on the event of its time)."""
        self._news.set()
        self._news = asyncio.Event()

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
                    log.warning(
                        "award streams: cannot read the outbox (%s); trying again",
                        first_line(error),
                    )
                    failing = True
            with suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), POLL_SECONDS)

    async def _read(self) -> int:
        """Read the entries written since the last read and keep their awards; how many
        entries were read."""
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
                self._recent.append(award)
                self._count += 1
        if entries:
            self._announce()
        return len(entries)
