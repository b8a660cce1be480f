"""Multiple-choice challenges: options as buttons, typing still possible, forged presses."""

from __future__ import annotations

from pathlib import Path

import pytest

from questline.adapters.telegram.callbacks import ChoiceCb
from questline.engine import Engine
from tests.telegram.harness import FakeUser, Harness
from tests.telegram.test_bad_input import course_file, edit_course, started
from tests.telegram.test_journeys import earned, lesson_id

__all__ = ["course_file"]  # the fixture: a copy of the course that each test edits

OPTIONS = ["print", "5", "2 + 3", "23"]
STALE = "This button is out of date. Send /start for a fresh menu."


@pytest.fixture
async def choices(engine: Engine, course_file: Path) -> Engine:
    """The course with options on the Variables challenge, loaded."""
    challenge = {
        "question": "What does print(2 + 3) show?",
        "answers": ["5"],
        "options": OPTIONS,
        "points": 10,
    }
    edit_course(course_file, "variables", challenge=challenge)
    await engine.load_content(course_file)
    return engine


async def open_question(user: FakeUser) -> None:
    for label in ("Modules", "Python basics", "Variables", "Start", "Answer"):
        await user.press(label)


async def test_a_pressed_option_is_judged_by_the_engine(bot: Harness, choices: Engine) -> None:
    alice = await started(bot, 701)
    await open_question(alice)
    screen = alice.screen()
    assert "Pick an answer, or send it as a message." in screen["text"]
    assert [label for label in alice.buttons() if label in OPTIONS] == OPTIONS

    reply = await alice.press("2 + 3")
    assert reply.methods == ["editMessageText"]  # the question stays, with the verdict on top
    assert reply.text.startswith("❌ Not quite.") and "What does print(2 + 3) show?" in reply.text
    assert reply.answer_text is not None and "Not quite" in reply.answer_text
    assert set(OPTIONS) <= set(alice.buttons())
    assert await earned(choices, 701) == set()

    reply = await alice.press("5", message=alice.screen())
    assert reply.texts[:2] == [
        "✅ Correct! +10 points.",
        "🏆 Problem solver (+5)\n<i>Solve a challenge</i>",
    ]
    assert reply.texts[2].startswith("➡️ <b>Variables</b> — in progress")
    assert await earned(choices, 701) == {"first-solve"}
    report = await choices.progress(telegram_id=701)
    solved = [item for entry in report.modules for item in entry.lessons if item.solved]
    assert [(item.lesson.slug, item.score) for item in solved] == [("variables", 10)]


async def test_typing_the_answer_still_works_and_free_text_is_not_limited_to_options(
    bot: Harness, choices: Engine
) -> None:
    bob = await started(bot, 702, "Bob")
    await open_question(bob)
    reply = await bob.send("five")
    assert "Not quite" in reply.text
    reply = await bob.send(" 5 ")
    assert reply.texts[0] == "✅ Correct! +10 points."
    assert await earned(choices, 702) == {"first-solve"}


async def test_pressing_an_option_again_after_solving_scores_nothing(
    bot: Harness, choices: Engine
) -> None:
    carol = await started(bot, 703, "Carol")
    await open_question(carol)
    question = carol.screen()
    await carol.press("5", message=question)
    reply = await carol.press("5", message=question)  # the old screen's button, pressed again
    assert reply.text.startswith("✓ Already solved")
    report = await choices.progress(telegram_id=703)
    assert report.total_score == 10 + 5


async def test_forged_and_stale_option_presses_change_nothing(
    bot: Harness, choices: Engine, course_file: Path
) -> None:
    dave = await started(bot, 704, "Dave")
    await open_question(dave)
    variables = await lesson_id(choices, "variables")
    loops = await lesson_id(choices, "loops")
    before = await choices.stats()

    for data in ("c:704:1:10", "c:704:1:-1", "c:704:0:1", "c:704:abc:1", "c:704:1"):
        reply = await dave.press_data(data)
        assert reply.answer_text == STALE, data
    reply = await dave.press_data(ChoiceCb(owner=704, lesson_id=loops, option=0).pack())
    assert reply.answer_text == "This lesson has no challenge."
    reply = await dave.press_data(ChoiceCb(owner=705, lesson_id=variables, option=1).pack())
    assert reply.answer_text == "This button belongs to someone else's screen."
    assert await choices.stats() == before

    edit_course(
        course_file,
        "variables",
        challenge={"question": "2 + 3?", "answers": ["5"], "options": ["5", "6"], "points": 10},
    )
    await choices.load_content(course_file)
    reply = await dave.press_data(ChoiceCb(owner=704, lesson_id=variables, option=3).pack())
    assert reply.answer_text == STALE  # the course now has two options: they are redrawn
    assert [label for label in dave.buttons() if label in {"5", "6"}] == ["5", "6"]
    assert await choices.stats() == before
