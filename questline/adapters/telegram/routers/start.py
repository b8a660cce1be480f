"""/start (register and greet), the main menu and /help."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiogram import F, Router
from aiogram.filters import Command, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, User

from questline.adapters.telegram.callbacks import Screen as ScreenName
from questline.adapters.telegram.callbacks import ScreenCb
from questline.adapters.telegram.recording import Recording
from questline.adapters.telegram.render import profile, show
from questline.adapters.telegram.routers.goal import goal_of
from questline.adapters.telegram.screens.menu import greeting, help_screen, main_menu
from questline.engine import Engine, Event
from questline.rules.vocabulary import ActivityType


async def start(
    message: Message,
    event_from_user: User,
    engine: Engine,
    recording: Recording,
    state: FSMContext,
    now: Callable[[], datetime],
) -> None:
    """Register or update the learner from their Telegram profile, log the visit, greet.

    A learner whose reminders a 403 had stopped is back (unblocking a bot sends /start).
    """
    known = await engine.find_user(telegram_id=event_from_user.id)
    await engine.register_user(profile(event_from_user))
    await engine.reminders_back(telegram_id=event_from_user.id, at=now())
    await recording.record(Event(type=ActivityType.LOGIN, telegram_id=event_from_user.id))
    await state.clear()
    hello = greeting(event_from_user.first_name, returning=known is not None)
    today = await goal_of(engine, event_from_user.id)
    await show(message, main_menu(event_from_user.id, greeting=hello, goal=today))


async def menu(callback: CallbackQuery, event_from_user: User, engine: Engine) -> None:
    today = await goal_of(engine, event_from_user.id)
    await show(callback, main_menu(event_from_user.id, goal=today))


async def help_command(message: Message, event_from_user: User) -> None:
    await show(message, help_screen(event_from_user.id))


async def help_button(callback: CallbackQuery, event_from_user: User) -> None:
    await show(callback, help_screen(event_from_user.id))


def make_router() -> Router:
    router = Router(name="start")
    router.message.register(start, CommandStart())
    router.message.register(help_command, Command("help"))
    router.callback_query.register(menu, ScreenCb.filter(F.screen == ScreenName.MENU))
    router.callback_query.register(help_button, ScreenCb.filter(F.screen == ScreenName.HELP))
    return router
