"""Middlewares: per-learner throttling, button ownership, in-flight update tracking, every
press answered, and the awards an update earns collected for its handler."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, Message, TelegramObject, Update, User

from questline.adapters.telegram import callbacks
from questline.adapters.telegram.notify import (
    Notifier,
    celebrate_leftovers,
    celebrating,
    settle_celebration,
)
from questline.adapters.telegram.screens import notices
from questline.adapters.telegram.session import tracking_answers
from questline.adapters.telegram.settings import Throttle

log = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
PRUNE_ABOVE = 10_000


@dataclass
class _Bucket:
    tokens: float
    at: float
    warned: bool = False


class ThrottlingMiddleware(BaseMiddleware):
    """A token bucket per learner. A dropped press is answered with a notice; of dropped
    messages, the first of a burst gets the notice (so a flood is not echoed)."""

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
        if isinstance(event, CallbackQuery):
            await event.answer(notices.slow_down())
        elif not bucket.warned and isinstance(event, Message):
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


class AnswerGuard(BaseMiddleware):
    """Answers every press nobody answered, whatever happened while handling it.

    Installed outermost on updates (outside aiogram's error handling), so a press is
    answered even after a handler or an error handler failed.
    """

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        query = event.callback_query if isinstance(event, Update) else None
        if query is None:
            return await handler(event, data)
        with tracking_answers() as answered:
            try:
                return await handler(event, data)
            finally:
                if query.id not in answered:
                    bot: Bot = data["bot"]
                    try:
                        await bot.answer_callback_query(query.id)
                    except TelegramAPIError as error:
                        log.warning("could not answer a press: %s", error)

    def install(self, dispatcher: Dispatcher) -> None:
        """Register as the outermost update middleware."""
        manager = dispatcher.update.outer_middleware
        existing = list(manager[:])
        for middleware in existing:
            manager.unregister(middleware)
        manager.register(self)
        for middleware in existing:
            manager.register(middleware)


class CelebrationMiddleware(BaseMiddleware):
    """Collects the awards the learner earns during an update, for the handler to show in
    place; sends whatever the handler left when the update is done, and settles their outbox
    entries."""

    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None:
            return await handler(event, data)
        with celebrating(user.id, user.language_code) as celebration:
            try:
                return await handler(event, data)
            finally:
                await celebrate_leftovers(self.notifier, celebration)
                await settle_celebration(self.notifier, celebration)
