"""/achievements: the closest locked ones with what is missing, the earned ones, then the rest
on "Show all"."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message, User

from questline.adapters.telegram.callbacks import Screen as ScreenName
from questline.adapters.telegram.callbacks import ScreenCb
from questline.adapters.telegram.i18n import current_locale
from questline.adapters.telegram.render import show
from questline.adapters.telegram.screens.stats import achievements_screen
from questline.engine import Engine


async def achievements(
    event: Message | CallbackQuery, event_from_user: User, engine: Engine
) -> None:
    statuses = await engine.achievements(
        telegram_id=event_from_user.id,
        locale=current_locale(),
        language=event_from_user.language_code,
    )
    await show(event, achievements_screen(event_from_user.id, statuses))


async def all_achievements(callback: CallbackQuery, event_from_user: User, engine: Engine) -> None:
    statuses = await engine.achievements(
        telegram_id=event_from_user.id,
        locale=current_locale(),
        language=event_from_user.language_code,
    )
    await show(callback, achievements_screen(event_from_user.id, statuses, show_all=True))


def make_router() -> Router:
    router = Router(name="achievements")
    router.message.register(achievements, Command("achievements"))
    router.callback_query.register(
        achievements, ScreenCb.filter(F.screen == ScreenName.ACHIEVEMENTS)
    )
    router.callback_query.register(
        all_achievements, ScreenCb.filter(F.screen == ScreenName.ALL_ACHIEVEMENTS)
    )
    return router
