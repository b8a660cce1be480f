"""/settings and /stop_reminders: a learner's reminders, set with buttons (the time zone may
also be typed in)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, User

from questline.adapters.telegram.callbacks import ReminderAction, ReminderCb, ScreenCb
from questline.adapters.telegram.callbacks import Screen as ScreenName
from questline.adapters.telegram.i18n import _
from questline.adapters.telegram.render import show
from questline.adapters.telegram.screens import notices
from questline.adapters.telegram.screens.reminders import (
    cities,
    nothing_to_stop,
    settings_screen,
    stopped_notice,
    unknown_zone,
    zone_prompt,
    zone_screen,
)
from questline.engine import Engine
from questline.engine.errors import InvalidReminder
from questline.engine.reminder_times import time_of


class Reminders(StatesGroup):
    typing_zone = State()


async def settings(
    event: Message | CallbackQuery,
    event_from_user: User,
    engine: Engine,
    state: FSMContext,
    now: Callable[[], datetime],
) -> None:
    """The learner's reminders; opening them also lifts a hold a 403 had put on them."""
    await state.clear()
    await engine.reminders_back(telegram_id=event_from_user.id, at=now())
    current = await engine.reminder_settings(telegram_id=event_from_user.id)
    await show(event, settings_screen(event_from_user.id, current, now()))


async def change(
    callback: CallbackQuery,
    callback_data: ReminderCb,
    event_from_user: User,
    engine: Engine,
    state: FSMContext,
    now: Callable[[], datetime],
) -> None:
    """Apply the pressed setting and show the settings again."""
    owner, action, value = event_from_user.id, callback_data.action, callback_data.value
    if action is ReminderAction.ZONES:
        await show(callback, zone_screen(owner, back=True))
        return
    if action is ReminderAction.TYPE_ZONE:
        await state.set_state(Reminders.typing_zone)
        await show(callback, zone_prompt(owner))
        return
    if action is ReminderAction.CITY and value >= len(cities()):
        await callback.answer(notices.stale_button(), show_alert=True)
        return
    await engine.reminders_back(telegram_id=owner, at=now())
    current = await engine.set_reminders(telegram_id=owner, at=now(), **_changes(action, value))
    notice = _("✅ Saved.")
    await show(callback, settings_screen(owner, current, now(), notice=notice), toast=notice)


def _changes(action: ReminderAction, value: int) -> dict[str, Any]:
    """The `Engine.set_reminders` arguments a pressed setting stands for."""
    match action:
        case ReminderAction.CITY:
            return {"time_zone": cities()[value][1]}
        case ReminderAction.DAILY:
            return {"daily_at": time_of(value)}
        case ReminderAction.NO_DAILY:
            return {"daily_at": None}
        case ReminderAction.NUDGE:
            return {"streak_nudge": bool(value)}
        case _:
            return {"stopped": action is ReminderAction.STOP}


async def typed_zone(
    message: Message,
    event_from_user: User,
    engine: Engine,
    state: FSMContext,
    now: Callable[[], datetime],
) -> None:
    """A time zone typed in: saved, or asked for again with what was wrong."""
    owner, given = event_from_user.id, (message.text or "").strip()
    try:
        current = await engine.set_reminders(telegram_id=owner, time_zone=given, at=now())
    except InvalidReminder:
        await show(message, unknown_zone(owner, given))
        return
    await state.clear()
    await show(message, settings_screen(owner, current, now(), notice=_("✅ Saved.")))


async def stop_reminders(
    message: Message, event_from_user: User, engine: Engine, now: Callable[[], datetime]
) -> None:
    if (await engine.reminder_settings(telegram_id=event_from_user.id)).time_zone is None:
        await message.answer(nothing_to_stop())
        return
    await engine.set_reminders(telegram_id=event_from_user.id, stopped=True, at=now())
    await message.answer(stopped_notice())


def make_router() -> Router:
    router = Router(name="settings")
    router.message.register(settings, Command("settings"))
    router.message.register(stop_reminders, Command("stop_reminders"))
    router.message.register(typed_zone, Reminders.typing_zone, F.text, ~F.text.startswith("/"))
    router.callback_query.register(settings, ScreenCb.filter(F.screen == ScreenName.SETTINGS))
    router.callback_query.register(change, ReminderCb.filter())
    return router
