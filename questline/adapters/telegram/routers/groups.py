"""Groups: the bot's screens belong to one learner, so it works in private chats only.

A command in a group gets one line pointing to the private chat; other group messages are
left alone.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.types import Message

from questline.adapters.telegram.screens import notices


async def private_only(message: Message, bot: Bot) -> None:
    me = await bot.me()
    await message.reply(notices.private_only(me.username))


async def ignore(message: Message) -> None:
    """Group chatter is not for the bot."""


def make_router() -> Router:
    router = Router(name="groups")
    router.message.filter(F.chat.type != ChatType.PRIVATE)
    router.message.register(private_only, F.text.startswith("/"))
    router.message.register(ignore)
    return router
