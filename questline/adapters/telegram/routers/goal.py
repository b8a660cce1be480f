"""/goal: pick a daily goal of lessons; the menu and each completion show today's progress."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message, User

from questline.adapters.telegram.callbacks import GoalCb, ScreenCb
from questline.adapters.telegram.callbacks import Screen as ScreenName
from questline.adapters.telegram.i18n import _
from questline.adapters.telegram.render import show
from questline.adapters.telegram.screens.menu import goal_screen
from questline.engine import Engine
from questline.engine.errors import UnknownUser
from questline.engine.views import DailyGoal


async def goal_of(engine: Engine, telegram_id: int) -> DailyGoal | None:
    """The learner's daily goal, or None for someone who has not sent /start yet."""
    try:
        return await engine.daily_goal(telegram_id=telegram_id)
    except UnknownUser:
        return None


async def goal(event: Message | CallbackQuery, event_from_user: User, engine: Engine) -> None:
    standing = await engine.daily_goal(telegram_id=event_from_user.id)
    await show(event, goal_screen(event_from_user.id, standing))


async def choose(
    callback: CallbackQuery, callback_data: GoalCb, event_from_user: User, engine: Engine
) -> None:
    """Set the pressed goal (0 clears it) and say so."""
    lessons = callback_data.lessons or None
    standing = await engine.set_daily_goal(lessons, telegram_id=event_from_user.id)
    notice = _("✅ Daily goal saved.") if lessons else _("Daily goal cleared.")
    await show(callback, goal_screen(event_from_user.id, standing, notice=notice), toast=notice)


def make_router() -> Router:
    router = Router(name="goal")
    router.message.register(goal, Command("goal"))
    router.callback_query.register(goal, ScreenCb.filter(F.screen == ScreenName.GOAL))
    router.callback_query.register(choose, GoalCb.filter())
    return router
