"""Group commit: concurrent `record()` calls share one transaction.

Callers queue their event and wait for its own outcome. One drain task per event loop takes
what is queued (up to `max_events`), optionally lingers for more, and hands the group to the
engine, which records it in one transaction in arrival order; meanwhile new calls queue up
for the next group. A group is therefore whatever arrived while the previous one was being
written: with no concurrency a call is written at once, alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

E = TypeVar("E")
R = TypeVar("R")
Wanted = Callable[[int], bool]
"""Whether the caller of a group's item (by index) still waits for it."""


class GroupCommit(Generic[E, R]):
    """Gathers concurrent submissions and runs them in groups through `run_group`.

    `run_group(items, wanted)` returns one outcome per item, in order: a result, or the
    exception that item's caller gets. It must not raise. `wanted(i)` tells whether the caller
    of item `i` still waits (a caller cancelled meanwhile does not: its item should not take
    effect if that can still be helped).
    """

    def __init__(
        self,
        run_group: Callable[[list[E], Wanted], Awaitable[Sequence[R | BaseException]]],
        *,
        linger: float = 0.0,
        max_events: int = 256,
    ) -> None:
        if linger < 0 or max_events < 1:
            raise ValueError("linger must be >= 0 and max_events >= 1")
        self._run_group = run_group
        self.linger = linger
        self.max_events = max_events
        self._queue: list[tuple[E, asyncio.Future[R]]] = []
        self._drain_task: asyncio.Task[None] | None = None

    async def _gather(self) -> None:
        """Let the tasks that are ready run until no more calls arrive (no timer involved):
        callers woken by the previous group queue their next call before this one starts."""
        while len(self._queue) < self.max_events:
            before = len(self._queue)
            await asyncio.sleep(0)
            if len(self._queue) == before:
                return

    async def submit(self, item: E) -> R:
        """Queue `item` and wait for its outcome (its result, or its own exception)."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._drain_task is None or self._drain_task.done():
            self._drain_task = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._queue:
            await self._gather()
            if self.linger and len(self._queue) < self.max_events:
                await asyncio.sleep(self.linger)
            group = self._queue[: self.max_events]
            del self._queue[: self.max_events]
            live = [(item, future) for item, future in group if not future.cancelled()]
            if not live:
                continue
            try:
                outcomes = await self._run_group([item for item, _ in live], _waiting(live))
            except BaseException as error:  # cancelled while writing: nobody may hang
                for _, future in live:
                    if not future.done():
                        future.set_exception(error)
                raise
            for (_, future), outcome in zip(live, outcomes, strict=True):
                if future.done():
                    continue
                if isinstance(outcome, BaseException):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)


def _waiting(group: Sequence[tuple[object, asyncio.Future[Any]]]) -> Wanted:
    """`wanted` for `group`: a caller that was cancelled no longer waits."""
    return lambda index: not group[index][1].cancelled()
