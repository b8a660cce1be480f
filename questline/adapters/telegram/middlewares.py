"""Middlewares: per-learner throttling, button ownership, and in-flight update tracking."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject, User

from questline.adapters.telegram import callbacks
from questline.adapters.telegram.screens import notices
from questline.adapters.telegram.settings import Throttle

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
PRUNE_ABOVE = 10_000


@dataclass
class _Bucket:
    tokens: float
    at: float
    warned: bool = False


class ThrottlingMiddleware(BaseMiddleware):
    """A token bucket per learner; the first dropped update of a burst gets a notice."""

    def __init__(self, throttle: Throttle, clock: Callable[[], float] = time.monotonic) -> None:
        self._throttle = throttle
        self._clock = clock
        self._buckets: dict[int, _Bucket] = {}

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None:
            return await handler(event, data)
        if self._take(user.id):
            return await handler(event, data)
        bucket = self._buckets[user.id]
        if not bucket.warned and isinstance(event, Message | CallbackQuery):
            bucket.warned = True
            await event.answer(notices.slow_down())
        return None

    def _take(self, user_id: int) -> bool:
        now = self._clock()
        if len(self._buckets) > PRUNE_ABOVE:
            self._prune(now)
        rate, burst = self._throttle.rate, self._throttle.burst
        bucket = self._buckets.setdefault(user_id, _Bucket(tokens=burst, at=now))
        bucket.tokens = min(burst, bucket.tokens + (now - bucket.at) * rate)
        bucket.at = now
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        bucket.warned = False
        return True

    def _prune(self, now: float) -> None:
        rate, burst = self._throttle.rate, self._throttle.burst
        full = [k for k, b in self._buckets.items() if b.tokens + (now - b.at) * rate >= burst]
        for key in full:
            del self._buckets[key]


class OwnershipMiddleware(BaseMiddleware):
    """Buttons drawn for one learner do nothing for another (in groups, or forged)."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if isinstance(event, CallbackQuery):
            parsed = callbacks.parse(event.data)
            if parsed is not None and parsed.owner != event.from_user.id:
                await event.answer(notices.not_your_button(), show_alert=True)
                return None
        return await handler(event, data)


class InFlightMiddleware(BaseMiddleware):
    """Counts updates being handled, so shutdown can let them finish before closing the engine."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        self._count += 1
        self._idle.clear()
        try:
            return await handler(event, data)
        finally:
            self._count -= 1
            if not self._count:
                self._idle.set()

    async def wait_idle(self, seconds: float) -> bool:
        """Wait until no update is being handled; False if `seconds` passed first."""
        try:
            await asyncio.wait_for(self._idle.wait(), seconds)
        except TimeoutError:
            return False
        return True
