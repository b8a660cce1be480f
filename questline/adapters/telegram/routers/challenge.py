"""A lesson's challenge: the learner presses Answer, then answers in the chat."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, User

from questline.adapters.telegram.callbacks import LessonAction, LessonCb
from questline.adapters.telegram.render import show
from questline.adapters.telegram.routers.learning import find_lesson
from questline.adapters.telegram.screens.learning import challenge_prompt, challenge_result
from questline.engine import Engine
from questline.engine.errors import NoChallenge


class Challenge(StatesGroup):
    answering = State()


async def ask(
    callback: CallbackQuery,
    callback_data: LessonCb,
    event_from_user: User,
    engine: Engine,
    state: FSMContext,
) -> None:
    """Show the question and wait for the answer as a message."""
    _, item = await find_lesson(engine, event_from_user.id, callback_data.lesson_id)
    if item.lesson.challenge is None:
        raise NoChallenge(f"lesson {item.lesson.id} has no challenge")
    await state.set_state(Challenge.answering)
    await state.update_data(lesson_id=item.lesson.id)
    screen = challenge_prompt(event_from_user.id, item)
    if isinstance(callback.message, Message):
        await callback.message.answer(screen.text, reply_markup=screen.markup)
    await callback.answer()


async def answer(
    message: Message, event_from_user: User, engine: Engine, state: FSMContext
) -> None:
    """Let the engine judge the answer; the score is the engine's, never the client's."""
    lesson_id = int((await state.get_data())["lesson_id"])
    outcome = await engine.answer_challenge(
        telegram_id=event_from_user.id, lesson_id=lesson_id, answer=message.text or ""
    )
    if outcome.solved:
        await state.clear()
    screen = challenge_result(
        event_from_user.id, lesson_id, solved=outcome.solved, score=outcome.score
    )
    await show(message, screen)


def make_router() -> Router:
    router = Router(name="challenge")
    router.callback_query.register(ask, LessonCb.filter(F.action == LessonAction.ANSWER))
    router.message.register(answer, Challenge.answering, F.text, ~F.text.startswith("/"))
    return router
