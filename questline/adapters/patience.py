"""Waiting for a service at start: a worker or a bot started during an outage starts when it
is over."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import TypeVar

from questline.plain_errors import one_line

RETRY_SECONDS = 1.0  # between attempts, unless the service asks for longer
T = TypeVar("T")


def _no_wait_asked(error: Exception) -> float:
    return 0.0


async def once_it_answers(
    attempt: Callable[[], Awaitable[T]],
    unreachable: type[Exception] | tuple[type[Exception], ...],
    service: str,
    say: Callable[[str], None],
    stopping: asyncio.Event,
    *,
    asked_wait: Callable[[Exception], float] = _no_wait_asked,
) -> T | None:
    """`attempt()`'s result, tried every second while it raises `unreachable` (or after the
    wait the service asked for, `asked_wait(error)` seconds, when longer); the first failure,
    in one line, and the answer after it are said once each. None if `stopping` is set
    first."""
    waiting = False
    while not stopping.is_set():
        try:
            answer = await attempt()
        except unreachable as error:
            wait = max(RETRY_SECONDS, asked_wait(error))
            if not waiting:
                when = "every second" if wait == RETRY_SECONDS else f"in {wait:g} s, as asked,"
                say(f"{one_line(error)}; trying again {when} until {service} answers")
                waiting = True
        else:
            if waiting:
                say(f"{service} answers; starting")
            return answer
        with suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), wait)
    return None
