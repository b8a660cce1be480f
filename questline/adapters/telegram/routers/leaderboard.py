"""/leaderboard: the top ten and the learner's own rank, with tabs for this week, this month
and all time, and the all-time top ten as a picture."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from aiogram import F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message, User

from questline.adapters.telegram.callbacks import BoardCb, Picture, PictureCb, ScreenCb
from questline.adapters.telegram.callbacks import Screen as ScreenName
from questline.adapters.telegram.i18n import _
from questline.adapters.telegram.pictures import leaderboard_photo
from questline.adapters.telegram.render import show
from questline.adapters.telegram.screens.stats import leaderboard_screen
from questline.engine import Engine
from questline.engine.periods import Period

log = logging.getLogger(__name__)
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


async def leaderboard_picture(
    callback: CallbackQuery,
    callback_data: PictureCb,
    event_from_user: User,
    engine: Engine,
    now: Callable[[], datetime],
) -> None:
    """The top ten of the tab's board as a picture, the asker's row marked."""
    period = callback_data.period
    top = await engine.top(TOP, period=period, at=now())
    mine = next((entry.user_id for entry in top if entry.telegram_id == event_from_user.id), None)
    titles = {
        Period.WEEK: _("Leaderboard — this week"),
        Period.MONTH: _("Leaderboard — this month"),
        Period.ALL: _("Leaderboard"),
    }
    photo = await leaderboard_photo(top, titles[period], highlight=mine)
    assert callback.bot is not None
    try:
        await callback.bot.send_photo(event_from_user.id, photo, caption=f"🥇 {titles[period]}")
    except TelegramAPIError as error:
        log.warning("leaderboard picture not sent to %s: %s", event_from_user.id, error)
    try:
        await callback.answer()
    except TelegramAPIError as error:
        log.info("press not answered: %s", error)


def make_router() -> Router:
    router = Router(name="leaderboard")
    router.message.register(leaderboard, Command("leaderboard"))
    router.callback_query.register(leaderboard, ScreenCb.filter(F.screen == ScreenName.LEADERBOARD))
    router.callback_query.register(leaderboard_tab, BoardCb.filter())
    router.callback_query.register(
        leaderboard_picture, PictureCb.filter(F.picture == Picture.LEADERBOARD)
    )
    return router
