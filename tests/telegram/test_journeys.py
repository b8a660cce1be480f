"""Learners using the bot over HTTP, through the fake Bot API, start to finish."""

from __future__ import annotations

import asyncio

from questline.engine import Engine, Event, UserProfile
from questline.engine.models import ProgressStatus
from questline.rules.vocabulary import ActivityType
from tests.telegram.harness import FakeUser, Harness


async def lesson_id(engine: Engine, slug: str) -> int:
    for module in await engine.modules(published_only=False):
        for lesson in module.lessons:
            if lesson.slug == slug:
                return lesson.id
    raise LookupError(slug)


async def statuses(engine: Engine, telegram_id: int) -> dict[str, ProgressStatus]:
    report = await engine.progress(telegram_id=telegram_id)
    return {
        item.lesson.slug or "": item.status for entry in report.modules for item in entry.lessons
    }


async def earned(engine: Engine, telegram_id: int) -> set[str]:
    return {s.slug for s in await engine.achievements(telegram_id=telegram_id) if s.earned_at}


async def complete_module(user: FakeUser) -> list[str]:
    """Walk the published module from the main menu; returns every award notification seen."""
    seen: list[str] = []
    await user.press("Modules")
    await user.press("Python basics")
    await user.press("Variables")
    await user.press("Start")
    await user.press("Answer")
    seen += (await user.send("5")).notifications
    seen += (await user.press("Complete")).notifications
    for title in ("Loops", "Functions"):
        reply = await user.press("Next lesson")
        assert title in reply.text
        await user.press("Start")
        seen += (await user.press("Complete")).notifications
    return seen


async def test_new_learner_goes_from_start_to_a_completed_module(
    bot: Harness, engine: Engine
) -> None:
    alice = bot.user(101, "Alice", last_name="Liddell", username="alice", language_code="en")

    reply = await alice.send("/start")
    assert reply.methods == ["sendMessage"]
    assert "Hi, Alice! Welcome to questline." in reply.text
    assert set(alice.buttons()) >= {"📚 Modules", "📈 Progress", "🏆 Achievements"}
    user = await engine.find_user(telegram_id=101)
    assert user is not None
    assert (user.username, user.first_name, user.last_name, user.language_code) == (
        "alice",
        "Alice",
        "Liddell",
        "en",
    )
    assert (await engine.stats())["events"] == 1  # the LOGIN

    menu = alice.screen()
    reply = await alice.press("Modules")
    assert reply.methods == ["editMessageText"]
    assert reply.calls[0].params["message_id"] == menu["message_id"]
    assert "Python basics" in reply.text and "0/3" in reply.text
    assert "Advanced Python" not in reply.text  # not published
    assert reply.answer is not None  # the press was answered

    reply = await alice.press("Python basics")
    assert "▫️ Variables — not started" in reply.text
    assert "Classes" not in reply.text  # an unpublished lesson
    assert [label for label in alice.buttons() if "Variables" in label] == ["▫️ Variables"]

    reply = await alice.press("Variables")
    assert "<b>Variables</b>" in reply.text
    assert "Names for values." in reply.text
    assert "⏱ 10 minutes" in reply.text
    assert "What does print(2 + 3) show?" in reply.text
    assert "Status: not started" in reply.text

    reply = await alice.press("Start")
    assert "Lesson started" in reply.text and "Status: in progress" in reply.text
    assert (await statuses(engine, 101))["variables"] is ProgressStatus.IN_PROGRESS

    reply = await alice.press("Answer")
    assert reply.methods == ["editMessageText"]  # the question replaces the lesson card
    assert "Send your answer as a message" in reply.text

    reply = await alice.send("4")
    assert "Not quite" in reply.text
    assert reply.notifications == []
    reply = await alice.send(" 5 ")
    # the result, then one celebration (a card), then the next step with the buttons
    assert reply.methods == ["sendMessage", "sendPhoto", "sendMessage"]
    assert reply.texts[:2] == [
        "✅ Correct! +10 points.",
        "🏆 Problem solver (+5)\n<i>Solve a challenge</i>",
    ]
    assert reply.texts[2].startswith("➡️ <b>Variables</b> — in progress")
    assert "🧩 Answer" not in alice.buttons()  # solved: no Answer button any more
    assert alice.screen()["text"] == reply.texts[2]

    reply = await alice.press("Complete")
    assert reply.methods == ["editMessageText", "sendPhoto", "sendMessage"]
    assert "Lesson completed!" in reply.texts[0] and "Status: completed" in reply.texts[0]
    assert reply.texts[1].startswith("🏆 First steps (+10)")
    assert reply.calls[0].params.get("reply_markup") is None  # the buttons moved down
    assert "Next lesson ➡️" in alice.buttons()

    for title in ("Loops", "Functions"):
        reply = await alice.press("Next lesson")
        assert f"<b>{title}</b>" in reply.text
        await alice.press("Start")
        reply = await alice.press("Complete")
    assert "You have completed this module!" in reply.text
    assert any(text.startswith("🏆 Module master (+25)") for text in reply.notifications)

    assert set((await statuses(engine, 101)).values()) == {ProgressStatus.COMPLETED}
    assert await earned(engine, 101) == {"first-lesson", "first-solve", "module-done"}
    report = await engine.progress(telegram_id=101)
    assert (report.lessons_completed, report.points) == (3, 5 + 10 + 25)
    assert report.total_score == 10 + report.points  # the challenge's score, then the awards

    reply = await alice.press("Python basics")
    assert "✅ Variables — completed" in reply.text and "3/3" in reply.text


