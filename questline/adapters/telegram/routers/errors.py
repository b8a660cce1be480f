"""What a learner hears when the engine refuses: a polite line, and nothing changed."""

from __future__ import annotations

from typing import cast

from aiogram import Router
from aiogram.filters import ExceptionTypeFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import ErrorEvent

from questline.adapters.telegram.screens import notices
from questline.engine.errors import QuestlineError


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


def make_router() -> Router:
    router = Router(name="errors")
    router.errors.register(refuse, ExceptionTypeFilter(QuestlineError))
    return router
