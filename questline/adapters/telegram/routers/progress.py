"""/progress: per-module bars, totals and streaks."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message, User

from questline.adapters.telegram.callbacks import Screen as ScreenName
from questline.adapters.telegram.callbacks import ScreenCb
from questline.adapters.telegram.render import show
from questline.adapters.telegram.screens.stats import progress_screen
from questline.engine import Engine


async def progress(event: Message | CallbackQuery, event_from_user: User, engine: Engine) -> None:
    report = await engine.progress(telegram_id=event_from_user.id)
    await show(event, progress_screen(event_from_user.id, report))


def make_router() -> Router:
    router = Router(name="progress")
    router.message.register(progress, Command("progress"))
    router.callback_query.register(progress, ScreenCb.filter(F.screen == ScreenName.PROGRESS))
    return router
