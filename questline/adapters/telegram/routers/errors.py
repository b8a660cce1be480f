"""What a learner hears when the engine refuses (a polite line, and nothing changed) or its
records fail (what was done may or may not have been saved)."""

from __future__ import annotations

import logging
from typing import cast

from aiogram import Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import ExceptionTypeFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import ErrorEvent

from questline.adapters.nats.publisher import PublishFailed
from questline.adapters.telegram.screens import notices
from questline.engine.db import database_unreachable
from questline.engine.errors import QuestlineError

log = logging.getLogger(__name__)


async def refuse(event: ErrorEvent, state: FSMContext | None = None) -> None:
    """Answer the press or the message that asked for something the engine refused."""
    text = notices.refusal(cast(QuestlineError, event.exception))
    update = event.update
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    elif update.message is not None:
        if state is not None:
            await state.clear()
        await update.message.answer(text)


async def database_failed(event: ErrorEvent) -> None:
    """The database failed (away, restarting, locked, no free connection): the update's write
    rolled back (or, cut off while committing, may have committed; or it committed and a later
    read failed); the learner is told it could not be confirmed and asked to try again (a
    lesson completed or a challenge solved again counts once), and the bot goes on polling."""
    log.warning("update %s: the database failed: %s", event.update.update_id, event.exception)
    await _tell(event, notices.database_unavailable())


async def _tell(event: ErrorEvent, text: str) -> None:
    update = event.update
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    elif update.message is not None:
        await update.message.answer(text)


async def not_published(event: ErrorEvent) -> None:
    """NATS did not take the learner's event (QUESTLINE_NATS_URL), or did without saying so;
    the learner is asked to try again."""
    log.warning(
        "update %s: NATS did not take the event: %s", event.update.update_id, event.exception
    )
    await _tell(event, notices.database_unavailable())


async def unreachable(event: ErrorEvent) -> None:
    """Telegram still failed after the retries: logged; a press is answered all the same."""
    log.warning("update %s: the Bot API failed: %s", event.update.update_id, event.exception)


def make_router() -> Router:
    router = Router(name="errors")
    router.errors.register(not_published, ExceptionTypeFilter(PublishFailed))  # before refuse
    router.errors.register(refuse, ExceptionTypeFilter(QuestlineError))
    router.errors.register(database_failed, lambda event: database_unreachable(event.exception))
    router.errors.register(unreachable, ExceptionTypeFilter(TelegramAPIError))
    return router
