"""The outbox seen from the Engine: delivering it, and what an operator sees of it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from questline.engine import outbox
from questline.engine.dispatcher import Dispatcher, DispatchSettings
from questline.engine.facets.base import EngineBase
from questline.engine.period_closer import CloserSettings, PeriodCloser
from questline.engine.timestamps import utcnow
from questline.engine.views import AwardView


class OutboxControl(EngineBase):
    """Delivering the outbox (in this process or once), and its state for operators; the period
    closer runs beside the dispatcher."""

    def start_dispatcher(self, settings: DispatchSettings | None = None) -> Dispatcher:
        """Deliver the outbox from this process: entries this engine commits at once, and
        every due entry in a background task, until shutdown."""
        if self.dispatcher is None:
            self.dispatcher = Dispatcher(self, settings)
            self.dispatcher.start()
        return self.dispatcher

    async def settle_held(self, delivery_ids: Iterable[str], *, delivered: bool) -> None:
        """Report what became of outbox deliveries a plugin held (`DeliveryHeld`): delivered
        (the entry is done), or not (it is due again at once, for the hook's usual path)."""
        if self.dispatcher is not None:
            await self.dispatcher.settle_held(delivery_ids, delivered=delivered)

    def start_period_closer(
        self, settings: CloserSettings | None = None, *, clock: Callable[[], datetime] = utcnow
    ) -> PeriodCloser | None:
        """Close finished weeks and months from this process until shutdown (settings default
        to the environment's; None when QUESTLINE_CLOSE_PERIODS=0)."""
        settings = settings or CloserSettings.from_env()
        if self.closer is None and settings is not None:
            self.closer = PeriodCloser(self, settings, clock=clock)
            self.closer.start()
        return self.closer

    async def deliver_outbox(self, settings: DispatchSettings | None = None) -> int:
        """Deliver every due outbox entry once, in this task; returns how many were settled."""
        return await Dispatcher(self, settings).deliver_pending()

    async def outbox_status(self) -> dict[str, int]:
        """Outbox entries per status: pending, done, dead."""
        async with self.sessions.reading() as session:
            return await outbox.counts(session)

    async def outbox_entries(
        self, *, status: str | None = None, limit: int = 20
    ) -> list[outbox.OutboxView]:
        async with self.sessions.reading() as session:
            return await outbox.entries(session, status=status, limit=limit)

    async def retry_outbox(self, ids: Sequence[int] | None = None) -> int:
        """Make dead-lettered entries (`ids`, or all) pending again; returns how many."""
        async with self.sessions() as session:
            count = await outbox.retry(session, ids, now=utcnow())
        if self.dispatcher is not None:
            self.dispatcher.wake()
        return count

    async def outbox_last_id(self) -> int:
        """The newest outbox entry's id (0 for none): where a reader of awards starts."""
        async with self.sessions.reading() as session:
            return await outbox.last_id(session)

    async def outbox_since(
        self, after: int, also: Iterable[int] = ()
    ) -> list[tuple[int, AwardView | None]]:
        """Outbox entries written after the entry `after`, and those of `also` (ids), in id
        order: each id with its award (None for an entry of another topic), whichever process
        wrote it."""
        async with self.sessions.reading() as session:
            return await outbox.written_since(session, after, also)