async def test_progress_and_achievements_with_what_is_missing(bot: Harness, engine: Engine) -> None:
    alice = bot.user(102, "Alice")
    await alice.send("/start")
    for slug in ("variables", "loops"):
        await engine.record(
            Event(
                type=ActivityType.LESSON_COMPLETED,
                telegram_id=102,
                lesson_id=await lesson_id(engine, slug),
            )
        )

    reply = await alice.send("/progress")
    assert "Python basics\n▰▰▰▰▰▰▰▱▱▱ 2/3" in reply.text.replace("<b>", "").replace("</b>", "")
    assert "Lessons completed: 2" in reply.text
    assert "🔥 Streak: 1 day" in reply.text
    assert "Longest streak: 1 day" in reply.text

    reply = await alice.send("/achievements")
    (earned_line,) = [line for line in reply.text.splitlines() if "First steps" in line]
    assert earned_line.startswith("🎯 First steps — ") and earned_line.endswith("(+10)")
    assert "🔒 <b>High five</b> (+30)\n<i>Complete 5 lessons</i>\n" in reply.text
    assert "3 lessons to go ▰▰▰▰▱▱▱▱▱▱" in reply.text
    assert "1 module to go ▱▱▱▱▱▱▱▱▱▱" in reply.text

    menu = (await alice.send("/start")).calls[0]
    assert "Welcome back, Alice!" in menu.params["text"]
    reply = await alice.press("Achievements")
    assert reply.methods == ["editMessageText"]
    assert "3 lessons to go" in reply.text


async def test_leaderboard_shows_the_top_and_ties(bot: Harness, engine: Engine) -> None:
    names = {201: "Alice", 202: "Bob", 203: "Carol", 204: "Dave"}
    for telegram_id, name in names.items():
        await engine.register_user(UserProfile(telegram_id=telegram_id, first_name=name))
    variables = await lesson_id(engine, "variables")
    for telegram_id in (201, 202, 203):
        await engine.record(
            Event(type=ActivityType.LESSON_COMPLETED, telegram_id=telegram_id, lesson_id=variables)
        )
    await engine.answer_challenge(telegram_id=203, lesson_id=variables, answer="5")

    bob = bot.user(202, "Bob")
    reply = await bob.send("/leaderboard")
    lines = reply.text.splitlines()
    assert "1. Carol — 25 points" in lines
    assert "=2 Alice — 10 points" in lines
    assert "<b>=2 Bob — 10 points</b>" in lines
    assert "Your rank: 2 (tied)" in lines

    carol = bot.user(203, "Carol")
    reply = await carol.send("/leaderboard")
    assert "Your rank: 1" in reply.text.splitlines()


async def test_russian_speaking_learner(bot: Harness, engine: Engine) -> None:
    ivan = bot.user(301, "Иван", language_code="ru")
    reply = await ivan.send("/start")
    assert "Привет, Иван! Добро пожаловать в questline." in reply.text
    assert "📚 Модули" in ivan.buttons()

    await ivan.press("Модули")
    await ivan.press("Python basics")
    reply = await ivan.press("Variables")
    assert "⏱ 10 минут" in reply.text and "Статус: не начат" in reply.text
    await ivan.press("Начать")
    reply = await ivan.press("Завершить")
    assert "Урок пройден!" in reply.text
    assert any(text.startswith("🏆 First steps (+10)") for text in reply.notifications)

    reply = await ivan.send("/progress")
    assert "Пройдено уроков: 1" in reply.text
    assert "🔥 Серия: 1 день" in reply.text
    reply = await ivan.send("/achievements")
    assert "осталось 4 урока ▰▰▱▱▱▱▱▱▱▱" in reply.text
    reply = await ivan.send("что это?")
    assert "Нажмите 🧩 Ответить" in reply.text
    reply = await ivan.send("/что")
    assert "помогает учиться шаг за шагом" in reply.text

    # a language without a catalog falls back to English
    hans = bot.user(302, "Hans", language_code="de")
    assert "Welcome to questline" in (await hans.send("/start")).text


async def test_two_learners_at_the_same_time(bot: Harness, engine: Engine) -> None:
    alice, bob = bot.user(401, "Alice"), bot.user(402, "Bob")
    await asyncio.gather(alice.send("/start"), bob.send("/start"))

    seen_alice, seen_bob = await asyncio.gather(complete_module(alice), complete_module(bob))

    for seen in (seen_alice, seen_bob):
        titles = sorted(text.split(" (+")[0] for text in seen)
        assert titles == ["🏆 First steps", "🏆 Module master", "🏆 Problem solver"]
    for telegram_id in (401, 402):
        assert set((await statuses(engine, telegram_id)).values()) == {ProgressStatus.COMPLETED}
        assert await earned(engine, telegram_id) == {"first-lesson", "first-solve", "module-done"}
    # nobody was shown the other's screens
    assert all("Bob" not in call.params.get("text", "") for call in bot.api.sent_to(401))
    assert all("Alice" not in call.params.get("text", "") for call in bot.api.sent_to(402))
