"""Telegram delivers an update again when the bot stopped before confirming it: what the
update records counts once. And a lesson's Complete is taken only once the lesson is started,
as its buttons offer."""

from __future__ import annotations

from typing import Any

from questline.engine import Engine
from questline.engine.models import ProgressStatus
from tests.telegram.harness import FakeUser, Harness, Reply
from tests.telegram.test_bad_input import started
from tests.telegram.test_journeys import earned, lesson_id, statuses

STALE = "This button is out of date. Send /start for a fresh menu."


async def delivered_twice(bot: Harness, user: FakeUser, update: dict[str, Any]) -> Reply:
    """Hand the bot the same update twice, as Telegram does after a restart."""
    await bot.exchange(user, update, pause=1.0)
    return await bot.exchange(user, update, pause=1.0)


async def events(engine: Engine) -> int:
    return (await engine.stats())["events"]


async def open_question(user: FakeUser) -> None:
    for label in ("Modules", "Python basics", "Variables", "Start", "Answer"):
        await user.press(label)


async def test_an_answer_delivered_twice_is_one_attempt_and_one_solve(
    bot: Harness, engine: Engine
) -> None:
    alice = await started(bot, 1401)
    await open_question(alice)
    before = await events(engine)

    await delivered_twice(bot, alice, alice.message_update("six"))
    assert await events(engine) == before + 1  # one attempt

    again = await delivered_twice(bot, alice, alice.message_update("5"))
    assert await events(engine) == before + 1 + 3  # attempt, solve, the award it earned
    assert await earned(engine, 1401) == {"first-solve"}
    report = await engine.progress(telegram_id=1401)
    assert report.total_score == 10 + 5
    assert "Correct" not in again.text  # the second delivery found no question waiting


async def test_a_press_delivered_twice_records_once(bot: Harness, engine: Engine) -> None:
    bob = await started(bot, 1402, "Bob")
    for label in ("Modules", "Python basics", "Variables"):
        await bob.press(label)
    before = await events(engine)
    _, start = bob.callback_update(bob.button_data("Start"))
    await delivered_twice(bot, bob, start)
    assert await events(engine) == before + 1
    _, complete = bob.callback_update(bob.button_data("Complete"))
    await delivered_twice(bot, bob, complete)
    assert (await statuses(engine, 1402))["variables"] is ProgressStatus.COMPLETED
    assert await events(engine) == before + 2 + len(await earned(engine, 1402))


async def test_complete_of_a_lesson_not_started_is_a_stale_button(
    bot: Harness, engine: Engine
) -> None:
    carol = await started(bot, 1403, "Carol")
    for label in ("Modules", "Python basics", "Variables"):
        await carol.press(label)
    start = carol.button_data("Start")
    before = await engine.stats()

    reply = await carol.press_data(start.replace(":start", ":done"))
    assert reply.answer_text == STALE
    assert await engine.stats() == before
    assert (await statuses(engine, 1403))["variables"] is ProgressStatus.NOT_STARTED
    assert await lesson_id(engine, "variables") > 0
