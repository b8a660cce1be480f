"""A learner's path through results, awards and next steps, and the bot's manners around it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.adapters.telegram.callbacks import LessonAction, LessonCb
from questline.engine import Engine, Event
from questline.engine.models import ActivityLog, User
from questline.rules.vocabulary import ActivityType
from tests.telegram.conftest import COURSE
from tests.telegram.harness import FakeUser, Harness
from tests.telegram.test_bad_input import SLOW_DOWN
from tests.telegram.test_journeys import earned, lesson_id

ALREADY = "✓ Already solved — no new points, but well remembered!"
NOTHING_OPEN = "To answer a challenge, open a lesson and press 🧩 Answer first."


async def solves(db: AsyncEngine, telegram_id: int) -> int:
    async with db.connect() as connection:
        count = await connection.scalar(
            select(func.count())
            .select_from(ActivityLog)
            .join(User, User.id == ActivityLog.user_id)
            .where(
                User.telegram_id == telegram_id,
                ActivityLog.activity_type == ActivityType.CHALLENGE_SOLVED,
            )
        )
    return int(count or 0)


async def at_variables(bot: Harness, user_id: int, **profile: str) -> FakeUser:
    user = bot.user(user_id, "Alice", **profile)
    await user.send("/start")
    await user.press("Modules")
    await user.press("Python basics")
    await user.press("Variables")
    await user.press("Start")
    return user


async def test_a_solved_challenge_is_solved_once(
    bot: Harness, engine: Engine, db: AsyncEngine
) -> None:
    alice = await at_variables(bot, 1501)
    await alice.press("Answer")
    assert "Correct! +10 points." in (await alice.send("5")).text
    score = (await engine.progress(telegram_id=1501)).total_score
    answer = LessonCb(
        owner=1501, lesson_id=await lesson_id(engine, "variables"), action=LessonAction.ANSWER
    ).pack()
    for _ in range(10):
        reply = await alice.press_data(answer)  # an old Answer button
        assert reply.answer_text == ALREADY
        assert "🧩 Answer" not in alice.buttons()
        reply = await alice.send("5")
        assert reply.texts == [NOTHING_OPEN]
    assert await solves(db, 1501) == 1
    assert (await engine.progress(telegram_id=1501)).total_score == score

    # the right answer twice, quickly: judged once, in order
    bob = await at_variables(bot, 1502)
    await bob.press("Answer")
    reply = await bob.flood(["5", "5"])
    assert sum("Correct!" in text for text in reply.texts) == 1
    assert reply.texts[-1] == NOTHING_OPEN
    assert await solves(db, 1502) == 1

    # solved elsewhere while the question was open: "already solved", no second solve
    carol = await at_variables(bot, 1503)
    await carol.press("Answer")
    await engine.answer_challenge(
        telegram_id=1503, lesson_id=await lesson_id(engine, "variables"), answer="5"
    )
    reply = await carol.send("5")
    assert reply.texts[0].startswith(ALREADY)
    assert await solves(db, 1503) == 1


async def test_a_sticker_for_an_answer_asks_the_question_again(
    bot: Harness, db: AsyncEngine
) -> None:
    alice = await at_variables(bot, 1504)
    await alice.press("Answer")
    update = alice.message_update("")
    del update["message"]["text"]
    update["message"]["sticker"] = {
        "file_id": "sticker-1",
        "file_unique_id": "s1",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
    reply = await bot.exchange(alice, update, pause=1.0)
    assert len(reply.texts) == 1 and "Send your answer as a message." in reply.texts[0]
    assert "Correct! +10 points." in (await alice.send("5")).text  # the question still waits
    assert await solves(db, 1504) == 1


async def test_awards_come_between_the_result_and_the_next_step_in_one_message(
    bot: Harness, engine: Engine, tmp_path: Path
) -> None:
    twin = {
        "slug": "quick-start",
        "type": "LESSON_COMPLETED",
        "title": "Quick start",
        "points": 1,
        "criteria": {">=": [{"var": "stats.lessons_completed"}, 1]},
    }
    (tmp_path / "twin.json").write_text(json.dumps(twin))
    await engine.load_rules([tmp_path / "twin.json"])
    alice = await at_variables(bot, 1504)
    card = alice.screen()

    reply = await alice.press("Complete")
    assert reply.methods == ["editMessageText", "sendPhoto", "sendMessage"]
    result, celebration, step = reply.texts
    assert "✅ Lesson completed!" in result
    assert celebration.count("🏆") == 2  # both awards, one message
    assert "First steps (+10)" in celebration and "Quick start (+1)" in celebration
    assert step.startswith("➡️ <b>Variables</b> — completed")
    assert bot.api.messages[1504, card["message_id"]].get("reply_markup") is None
    assert alice.screen()["text"] == step  # the buttons are on the last message
    assert "Next lesson ➡️" in alice.buttons()
    assert reply.notifications == [celebration]


@pytest.fixture
def course_file(tmp_path: Path) -> Path:
    """The course with its second module published."""
    path = Path(shutil.copy(COURSE, tmp_path / "course.yaml"))
    text = path.read_text().replace(
        "description: In preparation\n    order: 2\n    published: false",
        "description: In preparation\n    order: 2\n    published: true",
    )
    path.write_text(text)
    return path


async def test_a_completed_module_offers_the_next_one(bot: Harness, engine: Engine) -> None:
    alice = await at_variables(bot, 1505)
    for slug in ("loops", "functions"):
        await engine.record(
            Event(
                type=ActivityType.LESSON_COMPLETED,
                telegram_id=1505,
                lesson_id=await lesson_id(engine, slug),
            )
        )
    reply = await alice.press("Complete")
    assert "🎉 You have completed this module!" in reply.text
    assert "Next module ➡️ Advanced Python" in alice.buttons()
    reply = await alice.press("Next module")
    assert "📘 <b>Advanced Python</b>" in reply.text
    assert "module-done" in await earned(engine, 1505)


async def test_free_text_offers_the_open_challenge(bot: Harness) -> None:
    alice = await at_variables(bot, 1506)
    reply = await alice.send("what now?")
    assert reply.texts == ["Press 🧩 Answer first, then send your answer."]
    reply = await alice.press("Answer: Variables")
    assert "What does print(2 + 3) show?" in reply.text
    assert "Correct!" in (await alice.send("5")).text


async def test_every_throttled_press_is_answered(bot: Harness) -> None:
    alice = bot.user(1507, "Alice")
    await alice.send("/start")
    data = alice.button_data("Progress")
    presses = [alice.callback_update(data) for _ in range(8)]
    bot.clock.advance(5)  # a full bucket: five at once
    await bot.burst(alice, [update for _, update in presses])
    answers = [bot.api.callback_answers[query_id] for query_id, _ in presses]
    assert all(answer is not None for answer in answers)
    assert [a.get("text") for a in answers if a is not None].count(SLOW_DOWN) == 3


async def test_groups_are_pointed_to_the_private_chat(bot: Harness, engine: Engine) -> None:
    alice = bot.user(1508, "Alice")
    group = {"id": -1001, "type": "group", "title": "Study group"}
    for text in ("/start", "/start@questline_test_bot", "hello all"):
        update = alice.message_update(text)
        update["message"]["chat"] = group
        await bot.exchange(alice, update, pause=1)
    replies = [call for call in bot.api.calls if call.chat_id == -1001]
    assert [call.params["text"] for call in replies] == [
        "👋 I work in private chats: open @questline_test_bot and send /start there."
    ] * 2
    assert await engine.find_user(telegram_id=1508) is None
