"""Closing finished weeks and months on time, from the processes that already run.

Every long-running questline process (the bot, `questline serve`, `questline worker`) runs a
closer. Each pass closes the last week and the last month that ended at least `grace` ago, if
nobody has closed them yet; the close's claim row makes that happen once however many closers
run. The grace leaves room for events of the period's last minutes that are still queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from questline.engine.background import finish_or_cancel
from questline.engine.db import database_unreachable, first_line
from questline.engine.errors import QuestlineError
from questline.engine.periods import Period
from questline.engine.timestamps import utcnow
from questline.engine.views import ClosedPeriod
from questline.environment import seconds_from_env

if TYPE_CHECKING:
    from questline.engine.facade import Engine

log = logging.getLogger(__name__)
CLOSED_PERIODS = (Period.WEEK, Period.MONTH)


@dataclass(frozen=True)
class CloserSettings:
    """How often a closer looks, and how long after a period's end it closes it."""

    interval_seconds: float = 60.0
    grace: timedelta = timedelta(minutes=10)

    def __post_init__(self) -> None:
        if self.interval_seconds <= 0 or self.grace < timedelta(0):
            raise QuestlineError(
                "the closer's interval must be positive and its grace not negative"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> CloserSettings | None:
        """QUESTLINE_CLOSE_PERIODS=0 turns closing off (None); QUESTLINE_CLOSE_GRACE sets the
        grace in seconds (default 600)."""
        env = os.environ if environ is None else environ
        if env.get("QUESTLINE_CLOSE_PERIODS", "1").strip() == "0":
            return None
        default = cls().grace.total_seconds()
        grace = seconds_from_env(
            "QUESTLINE_CLOSE_GRACE", default, QuestlineError, zero_allowed=True, environ=env
        )
        return cls(grace=timedelta(seconds=grace))


class PeriodCloser:
    """Closes each finished week and month once its grace has passed."""

    def __init__(
        self,
        engine: Engine,
        settings: CloserSettings | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.settings = settings or CloserSettings()
        self.clock = clock
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def close_due(self) -> list[ClosedPeriod]:
        """Close what is due and not closed yet; returns the closes this call made."""
        moment = self.clock() - self.settings.grace
        made = []
        for period in CLOSED_PERIODS:
            if await self.engine.period_close(period.value, at=moment) is not None:
                continue
            closed = await self.engine.close_period(period.value, at=moment)
            if not closed.already_closed:
                log.info(
                    "closed the %s %s – %s: %d learner(s), %d award(s)",
                    closed.period,
                    closed.first_day,
                    closed.last_day,
                    closed.learners,
                    len(closed.awards),
                )
                made.append(closed)
        return made

    def start(self) -> None:
        """Run passes in a background task: at once, then every interval, until `stop`."""
        if self._task is None or self._task.done():
            self._stopping.clear()
            self._task = asyncio.create_task(self._run(), name="questline-period-closer")

    async def stop(self, grace: float = 10.0) -> None:
        """Stop the background task once the pass in hand is over, waiting at most `grace`
        seconds (see `finish_or_cancel`)."""
        if self._task is None:
            return
        self._stopping.set()
        await finish_or_cancel(self._task, grace)
        self._task = None

    async def _run(self) -> None:
        away = False
        while not self._stopping.is_set():
            try:
                await self.close_due()
                if away:
                    log.warning("closing finished periods: the database answers again")
                    away = False
            except Exception as error:  # the next pass tries again
                if not database_unreachable(error):
                    log.exception("closing finished periods failed; trying again")
                elif not away:  # a line for the outage, not a traceback a minute
                    log.warning(
                        "closing finished periods: the database is away (%s)", first_line(error)
                    )
                    away = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.settings.interval_seconds)
