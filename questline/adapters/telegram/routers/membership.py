"""The learner blocks or unblocks the bot: Telegram tells the bot at once (`my_chat_member`).

Blocking holds the learner's reminders there and then, rather than at the next reminder's
403; unblocking lifts the hold, also when the learner unblocks without pressing "Restart"
(which would send /start).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import KICKED, MEMBER, ChatMemberUpdatedFilter
from aiogram.types import ChatMemberUpdated

from questline.engine import Engine


async def blocked(update: ChatMemberUpdated, engine: Engine, now: Callable[[], datetime]) -> None:
    await engine.reminders_away(telegram_id=update.from_user.id, at=now())


async def unblocked(update: ChatMemberUpdated, engine: Engine, now: Callable[[], datetime]) -> None:
    await engine.reminders_back(telegram_id=update.from_user.id, at=now())


def make_router() -> Router:
    router = Router(name="membership")
    router.my_chat_member.filter(F.chat.type == ChatType.PRIVATE)
    router.my_chat_member.register(blocked, ChatMemberUpdatedFilter(member_status_changed=KICKED))
    router.my_chat_member.register(unblocked, ChatMemberUpdatedFilter(member_status_changed=MEMBER))
    return router
