"""The outbox dispatcher: hands committed outbox entries to the plugins' hooks, at least once.

A pass claims due entries (a lease keeps other dispatchers off them), calls the hook of each
entry's topic, and marks the entry done when every implementation succeeded. A failing
implementation makes the entry due again after an exponential backoff with jitter; the
implementations that succeeded are remembered and not called again for that entry. An
implementation that raises `DeliverElsewhere` leaves the entry to a process that can deliver
it (the bot's, for the Telegram plugin) without counting an attempt; this dispatcher does not
claim it again. One that raises `DeliveryHeld` delivers it a little later itself (the bot,
inside the update that earned the award) and reports with `settle_held`; the entry stays
claimed for `hold` meanwhile. One that raises `RetryLater` is not called again before the
wait it asked for, for any entry or (the wait naming a learner) for that learner's. After
`max_attempts` failed attempts the entry is dead-lettered (`questline outbox list --status
dead`, `questline outbox retry`). A dispatcher that dies leaves its claimed and held entries
pending: they are claimed again when the lease or the hold ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from questline.engine import outbox
from questline.engine.background import finish_or_cancel
from questline.engine.db import database_unreachable, first_line
from questline.engine.models import OutboxEntry
from questline.engine.timestamps import utcnow
from questline.plugins import RetryLater

if TYPE_CHECKING:
    from questline.engine.facade import Engine

log = logging.getLogger(__name__)
K = TypeVar("K")
V = TypeVar("V")
ELSEWHERE_REMEMBERED = 1000
"""How many entries left to other processes a dispatcher remembers (the oldest are forgotten,
and claimed again at most once more), and how many held entries (the oldest are forgotten, and
delivered again when their hold ends)."""


def _remember(memory: OrderedDict[K, V], key: K, value: V) -> None:
    """Note `key` in `memory`, forgetting the oldest beyond ELSEWHERE_REMEMBERED."""
    memory[key] = value
    while len(memory) > ELSEWHERE_REMEMBERED:
        memory.popitem(last=False)


@dataclass(frozen=True)
class Held:
    """An entry that plugins of this process hold (`DeliveryHeld`)."""

    entry_id: int
    token: str | None
    """The claim it is held under; None when it was not held as a whole (another plugin failed
    or deferred it, so it is pending for that one)."""
    holders: tuple[str, ...]


@dataclass(frozen=True)
class DispatchSettings:
    """How a dispatcher claims, waits and retries."""

    batch: int = 100
    lease: timedelta = timedelta(seconds=60)
    poll_seconds: float = 1.0
    max_attempts: int = 10
    backoff_base: timedelta = timedelta(seconds=2)
    backoff_cap: timedelta = timedelta(hours=1)
    handoff: timedelta = timedelta(seconds=30)
    """How long entries this process commits wait for its own hand-over (in the committing
    task, so an update's awards reach that update) before any background pass may take them."""
    handoff_wait: timedelta = timedelta(seconds=5)
    """How long the committing task waits for its hand-over's hooks before it goes on (an HTTP
    request answers, a bot update ends); slower hooks finish in the background."""
    elsewhere_wait: timedelta = timedelta(seconds=1)
    """How long an entry that a plugin can deliver only in another process (`DeliverElsewhere`)
    waits before the next dispatcher may claim it (this one does not claim it again)."""
    hold: timedelta = timedelta(minutes=3)
    """How long an entry that a plugin holds (`DeliveryHeld`) stays claimed for it: a process
    that dies meanwhile leaves it to the next pass after that."""

    def __post_init__(self) -> None:
        if self.batch < 1 or self.max_attempts < 1:
            raise ValueError("batch and max_attempts must be at least 1")
        if self.lease <= timedelta(0) or self.hold <= timedelta(0) or self.poll_seconds <= 0:
            raise ValueError("lease, hold and poll interval must be positive")
        if self.handoff < timedelta(0) or self.handoff_wait < timedelta(0):
            raise ValueError("handoff and handoff_wait must not be negative")

    def backoff(self, attempts: int, jitter: float) -> timedelta:
        """The wait after the `attempts`-th failure: base·2^(attempts-1), capped, times
        a factor in [0.5, 1) drawn from `jitter` in [0, 1) (so retries of many entries spread)."""
        delay = min(self.backoff_cap, self.backoff_base * 2 ** (attempts - 1))
        return delay * (0.5 + jitter / 2)


MAX_ASKED_WAIT = timedelta(days=1)
"""The longest wait a receiver's `RetryLater` is granted."""


def _asked_wait(failed: list[tuple[str, Exception]]) -> timedelta:
    """The longest wait the failed hooks' receivers asked for (`RetryLater`), at most a day."""
    asked = [e.seconds for _, e in failed if isinstance(e, RetryLater)]
    seconds = max((s for s in asked if s == s and s > 0), default=0.0)  # no NaN, no negative
    return timedelta(seconds=min(seconds, MAX_ASKED_WAIT.total_seconds()))


class Dispatcher:
    """Delivers one engine's outbox to that engine's plugins."""

    def __init__(
        self,
        engine: Engine,
        settings: DispatchSettings | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.engine = engine
        self.settings = settings or DispatchSettings()
        self.clock = clock
        self.jitter = jitter
        self._elsewhere: OrderedDict[int, None] = OrderedDict()
        """Entries a plugin here can deliver only in another process: not claimed again here."""
        self._held: OrderedDict[str, Held] = OrderedDict()
        """Entries plugins here hold, by delivery id, until they settle them."""
        self._paused: dict[tuple[str, int | None], datetime] = {}
        """Plugins whose receiver asked to wait (`RetryLater`), until when: for one learner's
        entries (by user id), or for all (None)."""
        self._settled_early: OrderedDict[str, bool] = OrderedDict()
        """Settlements of deliveries whose other hooks had not returned yet, by delivery id."""
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._handovers: set[asyncio.Task[int]] = set()
        """Hand-overs whose callers stopped waiting for them (`hand_over`)."""

    # -- delivering --------------------------------------------------------------------------

    async def deliver_pending(self) -> int:
        """Deliver due entries until none is left; returns how many were settled."""
        settled = 0
        while not self._stopping and (batch := await self._claim(None)):
            settled += await self._deliver_all(batch)
        return settled

    async def hand_over(self, ids: Iterable[int]) -> None:
        """Deliver entries this process has just committed, in a task that inherits the
        caller's context (the bot's update in progress sees its awards), waiting for it at
        most `handoff_wait`: a slow hook delays no caller longer (an HTTP request would time
        out although its event committed), it finishes in the background."""
        ids = list(ids)
        if not ids:
            return
        delivery = asyncio.create_task(self.deliver(ids))
        self._handovers.add(delivery)
        delivery.add_done_callback(self._handovers.discard)
        await asyncio.wait({delivery}, timeout=self.settings.handoff_wait.total_seconds())

    async def deliver(self, ids: Iterable[int]) -> int:
        """Deliver the given entries now (those just committed by this process), if still due.

        Never raises: what is not delivered here is left to the background pass.
        """
        ids = list(ids)
        if not ids:
            return 0
        try:
            return await self._deliver_all(await self._claim(ids))
        except Exception:
            log.exception("outbox entries %s left for the next pass", ids)
            return 0

    async def _claim(self, ids: list[int] | None) -> list[OutboxEntry]:
        async with self.engine.sessions() as session:
            return await outbox.claim(
                session,
                now=self.clock(),
                lease=self.settings.lease,
                limit=self.settings.batch,
                ids=ids,
                exclude=list(self._elsewhere),
            )

    async def _deliver_all(self, entries: list[OutboxEntry]) -> int:
        """Deliver a claimed batch, each entry marked done as soon as its hooks have taken it:
        a process killed in the middle of a batch delivers again only the entry it was at.

        A batch whose deliveries are slow (Telegram asking to wait) can outlast its lease:
        past half of it, each entry's lease is renewed just before it goes, and an entry
        another dispatcher has taken meanwhile is left to it. Returns how many it handled
        (those left to another are not counted)."""
        claimed_at = self.clock()
        handled = 0
        for entry in entries:
            if self.clock() - claimed_at >= self.settings.lease / 2:
                async with self.engine.sessions() as session:
                    if not await outbox.renew(
                        session, entry, now=self.clock(), lease=self.settings.lease
                    ):
                        continue
            handled += 1
            if await self._deliver_one(entry):
                async with self.engine.sessions() as session:
                    await outbox.mark_done(session, [entry.id], now=self.clock())
        return handled

    async def _deliver_one(self, entry: OutboxEntry) -> bool:
        """Call the hooks of one entry; True when all succeeded, else the failure is stored.

        A plugin whose receiver asked to wait (`RetryLater`) is not called again before then
        (for that learner's entries only, if it named one): the entries it has yet to take
        wait for it, and no attempt counts for them."""
        already = outbox.plugin_names(entry.delivered_to)
        hook = outbox.HOOKS[entry.topic]
        waiting = self._waiting_for(hook, already, entry.user_id)
        outcome = await self.engine.plugins.adeliver(
            hook,
            skip=already | waiting.keys(),
            engine=self.engine,
            **outbox.hook_arguments(entry),
        )
        for name, error in outcome.failed:
            if isinstance(error, RetryLater):
                until = self.clock() + _asked_wait([(name, error)])
                self._paused[name, error.user_id] = until
        delivered = already.union(outcome.succeeded)
        failed = outcome.failed
        held = outcome.held
        settled = self._settled_early.pop(entry.dedupe_id, None) if held else None
        if settled is not None:  # its holders settled it while later hooks were still running
            delivered = delivered.union(held) if settled else delivered
            held = []
        # deferred, with no attempt counted: plugins that deliver elsewhere, or asked to wait
        later = list(waiting.values())
        if outcome.elsewhere:
            later.append(self.clock() + self.settings.elsewhere_wait)
        if not failed and not later and not held:
            if settled is False:  # not shown where it was held: due again at once, as usual
                await self._defer(entry, delivered, self.clock())
                return False
            return True
        if held:
            whole = not failed and not later
            self._remember_held(entry, whole, held)
            if whole:
                async with self.engine.sessions() as session:
                    await outbox.hold(
                        session,
                        entry,
                        delivered_to=delivered,
                        until=self.clock() + self.settings.hold,
                    )
                return False
        if not failed:
            if outcome.elsewhere:
                _remember(self._elsewhere, entry.id, None)
            await self._defer(entry, delivered, min(later))
            return False
        async with self.engine.sessions() as session:
            attempts = entry.attempts + 1
            error = "; ".join(f"{name}: {type(exc).__name__}: {exc}" for name, exc in failed)
            retry_at = None
            if attempts < self.settings.max_attempts:
                wait = max(self.settings.backoff(attempts, self.jitter()), _asked_wait(failed))
                retry_at = self.clock() + wait
            await outbox.mark_failed(
                session,
                entry,
                error=error,
                delivered_to=delivered,
                retry_at=retry_at,
            )
        for name, exc in failed:
            log.warning(
                "outbox entry %s (%s) failed in plugin %s, attempt %d: %s",
                entry.id,
                entry.topic,
                name,
                attempts,
                exc,
                exc_info=exc,
            )
        if retry_at is None:
            log.error("outbox entry %s dead-lettered after %d attempts", entry.id, attempts)
        return False

    async def _defer(self, entry: OutboxEntry, delivered: set[str], until: datetime) -> None:
        """Release the claimed entry, due again `until`, its plugins that took it remembered."""
        async with self.engine.sessions() as session:
            await outbox.defer(session, entry, delivered_to=delivered, until=until)

    def _waiting_for(
        self, hook: str, already: set[str], user_id: int | None
    ) -> dict[str, datetime]:
        """The plugins implementing `hook`, not in `already`, that asked to wait for every
        entry or for `user_id`'s: until when."""
        now = self.clock()
        self._paused = {key: until for key, until in self._paused.items() if until > now}
        implementations = getattr(self.engine.plugins.hook, hook).get_hookimpls()
        names = {impl.plugin_name for impl in implementations} - already
        waiting: dict[str, datetime] = {}
        for (name, scope), until in self._paused.items():
            if name in names and scope in (None, user_id):
                waiting[name] = max(until, waiting.get(name, until))
        return waiting

    def _remember_held(self, entry: OutboxEntry, whole: bool, holders: list[str]) -> None:
        token = entry.claim_token if whole else None
        _remember(self._held, entry.dedupe_id, Held(entry.id, token, tuple(holders)))

    async def settle_held(self, delivery_ids: Iterable[str], *, delivered: bool) -> None:
        """Record what the plugins that held these deliveries made of them: done, or (not
        delivered) due again at once for their usual path. An id not held yet (its delivery's
        later hooks still run, past the hand-over's wait) is settled when they are done."""
        released = False
        for delivery_id in delivery_ids:
            held = self._held.pop(delivery_id, None)
            if held is None:
                _remember(self._settled_early, delivery_id, delivered)
                continue
            async with self.engine.sessions() as session:
                await outbox.settle_held(
                    session,
                    held.entry_id,
                    token=held.token,
                    holders=held.holders,
                    delivered=delivered,
                    now=self.clock(),
                )
            released = released or not delivered
        if released:
            self.wake()

    # -- running in the background -----------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Run passes in a background task: at once, when woken, and every poll interval."""
        if not self.running:
            self._task = asyncio.create_task(self._run(), name="questline-outbox")

    def wake(self) -> None:
        """Ask the background task for a pass now (new entries were committed)."""
        self._wake.set()

    async def stop(self, grace: float = 10.0) -> None:
        """Stop the background task and the hand-overs still running once the batch in hand is
        delivered and marked, waiting at most `grace` seconds; what is cut short is left to its
        lease."""
        self._stopping = True
        self._wake.set()
        pending = [*self._handovers, *([self._task] if self._task is not None else [])]
        await asyncio.gather(*(finish_or_cancel(task, grace) for task in pending))
        self._task = None
        self._stopping = False

    async def _run(self) -> None:
        away = False  # the database was unreachable at the last pass: said once, not each pass
        while not self._stopping:
            self._wake.clear()
            try:
                await self.deliver_pending()
            except Exception as error:
                unreachable = database_unreachable(error)
                if not unreachable:
                    log.exception(
                        "outbox pass failed; trying again in %ss", self.settings.poll_seconds
                    )
                elif not away:
                    log.warning(
                        "outbox: the database is unreachable (%s); trying again every %ss",
                        first_line(error),
                        self.settings.poll_seconds,
                    )
                away = unreachable
            else:
                if away:
                    log.warning("outbox: the database is back; delivering again")
                away = False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.poll_seconds)
