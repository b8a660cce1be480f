"""The Telegram adapter as a questline plugin (entry point `telegram`).

Every engine loads this module, so it imports nothing heavy: aiogram and the bot's modules are
imported only when a bot actually runs.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from questline.plugins import hookimpl

if TYPE_CHECKING:
    import click
    from aiogram import Bot

    from questline.engine import Engine
    from questline.engine.views import AwardView

log = logging.getLogger(__name__)


class TelegramPlugin:
    """Adds `questline bot`; while a bot runs for an engine, prepares it and relays awards."""

    def __init__(self) -> None:
        self._bots: WeakKeyDictionary[Engine, Bot] = WeakKeyDictionary()

    def attach(self, engine: Engine, bot: Bot) -> None:
        """Route `engine`'s award notifications through `bot` until the engine shuts down."""
        self._bots[engine] = bot

    @hookimpl
    def questline_cli_commands(self, cli: click.Group) -> None:
        from questline.adapters.telegram.cli import bot_command

        cli.add_command(bot_command)

    @hookimpl
    async def questline_startup(self, engine: Engine) -> None:
        """Switch the attached bot to long polling and publish its commands per language."""
        bot = self._bots.get(engine)
        if bot is None:
            return
        from questline.adapters.telegram import i18n
        from questline.adapters.telegram.screens.menu import commands

        await bot.delete_webhook(drop_pending_updates=False)
        for locale in dict.fromkeys((i18n.DEFAULT_LOCALE, *i18n.get_i18n().available_locales)):
            with i18n.use_locale(locale):
                language = None if locale == i18n.DEFAULT_LOCALE else locale
                await bot.set_my_commands(commands(), language_code=language)
        log.info("telegram adapter started")

    @hookimpl
    def questline_shutdown(self, engine: Engine) -> None:
        if self._bots.pop(engine, None) is not None:
            log.info("telegram adapter stopped")

    @hookimpl
    async def questline_award_granted(self, engine: Engine, award: AwardView) -> None:
        bot = self._bots.get(engine)
        if bot is None:
            return
        from questline.adapters.telegram.notify import send_award

        await send_award(bot, engine, award)


plugin = TelegramPlugin()
