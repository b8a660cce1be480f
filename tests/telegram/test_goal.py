"""The daily goal in the bot: picked with buttons, shown on the menu and after completions."""

from __future__ import annotations

from questline.adapters.telegram.callbacks import GoalCb
from questline.engine import Engine
from tests.telegram.harness import Harness
from tests.telegram.test_bad_input import started


async def test_a_learner_picks_a_goal_and_sees_today_on_the_menu_and_after_lessons(
    bot: Harness, engine: Engine
) -> None:
    alice = await started(bot, 1101)
    reply = await alice.press("Daily goal")
    assert "You have no daily goal yet." in reply.text
    assert {"1 lesson", "2 lessons", "3 lessons", "• No goal"} <= set(alice.buttons())

    reply = await alice.press("2 lessons")
    assert reply.answer_text == "✅ Daily goal saved."
    assert "🎯 Today: 0/2 lessons" in reply.text and "• 2 lessons" in alice.buttons()
    assert (await engine.daily_goal(telegram_id=1101)).lessons == 2

    for title in ("Variables", "Loops"):
        await alice.press("Menu")
        await alice.press("Modules")
        await alice.press("Python basics")
        await alice.press(title)
        await alice.press("Start")
        reply = await alice.press("Complete")
    assert "🎯 Today: 2/2 lessons ✅" in reply.texts[0]
    reply = await alice.send("/start")
    assert "🎯 Today: 2/2 lessons ✅" in reply.text

    reply = await alice.send("/goal")
    reply = await alice.press("No goal")
    assert reply.answer_text == "Daily goal cleared."
    assert (await engine.daily_goal(telegram_id=1101)).lessons is None
    assert "🎯 Today" not in (await alice.send("/start")).text


async def test_a_russian_learner_and_forged_goals(bot: Harness, engine: Engine) -> None:
    boris = bot.user(1102, "Борис", language_code="ru")
    await boris.send("/start")
    reply = await boris.press("Цель на день")
    assert "Цели на день пока нет." in reply.text
    reply = await boris.press("3 урока")
    assert "🎯 Сегодня: 0/3 урока" in reply.text
    before = await engine.stats()
    for data in ("g:1102:4", "g:1102:-1", "g:1102:x", "g:1102"):
        reply = await boris.press_data(data)
        assert (
            reply.answer_text == "Эта кнопка устарела. Отправьте /start, чтобы открыть свежее меню."
        )
    reply = await boris.press_data(GoalCb(owner=1103, lessons=1).pack())
    assert reply.answer_text is not None and reply.answer_text != "✅ Цель на день сохранена."
    assert (await engine.daily_goal(telegram_id=1102)).lessons == 3
    assert await engine.stats() == before
