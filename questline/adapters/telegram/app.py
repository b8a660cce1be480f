"""Building the Bot (pointed at TELEGRAM_API_BASE when set) and the Dispatcher."""

from __future__ import annotations

import time
from collections.abc import Callable

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode

from questline.adapters.telegram import i18n
from questline.adapters.telegram.middlewares import (
    InFlightMiddleware,
    OwnershipMiddleware,
    ThrottlingMiddleware,
)
from questline.adapters.telegram.routers import all_routers
from questline.adapters.telegram.settings import BotSettings
from questline.engine import Engine


def create_bot(settings: BotSettings) -> Bot:
    """A Bot sending HTML, talking to Telegram or to the server at `settings.api_base`."""
    session = (
        AiohttpSession(api=TelegramAPIServer.from_base(settings.api_base))
        if settings.api_base
        else AiohttpSession()
    )
    return Bot(
        settings.token,
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


def build_dispatcher(
    engine: Engine, settings: BotSettings, *, clock: Callable[[], float] = time.monotonic
) -> Dispatcher:
    """The dispatcher with every router; handlers receive `engine` and `settings` by injection.

    `dispatcher["in_flight"]` counts updates being handled, for a graceful shutdown.
    """
    in_flight = InFlightMiddleware()
    dispatcher = Dispatcher(engine=engine, settings=settings, in_flight=in_flight)
    dispatcher.update.outer_middleware(in_flight)
    i18n.middleware().setup(dispatcher)
    throttling = ThrottlingMiddleware(settings.throttle, clock)
    dispatcher.message.outer_middleware(throttling)
    dispatcher.callback_query.outer_middleware(throttling)
    dispatcher.callback_query.outer_middleware(OwnershipMiddleware())
    dispatcher.include_routers(*all_routers())
    return dispatcher
