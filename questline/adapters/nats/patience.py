"""Waiting for a service at start: a worker started during an outage starts when it is over."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import TypeVar

RETRY_SECONDS = 1.0  # between attempts
T = TypeVar("T")


async def once_it_answers(
    attempt: Callable[[], Awaitable[T]],
    unreachable: type[Exception],
    service: str,
    say: Callable[[str], None],
    stopping: asyncio.Event,
) -> T | None:
    """`attempt()`'s result, tried every second while it raises `unreachable`; the first
    failure and the answer after it are said once each. None if `stopping` is set first."""
    waiting = False
    while not stopping.is_set():
        try:
            answer = await attempt()
        except unreachable as error:
            if not waiting:
                say(f"{error}; trying again every second until {service} answers")
                waiting = True
        else:
            if waiting:
                say(f"{service} answers; starting")
            return answer
        with suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), RETRY_SECONDS)
    return None
