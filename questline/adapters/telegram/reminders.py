"""The reminder scheduler of a bot process: every `interval` seconds it claims the reminders
due now from the engine and sends them, each in its learner's language.

Each claim's lease is renewed just before its send (not sent if another scheduler took it
back). Telegram's answer settles it: accepted → sent; 403 (the learner blocked the bot) →
blocked, and the learner gets no more until they talk to the bot again; 429 → due again after
the `retry_after` Telegram asked for (never waited for here); 5xx or no connection → due again
a minute per attempt later; any other refusal (400, chat not found) → failed. The engine
makes the claims, so several bot processes may run schedulers side by side. Time comes from
the `now` clock given.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)

from questline.adapters.telegram.i18n import use_locale
from questline.adapters.telegram.notify import Notifier
from questline.adapters.telegram.screens.reminders import reminder
from questline.adapters.telegram.session import without_flood_waits
from questline.engine import Engine
from questline.engine.views import ReminderClaim

log = logging.getLogger(__name__)
RETRY_STEP = timedelta(minutes=1)
BATCH = 100


class ReminderScheduler:
    """Sends due reminders: `tick()` once, or `start()` a loop until `stop()`."""

    def __init__(
        self,
        bot: Bot,
        engine: Engine,
        notifier: Notifier,
        *,
        now: Callable[[], datetime],
        interval: float,
        batch: int = BATCH,
    ) -> None:
        self.bot = bot
        self.engine = engine
        self.notifier = notifier
        self.now = now
        self.interval = interval
        self.batch = batch
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def tick(self) -> int:
        """Claim and send everything due now; returns how many reminders Telegram accepted.
        Once `stop` was asked for, the claims not sent yet are handed back, due at once."""
        sent = 0
        while not self._stopping.is_set():
            claims = await self.engine.due_reminders(self.now(), self.batch)
            for index, claim in enumerate(claims):
                if self._stopping.is_set():
                    await self._hand_back(claims[index:])
                    return sent
                sent += await self._send(claim)
            if len(claims) < self.batch:
                break
        return sent

    async def _hand_back(self, claims: list[ReminderClaim]) -> None:
        """Leave claims for the next scheduler (this process is stopping), due at once."""
        for claim in claims:
            await self.engine.reminder_failed(
                claim, "not sent: the bot stopped", retry_at=self.now(), at=self.now()
            )

    async def _send(self, claim: ReminderClaim) -> bool:
        with use_locale(claim.language_code):
            screen = reminder(claim)
        if not await self.engine.reminder_sending(claim, at=self.now()):
            log.info("reminder %s: another sender has taken it; not sent here", claim.id)
            return False
        if wait := self.notifier.floods.wait(claim.telegram_id):  # not before Telegram allows
            asked = f"Telegram asked to wait {wait:.0f} s more"
            await self._later(claim, asked, self.now() + timedelta(seconds=wait))
            return False
        try:
            await self.notifier.pace(claim.telegram_id)
            with without_flood_waits():  # a 429 puts the claim off (below), never sleeps
                await self.bot.send_message(
                    claim.telegram_id, screen.text, reply_markup=screen.markup
                )
        except TelegramForbiddenError:
            log.info("reminder %s: learner %s blocked the bot", claim.id, claim.telegram_id)
            await self.engine.reminder_blocked(claim, at=self.now())
            return False
        except TelegramRetryAfter as error:
            wait = timedelta(seconds=error.retry_after)
            await self._later(claim, error, self.now() + wait)
            return False
        except (TelegramServerError, TelegramNetworkError, ClientDecodeError) as error:
            await self._later(claim, error, self.now() + RETRY_STEP * claim.attempt)
            return False
        except TelegramAPIError as error:
            log.warning("reminder %s to %s refused: %s", claim.id, claim.telegram_id, error)
            await self.engine.reminder_failed(claim, str(error), at=self.now())
            return False
        await self.engine.reminder_sent(claim, at=self.now())
        return True

    async def _later(
        self, claim: ReminderClaim, reason: Exception | str, retry_at: datetime
    ) -> None:
        log.info(
            "reminder %s to %s: %s; again at %s", claim.id, claim.telegram_id, reason, retry_at
        )
        await self.engine.reminder_failed(claim, str(reason), retry_at=retry_at, at=self.now())

    def start(self) -> None:
        """Run `tick` every `interval` seconds in the background (the first after one
        interval) until `stop`; a failed tick is logged and the loop goes on."""
        self._stopping.clear()
        self._task = asyncio.create_task(self._loop(), name="questline-reminders")

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.interval)
            if self._stopping.is_set():
                return
            try:
                await self.tick()
            except Exception:
                log.exception("sending reminders failed; trying again in %s s", self.interval)

    async def stop(self) -> None:
        """Stop the loop after the send in progress, if any (the tick hands the rest back)."""
        self._stopping.set()
        if self._task is not None:
            await self._task
            self._task = None
