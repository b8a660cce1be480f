"""/progress: per-module bars, totals and streaks, then the heat-map of the last 12 weeks."""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message, User

from questline.adapters.telegram.callbacks import Screen as ScreenName
from questline.adapters.telegram.callbacks import ScreenCb
from questline.adapters.telegram.i18n import _
from questline.adapters.telegram.pictures import heatmap_photo
from questline.adapters.telegram.render import show
from questline.adapters.telegram.screens.stats import progress_screen
from questline.engine import Engine

log = logging.getLogger(__name__)


async def progress(event: Message | CallbackQuery, event_from_user: User, engine: Engine) -> None:
    report = await engine.progress(
        telegram_id=event_from_user.id, language=event_from_user.language_code
    )
    await show(event, progress_screen(event_from_user.id, report))
    calendar = await engine.activity_calendar(telegram_id=event_from_user.id)
    assert event.bot is not None
    try:
        await event.bot.send_photo(
            event_from_user.id,
            await heatmap_photo(calendar),
            caption=_("🗓 Your activity, day by day"),
        )
    except TelegramAPIError as error:
        log.warning("heat-map not sent to %s: %s", event_from_user.id, error)


def make_router() -> Router:
    router = Router(name="progress")
    router.message.register(progress, Command("progress"))
    router.callback_query.register(progress, ScreenCb.filter(F.screen == ScreenName.PROGRESS))
    return router
