"""Putting screens in front of the learner: a new message, or the pressed one edited in place.

Every press is answered, whatever happens to the edit; a failed edit falls back to a new
message. `conclude` orders a result: the result, one celebration of the awards it earned,
then the next step, so the learner's next button is always at the bottom of the chat.
"""

from __future__ import annotations

import logging

from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import CallbackQuery, Message, User

from questline.adapters.telegram import notify
from questline.adapters.telegram.pictures import celebration_card
from questline.adapters.telegram.screens import Screen
from questline.engine import UserProfile
from questline.engine.events import LANGUAGE_LENGTH, NAME_LENGTH

log = logging.getLogger(__name__)


async def show(event: Message | CallbackQuery, screen: Screen, *, toast: str | None = None) -> None:
    """Answer a message with `screen`, or edit the pressed message and answer the press."""
    if isinstance(event, Message):
        await event.answer(screen.text, reply_markup=screen.markup)
        return
    try:
        await _replace(event, screen)
    finally:
        await _answer(event, toast)


async def _replace(callback: CallbackQuery, screen: Screen) -> None:
    """Edit the pressed message into `screen`; send it anew if the edit fails."""
    message = callback.message
    if isinstance(message, Message):
        try:
            await message.edit_text(screen.text, reply_markup=screen.markup)
            return
        except TelegramBadRequest as error:
            if "not modified" in error.message:
                return
            log.info("sending anew, could not edit message: %s", error.message)
        except TelegramAPIError as error:
            log.warning("sending anew, editing failed: %s", error)
    if callback.bot is not None:
        await callback.bot.send_message(
            callback.from_user.id, screen.text, reply_markup=screen.markup
        )


async def _answer(callback: CallbackQuery, toast: str | None) -> None:
    try:
        await callback.answer(toast)
    except TelegramAPIError as error:
        log.info("press not answered: %s", error)


async def conclude(
    event: Message | CallbackQuery,
    result: Screen,
    next_step: Screen,
    *,
    alone: Screen | None = None,
) -> None:
    """When nothing was earned, show `alone` (default: `result`, buttons and all); else the
    result without buttons, one celebration of the awards, and `next_step` under them."""
    awards = notify.take_awards()
    if not awards:
        await show(event, alone or result)
        return
    await show(event, Screen(result.text))
    bot = event.bot
    assert bot is not None
    chat_id = awards[0].telegram_id
    try:
        card = await celebration_card(bot, awards, event.from_user.full_name)
        await card.send(bot, chat_id)
        notify.shown(awards)
    except TelegramAPIError as error:
        log.warning("celebration failed, it is sent again after this update: %s", error)
        notify.give_back(awards)
    await bot.send_message(chat_id, next_step.text, reply_markup=next_step.markup)


def profile(user: User) -> UserProfile:
    """The engine's profile of a Telegram user; names are cut to what the engine holds
    (Telegram's own limits are lower, but nothing here rests on that)."""
    return UserProfile(
        telegram_id=user.id,
        username=_cut(user.username, NAME_LENGTH),
        first_name=_cut(user.first_name, NAME_LENGTH),
        last_name=_cut(user.last_name, NAME_LENGTH),
        language_code=_cut(user.language_code, LANGUAGE_LENGTH),
    )


def _cut(text: str | None, length: int) -> str | None:
    return text[:length] if text is not None else None
