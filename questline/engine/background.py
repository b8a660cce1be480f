"""Stopping the engine's background loops without cutting a pass short."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


async def finish_or_cancel(task: asyncio.Task[Any], grace: float) -> None:
    """Wait up to `grace` seconds for `task` (already told to stop) to end, then cancel it.

    A pass is not cancelled at once: work cut off in a database driver's thread (SQLite's,
    say) can go on holding locks after the task is gone.
    """
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(task), grace)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
