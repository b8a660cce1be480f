"""The Bot's HTTP session: Telegram's flood control and server errors handled for every call.

`RetryMiddleware` is an aiogram request middleware, so it covers every method the bot calls:
a 429 is retried after the `retry_after` Telegram asks for, a 5xx (or a proxy's non-JSON error
page) after a short backoff, a bounded number of times; it notes in `ChatFloods`, per chat,
until when Telegram asked to wait, so the bot's own messages to that chat wait that long.
`AnswerTracker` notes which callback queries were answered, so a press that nobody answered can
be answered at the end.
"""

from __future__ import annotations

import asyncio
import logging
import time
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
PRUNE_ABOVE = 10_000


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


class ChatFloods:
    """The chats Telegram asked the bot to wait for (429 and its `retry_after`), until when:
    `wait(chat)` says how long the bot must still wait before it sends to that chat."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._until: dict[int | str, float] = {}

    def note(self, chat_id: int | str, seconds: float) -> None:
        now = self.clock()
        if len(self._until) > PRUNE_ABOVE:
            self._until = {chat: until for chat, until in self._until.items() if until > now}
        self._until[chat_id] = max(now + seconds, self._until.get(chat_id, now))

    def wait(self, chat_id: int | str) -> float:
        """Seconds before Telegram lets the bot send to `chat_id` again (0: at once)."""
        return max(0.0, self._until.get(chat_id, 0.0) - self.clock())


class RetryMiddleware(BaseRequestMiddleware):
    """Retry a call Telegram asked to repeat (429) or failed on its side (5xx).

    At most `attempts` tries in all; a `retry_after` longer than `max_wait` seconds (or any,
    inside `without_flood_waits`) is not waited for: the error is raised at once. Every 429 of
    a call to a chat is noted in `floods`.
    getUpdates is left to the polling loop, which has its own backoff.
    """

    def __init__(
        self,
        *,
        floods: ChatFloods,
        attempts: int = 4,
        max_wait: float = 30.0,
        backoff: float = 0.5,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.floods = floods
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
                if (chat_id := getattr(method, "chat_id", None)) is not None:
                    self.floods.note(chat_id, error.retry_after)
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
