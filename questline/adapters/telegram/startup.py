"""Getting the bot ready to poll: who it is, no webhook, its commands in every language.

A Bot API that is away at start (429, 5xx, a proxy's error page, no connection) is waited
for, as polling rides out the same errors once running; a rejected token (or any other
refusal) stops the start at once.
"""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)

from questline.adapters.patience import once_it_answers
from questline.adapters.telegram import i18n
from questline.adapters.telegram.screens.menu import commands
from questline.adapters.telegram.session import without_flood_waits

log = logging.getLogger(__name__)
AWAY = (TelegramRetryAfter, TelegramServerError, ClientDecodeError, TelegramNetworkError)


async def prepare(bot: Bot) -> None:
    """Check the token (getMe), switch to long polling and publish the commands per language."""
    await bot.me()
    await bot.delete_webhook(drop_pending_updates=False)
    for locale in dict.fromkeys((i18n.DEFAULT_LOCALE, *i18n.get_i18n().available_locales)):
        with i18n.use_locale(locale):
            language = None if locale == i18n.DEFAULT_LOCALE else locale
            await bot.set_my_commands(commands(), language_code=language)


async def prepare_once_it_answers(bot: Bot, stopping: asyncio.Event) -> bool:
    """`prepare`, tried again while the Bot API is away (every second, or after the
    `retry_after` of a 429); False if `stopping` is set first."""

    async def attempt() -> bool:
        with without_flood_waits():  # a 429 is waited for here, where a signal ends the wait
            await prepare(bot)
        return True

    ready = await once_it_answers(
        attempt,
        AWAY,
        "the Telegram Bot API",
        log.warning,
        stopping,
        asked_wait=lambda error: getattr(error, "retry_after", 0.0),
    )
    return bool(ready)
