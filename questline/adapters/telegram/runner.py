"""Running the bot: engine start, long polling and the reminder scheduler until SIGINT/SIGTERM,
graceful stop."""

from __future__ import annotations

import logging
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

    async def run(self, *, handle_signals: bool = True) -> None:
        """Start the engine (and with it the plugin, the period closer, the NATS publisher when
        QUESTLINE_NATS_URL is set) and the reminder
        scheduler (unless its interval is 0), poll, and on stop let handlers finish, stop the
        scheduler, then shut the engine down and close the HTTP session."""
        self.plugin.attach(self.engine, self.notifier)
        try:
            await self.engine.startup()
            self.engine.start_dispatcher()  # outbox (issue 11): awards reach the bot from here
            self.engine.start_period_closer(clock=self.now)  # weekly/monthly awards, on time
            # with QUESTLINE_NATS_URL, learners' events go to NATS for the workers (scale-out.md)
            publisher = await nats_plugin.publisher(self.engine)
            self.dispatcher["recording"] = Recording(self.engine, publisher)
            if self.settings.reminder_interval > 0:
                self.reminders.start()
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
        """Ask a running `run()` to stop polling (it then finishes as on a signal)."""
        await self.dispatcher.stop_polling()
