"""Modules, a module's lessons, a lesson; starting and completing it."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message, User

from questline.adapters.telegram.callbacks import LessonAction, LessonCb, ModuleCb, PageCb, ScreenCb
from questline.adapters.telegram.callbacks import Screen as ScreenName
from questline.adapters.telegram.i18n import _
from questline.adapters.telegram.recording import Recording, update_key
from questline.adapters.telegram.render import conclude, show
from questline.adapters.telegram.screens import notices
from questline.adapters.telegram.screens.learning import (
    following_module,
    lesson_pages,
    lesson_screen,
    module_screen,
    modules_screen,
    next_step,
)
from questline.adapters.telegram.screens.menu import goal_line
from questline.engine import Engine, Event
from questline.engine.errors import UnpublishedLesson, UnpublishedModule
from questline.engine.models import ProgressStatus
from questline.engine.views import LessonProgress, ModuleProgress, ModuleView
from questline.rules.vocabulary import ActivityType


async def published(engine: Engine, learner: User) -> list[ModuleProgress]:
    """The learner's progress in every published module, in order, in their language."""
    report = await engine.progress(telegram_id=learner.id, language=learner.language_code)
    return [entry for entry in report.modules if entry.module.is_published]


async def find_lesson(
    engine: Engine, learner: User, lesson_id: int
) -> tuple[ModuleProgress, LessonProgress, ModuleView | None]:
    """A published lesson with the learner's status in it, and the module after its module;
    engine errors if there is none."""
    await engine.lesson(lesson_id)
    modules = await published(engine, learner)
    for entry in modules:
        for item in entry.lessons:
            if item.lesson.id == lesson_id:
                return entry, item, following_module(modules, entry.module.id)
    raise UnpublishedLesson(f"lesson {lesson_id} is not published")


async def modules_command(message: Message, event_from_user: User, engine: Engine) -> None:
    modules = await published(engine, event_from_user)
    await show(message, modules_screen(event_from_user.id, modules))


async def modules_button(callback: CallbackQuery, event_from_user: User, engine: Engine) -> None:
    modules = await published(engine, event_from_user)
    await show(callback, modules_screen(event_from_user.id, modules))


async def module_button(
    callback: CallbackQuery, callback_data: ModuleCb, event_from_user: User, engine: Engine
) -> None:
    await engine.module(callback_data.module_id)
    modules = await published(engine, event_from_user)
    for entry in modules:
        if entry.module.id == callback_data.module_id:
            onward = following_module(modules, entry.module.id)
            await show(callback, module_screen(event_from_user.id, entry, next_module=onward))
            return
    raise UnpublishedModule(f"module {callback_data.module_id} is not published")


async def lesson_button(
    callback: CallbackQuery,
    callback_data: LessonCb,
    event_from_user: User,
    engine: Engine,
    recording: Recording,
) -> None:
    """Open, start or complete a lesson; the status decides what a press may still do (a
    lesson is completed once started, as its buttons offer).

    A start or completion that earns awards is followed by one celebration, then the next
    step, so the buttons stay at the bottom of the chat.
    """
    owner, lesson_id = event_from_user.id, callback_data.lesson_id
    entry, item, onward = await find_lesson(engine, event_from_user, lesson_id)
    action, notice, key = callback_data.action, None, update_key(callback)
    if action is LessonAction.COMPLETE and item.status is ProgressStatus.NOT_STARTED:
        screen = lesson_screen(owner, entry, item, next_module=onward)
        await show(callback, screen, toast=notices.stale_button())
        return
    if action is LessonAction.START and item.status is ProgressStatus.NOT_STARTED:
        await recording.record(
            Event(
                type=ActivityType.LESSON_STARTED,
                telegram_id=owner,
                lesson_id=lesson_id,
                idempotency_key=key,
            )
        )
        notice = _("▶️ Lesson started. Read it, then press Complete.")
    elif action is LessonAction.COMPLETE and item.status is ProgressStatus.IN_PROGRESS:
        await recording.record(
            Event(
                type=ActivityType.LESSON_COMPLETED,
                telegram_id=owner,
                lesson_id=lesson_id,
                idempotency_key=key,
            )
        )
        notice = _("✅ Lesson completed!")
        today = goal_line(await engine.daily_goal(telegram_id=owner))
        if today:
            notice = f"{notice}\n{today}"
    if notice is None:
        await show(callback, lesson_screen(owner, entry, item, next_module=onward))
        return
    entry, item, onward = await find_lesson(engine, event_from_user, lesson_id)
    if entry.completed == entry.total:
        notice = "\n".join((notice, _("🎉 You have completed this module!")))
    result = lesson_screen(owner, entry, item, notice=notice, next_module=onward)
    await conclude(callback, result, next_step(owner, entry, item, next_module=onward))


async def lesson_page(
    callback: CallbackQuery, callback_data: PageCb, event_from_user: User, engine: Engine
) -> None:
    """Turn a page of a lesson's content; a page it no longer has (the content was shortened)
    shows its last page, with a word that the button was out of date."""
    owner = event_from_user.id
    entry, item, onward = await find_lesson(engine, event_from_user, callback_data.lesson_id)
    stale = callback_data.page >= len(lesson_pages(item))
    screen = lesson_screen(owner, entry, item, next_module=onward, page=callback_data.page)
    await show(callback, screen, toast=notices.stale_button() if stale else None)


def make_router() -> Router:
    router = Router(name="learning")
    router.message.register(modules_command, Command("modules"))
    router.callback_query.register(modules_button, ScreenCb.filter(F.screen == ScreenName.MODULES))
    router.callback_query.register(module_button, ModuleCb.filter())
    router.callback_query.register(lesson_button, LessonCb.filter(F.action != LessonAction.ANSWER))
    router.callback_query.register(lesson_page, PageCb.filter())
    return router
