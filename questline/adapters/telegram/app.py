"""Building the Bot (pointed at TELEGRAM_API_BASE when set) and the Dispatcher."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseStorage

from questline.adapters.telegram import i18n
from questline.adapters.telegram.middlewares import (
    AnswerGuard,
    CelebrationMiddleware,
    InFlightMiddleware,
    OwnershipMiddleware,
    ThrottlingMiddleware,
)
from questline.adapters.telegram.notify import Notifier
from questline.adapters.telegram.recording import Recording
from questline.adapters.telegram.routers import all_routers
from questline.adapters.telegram.session import AnswerTracker, ChatFloods, RetryMiddleware
from questline.adapters.telegram.settings import BotSettings
from questline.adapters.telegram.storage import ChatOrdering, make_storage
from questline.engine import Engine
from questline.engine.timestamps import utcnow


def create_bot(settings: BotSettings, floods: ChatFloods) -> Bot:
    """A Bot sending HTML, talking to Telegram or to the server at `settings.api_base`.

    Every call it makes is retried on 429 and 5xx (bounded), its 429s are noted in `floods`
    per chat, and answered presses are noted.
    """
    session = (
        AiohttpSession(api=TelegramAPIServer.from_base(settings.api_base))
        if settings.api_base
        else AiohttpSession()
    )
    session.middleware(AnswerTracker())
    session.middleware(RetryMiddleware(floods=floods))
    return Bot(
        settings.token,
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


def build_dispatcher(
    engine: Engine,
    settings: BotSettings,
    notifier: Notifier,
    *,
    clock: Callable[[], float] = time.monotonic,
    now: Callable[[], datetime] = utcnow,
    storage: BaseStorage | None = None,
) -> Dispatcher:
    """The dispatcher with every router; handlers receive `engine`, `recording` (how a learner's
    events are recorded: in process here, see the runner), `settings` and `now` (the wall clock
    that picks this week's and month's boards) by injection.

    FSM state is kept by `storage` (default: per settings, see `make_storage`); one chat's
    updates are handled in order. `dispatcher["in_flight"]` counts updates being handled, for
    a graceful shutdown.
    """
    in_flight = InFlightMiddleware()
    dispatcher = Dispatcher(
        storage=storage or make_storage(settings, engine),
        events_isolation=ChatOrdering(),
        engine=engine,
        recording=Recording(engine),
        settings=settings,
        in_flight=in_flight,
        now=now,
    )
    AnswerGuard().install(dispatcher)
    dispatcher.update.outer_middleware(in_flight)
    i18n.middleware().setup(dispatcher)
    dispatcher.update.outer_middleware(CelebrationMiddleware(notifier))
    throttling = ThrottlingMiddleware(settings.throttle, clock)
    dispatcher.message.outer_middleware(throttling)
    dispatcher.callback_query.outer_middleware(throttling)
    dispatcher.callback_query.outer_middleware(OwnershipMiddleware())
    dispatcher.include_routers(*all_routers())
    return dispatcher
