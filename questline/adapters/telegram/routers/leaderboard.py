"""/leaderboard: the top ten and the learner's own rank, with tabs for this week, this month
and all time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message, User

from questline.adapters.telegram.callbacks import BoardCb, ScreenCb
from questline.adapters.telegram.callbacks import Screen as ScreenName
from questline.adapters.telegram.render import show
from questline.adapters.telegram.screens.stats import leaderboard_screen
from questline.engine import Engine
from questline.engine.periods import Period

TOP = 10


async def _board(
    event: Message | CallbackQuery, owner: int, engine: Engine, period: Period, at: datetime
) -> None:
    top = await engine.top(TOP, period=period, at=at)
    around = await engine.around(telegram_id=owner, radius=1, period=period, at=at)
    mine = next((entry for entry in around if entry.telegram_id == owner), None)
    await show(event, leaderboard_screen(owner, top, mine, around, period))


async def leaderboard(
    event: Message | CallbackQuery,
    event_from_user: User,
    engine: Engine,
    now: Callable[[], datetime],
) -> None:
    """The all-time board."""
    await _board(event, event_from_user.id, engine, Period.ALL, now())


async def leaderboard_tab(
    query: CallbackQuery,
    callback_data: BoardCb,
    event_from_user: User,
    engine: Engine,
    now: Callable[[], datetime],
) -> None:
    """The board of the tab pressed."""
    await _board(query, event_from_user.id, engine, callback_data.period, now())


def make_router() -> Router:
    router = Router(name="leaderboard")
    router.message.register(leaderboard, Command("leaderboard"))
    router.callback_query.register(leaderboard, ScreenCb.filter(F.screen == ScreenName.LEADERBOARD))
    router.callback_query.register(leaderboard_tab, BoardCb.filter())
    return router
