"""Running the bot: engine start, the Bot API waited for, long polling and the reminder
scheduler until SIGINT/SIGTERM, graceful stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable
from datetime import datetime

from aiogram import Bot, Dispatcher

from questline.adapters.nats.plugin import plugin as nats_plugin
from questline.adapters.telegram.app import build_dispatcher, create_bot
from questline.adapters.telegram.middlewares import InFlightMiddleware
from questline.adapters.telegram.notify import Notifier
from questline.adapters.telegram.plugin import TelegramPlugin
from questline.adapters.telegram.recording import Recording
from questline.adapters.telegram.reminders import ReminderScheduler
from questline.adapters.telegram.session import ChatFloods
from questline.adapters.telegram.settings import BotSettings
from questline.adapters.telegram.startup import prepare_once_it_answers
from questline.engine import Engine
from questline.engine.timestamps import utcnow

log = logging.getLogger(__name__)
DRAIN_SECONDS = 10.0


class BotRunner:
    """One bot for one engine: `run()` polls until stopped, then closes everything."""

    def __init__(
        self,
        settings: BotSettings,
        engine: Engine,
        plugin: TelegramPlugin,
        *,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.plugin = plugin
        self.now = now
        floods = ChatFloods()
        self.bot: Bot = create_bot(settings, floods)
        self.notifier = Notifier(self.bot, engine, floods)
        self.dispatcher: Dispatcher = build_dispatcher(
            engine, settings, self.notifier, clock=clock, now=now
        )
        self.reminders = ReminderScheduler(
            self.bot, engine, self.notifier, now=now, interval=settings.reminder_interval
        )
        self._stopping = asyncio.Event()

    async def run(self, *, handle_signals: bool = True) -> None:
        """Start the engine (and with it the plugin), get the bot ready (waiting while the Bot
        API is away, until stopped), start the outbox dispatcher, the period closer, the NATS
        publisher when QUESTLINE_NATS_URL is set and the reminder scheduler (unless its
        interval is 0), poll, and on stop let handlers finish, stop the scheduler, then shut
        the engine down and close the HTTP session."""
        self.plugin.attach(self.engine, self.notifier)
        if handle_signals:
            self._stop_on_signals()
        try:
            await self.engine.startup()
            if not await prepare_once_it_answers(self.bot, self._stopping):
                return
            log.info("telegram adapter started")
            self.engine.start_dispatcher()  # outbox (issue 11): awards reach the bot from here
            self.engine.start_period_closer(clock=self.now)  # weekly/monthly awards, on time
            # with QUESTLINE_NATS_URL, learners' events go to NATS for the workers (scale-out.md)
            publisher = await nats_plugin.publisher(self.engine)
            self.dispatcher["recording"] = Recording(self.engine, publisher)
            if self.settings.reminder_interval > 0:
                self.reminders.start()
            if self._stopping.is_set():
                return
            await self.dispatcher.start_polling(
                self.bot,
                polling_timeout=self.settings.polling_timeout,
                handle_signals=handle_signals,
                close_bot_session=False,
            )
        finally:
            in_flight: InFlightMiddleware = self.dispatcher["in_flight"]
            if not await in_flight.wait_idle(DRAIN_SECONDS):
                log.warning("stopping with updates still being handled")
            await self.reminders.stop()
            await self.engine.shutdown()
            await self.bot.session.close()
            log.info("questline bot stopped")

    async def stop(self) -> None:
        """Ask a running `run()` to stop (it then finishes as on a signal), waiting for the
        Bot API or polling."""
        self._stopping.set()
        with contextlib.suppress(RuntimeError):  # not polling (yet): run() sees _stopping
            await self.dispatcher.stop_polling()

    def _stop_on_signals(self) -> None:
        """Until polling takes the signals over, SIGINT and SIGTERM stop the start."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._signalled, signum)

    def _signalled(self, signum: signal.Signals) -> None:
        log.warning("Received %s signal", signum.name)
        self._stopping.set()
