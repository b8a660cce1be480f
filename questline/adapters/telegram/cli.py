"""`questline bot`: run the Telegram bot with long polling."""

from __future__ import annotations

import asyncio
import logging

import click
from aiogram.exceptions import TelegramAPIError, TelegramUnauthorizedError

from questline.adapters.telegram import logs
from questline.adapters.telegram.settings import BotSettings, SettingsError

log = logging.getLogger(__name__)


async def _serve(settings: BotSettings) -> None:
    from questline.adapters.telegram.plugin import plugin
    from questline.adapters.telegram.runner import BotRunner
    from questline.engine import Engine

    runner = BotRunner(settings, Engine.from_env(), plugin)
    await runner.run()


@click.command("bot")
def bot_command() -> None:
    """Run the Telegram bot (long polling) with the token in TELEGRAM_BOT_TOKEN.

    TELEGRAM_API_BASE points it at another Bot API server; QUESTLINE_ADMIN_IDS lists the
    Telegram ids allowed /stats and /reload (of QUESTLINE_CONTENT and QUESTLINE_RULES).
    SIGINT or SIGTERM stops it gracefully.
    """
    try:
        settings = BotSettings.from_env()
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    logs.configure(settings)
    try:
        asyncio.run(_serve(settings))
    except TelegramUnauthorizedError:
        raise click.ClickException("Telegram rejected TELEGRAM_BOT_TOKEN (Unauthorized)") from None
    except TelegramAPIError as error:
        message = f"the Telegram Bot API failed: {error}"
        raise click.ClickException(settings.redact(message)) from None
    except Exception as error:
        log.exception("the bot stopped on an unexpected error")
        raise click.ClickException(settings.redact(f"{type(error).__name__}: {error}")) from None
