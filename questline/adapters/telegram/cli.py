"""`questline bot`: run the Telegram bot with long polling."""

from __future__ import annotations

import asyncio
import logging

import click

from questline.adapters.telegram import logs
from questline.adapters.telegram.settings import BotSettings, SettingsError

log = logging.getLogger(__name__)


async def _serve(settings: BotSettings) -> None:
    from questline.adapters.cli.runtime import ensure_migrated
    from questline.adapters.telegram.plugin import plugin
    from questline.adapters.telegram.runner import BotRunner
    from questline.engine import Engine

    engine = Engine.from_env()
    logging.getLogger("alembic").setLevel(logging.WARNING)  # reading the revision is no news
    try:
        await ensure_migrated(engine)
    except BaseException:
        await engine.db.dispose()  # not started: nothing else to stop
        raise
    runner = BotRunner(settings, engine, plugin)
    await runner.run()


@click.command("bot")
def bot_command() -> None:
    """Run the Telegram bot with long polling.

    The token comes from TELEGRAM_BOT_TOKEN; TELEGRAM_API_BASE points the bot at another Bot
    API server; while it is away at start (429, 5xx, no connection) the bot waits for it.
    QUESTLINE_ADMIN_IDS lists the Telegram ids allowed /stats and /reload (which
    loads QUESTLINE_CONTENT and QUESTLINE_RULES again). SIGINT or SIGTERM stops it gracefully.
    """
    try:
        settings = BotSettings.from_env()
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    with logs.redacted(settings):
        try:
            asyncio.run(_serve(settings))
        except Exception as error:
            raise click.ClickException(settings.redact(describe(error))) from None


def describe(error: Exception) -> str:
    """One line for an error that stopped the bot (the full story goes to the log)."""
    from aiogram.exceptions import TelegramAPIError, TelegramUnauthorizedError
    from sqlalchemy.exc import DBAPIError

    from questline.adapters.cli.runtime import database_message
    from questline.engine.errors import QuestlineError
    from questline.plain_errors import one_line

    if isinstance(error, TelegramUnauthorizedError):
        return "Telegram rejected TELEGRAM_BOT_TOKEN (Unauthorized)"
    if isinstance(error, TelegramAPIError):
        return f"the Telegram Bot API failed: {one_line(error)}"
    if isinstance(error, QuestlineError):
        return str(error)
    if isinstance(error, DBAPIError):
        log.error("the bot stopped on a %s", database_message(error))
        return database_message(error)
    log.error("the bot stopped on an unexpected error", exc_info=error)
    return f"{type(error).__name__}: {error}"
