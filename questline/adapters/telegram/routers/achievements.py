"""/achievements: earned ones with dates, locked ones with progress and what is missing."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message, User

from questline.adapters.telegram.callbacks import Screen as ScreenName
from questline.adapters.telegram.callbacks import ScreenCb
from questline.adapters.telegram.render import show
from questline.adapters.telegram.screens.stats import achievements_screen
from questline.engine import Engine


async def achievements(
    event: Message | CallbackQuery, event_from_user: User, engine: Engine
) -> None:
    statuses = await engine.achievements(telegram_id=event_from_user.id)
    await show(event, achievements_screen(event_from_user.id, statuses))


def make_router() -> Router:
    router = Router(name="achievements")
    router.message.register(achievements, Command("achievements"))
    router.callback_query.register(
        achievements, ScreenCb.filter(F.screen == ScreenName.ACHIEVEMENTS)
    )
    return router
