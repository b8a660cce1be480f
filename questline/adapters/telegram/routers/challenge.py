"""A lesson's challenge: the learner presses Answer, then answers in the chat or, when the
challenge has options, presses one.

The question replaces the pressed lesson card; the answer's result comes under the learner's
message, then (if it earned any) the celebration, then the next step. A challenge is solved
once: a right answer after that is "already solved".
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, User

from questline.adapters.telegram.callbacks import ChoiceCb, LessonAction, LessonCb
from questline.adapters.telegram.recording import Recording, update_key
from questline.adapters.telegram.render import conclude, show
from questline.adapters.telegram.routers.learning import find_lesson
from questline.adapters.telegram.screens import Screen, notices
from questline.adapters.telegram.screens.learning import (
    challenge_prompt,
    challenge_verdict,
    lesson_screen,
    next_step,
    wrong_answer,
)
from questline.engine import Engine
from questline.engine.errors import NoChallenge
from questline.engine.views import ChallengeOutcome


class Challenge(StatesGroup):
    answering = State()


async def ask(
    callback: CallbackQuery,
    callback_data: LessonCb,
    event_from_user: User,
    engine: Engine,
    state: FSMContext,
) -> None:
    """Show the question in place of the lesson and wait for the answer as a message."""
    owner = event_from_user.id
    entry, item, onward = await find_lesson(engine, event_from_user, callback_data.lesson_id)
    if item.lesson.challenge is None:
        raise NoChallenge(f"lesson {item.lesson.id} has no challenge")
    if item.solved:
        verdict = challenge_verdict(solved=True, already=True, score=None)
        screen = lesson_screen(owner, entry, item, next_module=onward)
        await show(callback, screen, toast=verdict)
        return
    await state.set_state(Challenge.answering)
    await state.set_data({"lesson_id": item.lesson.id})
    await show(callback, challenge_prompt(owner, item))


async def answer(
    message: Message,
    event_from_user: User,
    engine: Engine,
    recording: Recording,
    state: FSMContext,
) -> None:
    """Let the engine judge the answer; the score is the engine's, never the client's."""
    owner = event_from_user.id
    lesson_id = int((await state.get_data())["lesson_id"])
    outcome = await recording.answer(
        telegram_id=owner, lesson_id=lesson_id, answer=message.text or "", key=update_key(message)
    )
    if not outcome.solved:
        await show(message, wrong_answer(owner, lesson_id))
        return
    await state.clear()
    await _solved(message, engine, event_from_user, lesson_id, outcome)


async def not_an_answer(
    message: Message, event_from_user: User, engine: Engine, state: FSMContext
) -> None:
    """A sticker, photo or other message without text while a question waits: ask it again
    (it says how to answer); nothing is judged or recorded."""
    lesson_id = int((await state.get_data())["lesson_id"])
    _, item, _ = await find_lesson(engine, event_from_user, lesson_id)
    await show(message, challenge_prompt(event_from_user.id, item))


async def choose(
    callback: CallbackQuery,
    callback_data: ChoiceCb,
    event_from_user: User,
    engine: Engine,
    recording: Recording,
    state: FSMContext,
) -> None:
    """A pressed option is the answer; the button carries its position, the text is the
    course's. A position the challenge no longer has (the course changed) redraws the options."""
    owner = event_from_user.id
    _, item, _ = await find_lesson(engine, event_from_user, callback_data.lesson_id)
    challenge = item.lesson.challenge
    if challenge is None:
        raise NoChallenge(f"lesson {item.lesson.id} has no challenge")
    if callback_data.option >= len(challenge.options):
        await show(callback, challenge_prompt(owner, item), toast=notices.stale_button())
        return
    outcome = await recording.answer(
        telegram_id=owner,
        lesson_id=item.lesson.id,
        answer=challenge.options[callback_data.option],
        key=update_key(callback),
    )
    if not outcome.solved:
        verdict = challenge_verdict(solved=False, already=False, score=None)
        await show(callback, challenge_prompt(owner, item, notice=verdict), toast=verdict)
        return
    await state.clear()
    await _solved(callback, engine, event_from_user, item.lesson.id, outcome)


async def _solved(
    event: Message | CallbackQuery,
    engine: Engine,
    learner: User,
    lesson_id: int,
    outcome: ChallengeOutcome,
) -> None:
    """The verdict with the engine's score, any celebration, then the next step."""
    verdict = challenge_verdict(solved=True, already=outcome.already_solved, score=outcome.score)
    entry, item, onward = await find_lesson(engine, learner, lesson_id)
    after = next_step(learner.id, entry, item, next_module=onward)
    alone = Screen("\n\n".join((verdict, after.text)), after.markup)
    await conclude(event, Screen(verdict), after, alone=alone)


def make_router() -> Router:
    router = Router(name="challenge")
    router.callback_query.register(ask, LessonCb.filter(F.action == LessonAction.ANSWER))
    router.callback_query.register(choose, ChoiceCb.filter())
    router.message.register(answer, Challenge.answering, F.text, ~F.text.startswith("/"))
    router.message.register(not_an_answer, Challenge.answering, ~F.text)
    return router
