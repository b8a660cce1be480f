"""Anything no other router took: unknown buttons get a polite answer, unknown commands get
help, and free text (no challenge waits for an answer) is told how to answer one."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message, User

from questline.adapters.telegram.render import show
from questline.adapters.telegram.screens import notices
from questline.adapters.telegram.screens.learning import answer_first
from questline.adapters.telegram.screens.menu import help_screen
from questline.engine import Engine
from questline.engine.models import ProgressStatus
from questline.engine.views import LessonProgress


async def unknown_button(callback: CallbackQuery) -> None:
    await callback.answer(notices.stale_button(), show_alert=True)


async def unknown_command(message: Message) -> None:
    await show(message, help_screen(message.from_user.id if message.from_user else None))


async def free_text(message: Message, event_from_user: User, engine: Engine) -> None:
    """Offer the challenge of a started lesson, if one is unsolved; else say how to answer."""
    report = await engine.progress(
        telegram_id=event_from_user.id, language=event_from_user.language_code
    )
    published = [entry for entry in report.modules if entry.module.is_published]
    candidates: list[LessonProgress] = [
        item
        for entry in published
        for item in entry.lessons
        if item.lesson.challenge and not item.solved
        if item.status is not ProgressStatus.NOT_STARTED
    ]
    await show(message, answer_first(event_from_user.id, candidates[0] if candidates else None))


def make_router() -> Router:
    router = Router(name="fallback")
    router.callback_query.register(unknown_button)
    router.message.register(free_text, F.text, ~F.text.startswith("/"))
    router.message.register(unknown_command)
    return router
