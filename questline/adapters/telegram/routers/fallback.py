"""Anything no other router took: unknown buttons get a polite answer, messages get help."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message

from questline.adapters.telegram.render import show
from questline.adapters.telegram.screens import notices
from questline.adapters.telegram.screens.menu import help_screen


async def unknown_button(callback: CallbackQuery) -> None:
    await callback.answer(notices.stale_button(), show_alert=True)


async def unexpected_message(message: Message) -> None:
    await show(message, help_screen(message.from_user.id if message.from_user else None))


def make_router() -> Router:
    router = Router(name="fallback")
    router.callback_query.register(unknown_button)
    router.message.register(unexpected_message)
    return router
