"""Award notifications: "🏆 <title> (+points)" to the learner, in their language."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError

from questline.adapters.telegram.i18n import use_locale
from questline.adapters.telegram.screens import notices
from questline.engine import Engine
from questline.engine.views import AwardView

log = logging.getLogger(__name__)


async def send_award(bot: Bot, engine: Engine, award: AwardView) -> bool:
    """Tell the learner about `award`; a refusal (blocked bot…) is logged, never raised."""
    user = await engine.find_user(telegram_id=award.telegram_id)
    with use_locale(user.language_code if user else None):
        text = notices.award(award)
    try:
        await bot.send_message(award.telegram_id, text)
    except TelegramForbiddenError as error:
        log.info("award %r not delivered to %s: %s", award.slug, award.telegram_id, error.message)
        return False
    except TelegramAPIError as error:
        log.warning("award %r not delivered to %s: %s", award.slug, award.telegram_id, error)
        return False
    return True
