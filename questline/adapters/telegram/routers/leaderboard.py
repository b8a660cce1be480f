"""/leaderboard: the top ten and the learner's own rank."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message, User

from questline.adapters.telegram.callbacks import Screen as ScreenName
from questline.adapters.telegram.callbacks import ScreenCb
from questline.adapters.telegram.render import show
from questline.adapters.telegram.screens.stats import leaderboard_screen
from questline.engine import Engine

TOP = 10


async def leaderboard(
    event: Message | CallbackQuery, event_from_user: User, engine: Engine
) -> None:
    top = await engine.top(TOP)
    around = await engine.around(telegram_id=event_from_user.id, radius=1)
    mine = next((entry for entry in around if entry.telegram_id == event_from_user.id), None)
    await show(event, leaderboard_screen(event_from_user.id, top, mine, around))


def make_router() -> Router:
    router = Router(name="leaderboard")
    router.message.register(leaderboard, Command("leaderboard"))
    router.callback_query.register(leaderboard, ScreenCb.filter(F.screen == ScreenName.LEADERBOARD))
    return router
