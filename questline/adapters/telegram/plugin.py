"""The Telegram adapter as a questline plugin (entry point `telegram`).

Every engine loads this module, so it imports nothing heavy: aiogram and the bot's modules are
imported only when a bot actually runs.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from questline.adapters.telegram.settings import TOKEN_ENV
from questline.plugins import DeliverElsewhere, hookimpl

if TYPE_CHECKING:
    import click

    from questline.adapters.telegram.notify import Notifier
    from questline.engine import Engine
    from questline.engine.outbox import Delivery
    from questline.engine.views import AwardView

log = logging.getLogger(__name__)


class TelegramPlugin:
    """Adds `questline bot`; while a bot runs for an engine, relays its awards."""

    def __init__(self) -> None:
        self._notifiers: WeakKeyDictionary[Engine, Notifier] = WeakKeyDictionary()

    def attach(self, engine: Engine, notifier: Notifier) -> None:
        """Route `engine`'s award notifications through `notifier` until the engine shuts down."""
        self._notifiers[engine] = notifier

    @hookimpl
    def questline_cli_commands(self, cli: click.Group) -> None:
        from questline.adapters.telegram.cli import bot_command

        cli.add_command(bot_command)

    @hookimpl
    def questline_shutdown(self, engine: Engine) -> None:
        if self._notifiers.pop(engine, None) is not None:
            log.info("telegram adapter stopped")

    @hookimpl
    async def questline_award_granted(
        self, engine: Engine, award: AwardView, delivery: Delivery
    ) -> None:
        """Announce the award; raises DeliveryFailed when Telegram fails after bounded retries
        (the caller may deliver it again later), DeliveryHeld when the learner's update in
        progress shows it.

        Where no bot runs (`questline serve`, `questline worker`, `questline outbox run`), the
        award is left to the bot's process when the deployment has a bot (TELEGRAM_BOT_TOKEN is
        set), and dropped for Telegram when it has none.
        """
        notifier = self._notifiers.get(engine)
        if notifier is not None:
            await notifier.award_granted(award, delivery)
        elif os.environ.get(TOKEN_ENV, "").strip():
            raise DeliverElsewhere("the bot runs in another process")


plugin = TelegramPlugin()
