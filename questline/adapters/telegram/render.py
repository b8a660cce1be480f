"""Putting a screen in front of the learner: a new message, or the pressed one edited in place."""

from __future__ import annotations

import logging

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, Message, User

from questline.adapters.telegram.screens import Screen
from questline.engine import UserProfile

log = logging.getLogger(__name__)


async def show(event: Message | CallbackQuery, screen: Screen, *, toast: str | None = None) -> None:
    """Answer a message with `screen`, or edit the pressed message and answer the press."""
    if isinstance(event, Message):
        await event.answer(screen.text, reply_markup=screen.markup)
        return
    message = event.message
    if isinstance(message, Message):
        try:
            await message.edit_text(screen.text, reply_markup=screen.markup)
        except TelegramBadRequest as error:
            if "not modified" not in error.message:
                log.info("sending anew, could not edit message: %s", error.message)
                await message.answer(screen.text, reply_markup=screen.markup)
    elif event.bot is not None:
        await event.bot.send_message(event.from_user.id, screen.text, reply_markup=screen.markup)
    await event.answer(toast)


def profile(user: User) -> UserProfile:
    """The engine's profile of a Telegram user."""
    return UserProfile(
        telegram_id=user.id,
        username=user.username,
        first_name=user.first_name,
        last_name=user.last_name,
        language_code=user.language_code,
    )
