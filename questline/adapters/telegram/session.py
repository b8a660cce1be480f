"""The Bot's HTTP session: Telegram's flood control and server errors handled for every call.

`RetryMiddleware` is an aiogram request middleware, so it covers every method the bot calls:
a 429 is retried after the `retry_after` Telegram asks for, a 5xx (or a proxy's non-JSON error
page) after a short backoff, a bounded number of times. `AnswerTracker` notes which callback
queries were answered, so a press that nobody answered can be answered at the end.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import AnswerCallbackQuery, GetUpdates, TelegramMethod
from aiogram.methods.base import TelegramType

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import Response

log = logging.getLogger(__name__)
Sleep = Callable[[float], Awaitable[None]]


_flood_waits: ContextVar[bool] = ContextVar("flood_control_waits", default=True)


@contextmanager
def without_flood_waits() -> Iterator[None]:
    """Within the block a 429 is raised at once, never waited for: for a sender that puts
    the work off itself (the reminder scheduler), so neither its lease nor a stop waits on
    Telegram's `retry_after`."""
    token = _flood_waits.set(False)
    try:
        yield
    finally:
        _flood_waits.reset(token)


class RetryMiddleware(BaseRequestMiddleware):
    """Retry a call Telegram asked to repeat (429) or failed on its side (5xx).

    At most `attempts` tries in all; a `retry_after` longer than `max_wait` seconds (or any,
    inside `without_flood_waits`) is not waited for: the error is raised at once.
    getUpdates is left to the polling loop, which has its own backoff.
    """

    def __init__(
        self,
        *,
        attempts: int = 4,
        max_wait: float = 30.0,
        backoff: float = 0.5,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.attempts = attempts
        self.max_wait = max_wait
        self.backoff = backoff
        self._sleep = sleep

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if isinstance(method, GetUpdates):
            return await make_request(bot, method)
        for attempt in range(1, self.attempts + 1):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                if (
                    attempt == self.attempts
                    or error.retry_after > self.max_wait
                    or not _flood_waits.get()
                ):
                    raise
                delay: float = error.retry_after
            except (TelegramServerError, ClientDecodeError) as error:
                if attempt == self.attempts:
                    raise
                delay = self.backoff * 2 ** (attempt - 1)
                log.info("%s failed (%s), retrying", type(method).__name__, _short(error))
            log.info("%s: waiting %.1f s before try %d", type(method).__name__, delay, attempt + 1)
            await self._sleep(delay)
        raise AssertionError("unreachable")


def _short(error: Exception) -> str:
    return str(error).splitlines()[0][:200]


_answered: ContextVar[set[str] | None] = ContextVar("answered_callback_queries", default=None)


@contextmanager
def tracking_answers() -> Iterator[set[str]]:
    """Within the block, the ids of callback queries answered (or too old to answer)."""
    answered: set[str] = set()
    token = _answered.set(answered)
    try:
        yield answered
    finally:
        _answered.reset(token)


class AnswerTracker(BaseRequestMiddleware):
    """Records answerCallbackQuery calls in the set `tracking_answers` opened."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        answered = _answered.get()
        if answered is None or not isinstance(method, AnswerCallbackQuery):
            return await make_request(bot, method)
        try:
            response = await make_request(bot, method)
        except TelegramBadRequest:
            answered.add(method.callback_query_id)  # answered before, or too old: never again
            raise
        answered.add(method.callback_query_id)
        return response
