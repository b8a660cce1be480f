"""Lessons, challenges and awards in the learner's Telegram language, over the fake Bot API."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from questline.adapters.telegram.runner import BotRunner
from questline.adapters.telegram.settings import BotSettings
from questline.engine import Engine, Event, UserProfile
from questline.rules.loading import CATALOG_DIR
from questline.rules.vocabulary import ActivityType
from tests.telegram.fake_api import FakeBotAPI
from tests.telegram.harness import FakeClock, Harness

SAMPLE_COURSE = Path(__file__).parents[2] / "questline" / "engine" / "sample" / "course.yaml"
MORNING = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=1)


@pytest.fixture
def course_file() -> Path:
    """The sample course: English, with Russian translations."""
    return SAMPLE_COURSE


@pytest.fixture
async def catalog(engine: Engine) -> Engine:
    """The default achievement catalog (English and Russian) in force."""
    await engine.load_rules([CATALOG_DIR])
    return engine


async def test_a_russian_learner_reads_russian_lessons_and_awards(
    bot: Harness, catalog: Engine
) -> None:
    ivan = bot.user(1401, "Иван", language_code="ru-RU")
    await ivan.send("/start")
    reply = await ivan.press("Модули")
    assert "Основы Python" in reply.text and "Python basics" not in reply.text
    await ivan.press("Основы Python")
    reply = await ivan.press("Значения и типы")
    assert "Числа, строки и логические значения" in reply.text
    await ivan.press("Начать")
    reply = await ivan.press("Завершить")
    assert "🏆 Первые шаги (+10)\n<i>Пройдите свой первый урок.</i>" in reply.text

    reply = await ivan.press("Ответить")
    assert "Что вернёт type(3.0).__name__?" in reply.text
    reply = await ivan.send("float")
    celebration = reply.texts[1]
    assert "🏆 Решатель (+10)\n<i>Решите своё первое задание.</i>" in celebration
    assert "🏆 Problem solver (+5)" in celebration  # a rule with no Russian reads in English

    reply = await ivan.send("/achievements")
    assert "Первые шаги" in reply.text and "Решатель" in reply.text
    assert "В ударе" in reply.text and "First steps" not in reply.text


async def test_a_russian_learner_answers_with_russian_options_and_words(
    bot: Harness, catalog: Engine
) -> None:
    olga = bot.user(1402, "Ольга", language_code="ru")
    await olga.send("/start")
    for label in ("Модули", "Основы Python", "Условия", "Начать", "Ответить"):
        reply = await olga.press(label)
    assert "Какое ключевое слово начинает альтернативное условие?" in reply.text
    assert {"else if", "elif", "elseif", "иначе"} <= set(olga.buttons())
    reply = await olga.press("иначе")
    assert reply.text.startswith("❌")
    reply = await olga.press("elif", message=olga.screen())
    assert reply.texts[0].startswith("✅")

    for label in ("Меню", "Модули", "Коллекции", "Циклы", "Начать", "Ответить"):
        await olga.press(label)
    reply = await olga.send("Четыре")
    assert reply.texts[0].startswith("✅")


async def test_an_english_learner_and_one_without_a_translation_read_english(
    bot: Harness, catalog: Engine
) -> None:
    for telegram_id, code in ((1403, "en"), (1404, "de")):
        user = bot.user(telegram_id, "Ada", language_code=code)
        await user.send("/start")
        reply = await user.press("Modules")
        assert "Python basics" in reply.text and "Основы Python" not in reply.text
        await user.press("Python basics")
        reply = await user.press("Values and types")
        assert "Numbers, strings and booleans are values" in reply.text
        await user.press("Start")
        reply = await user.press("Complete")
        assert "🏆 First steps (+10)\n<i>Complete your first lesson.</i>" in reply.text


async def test_an_award_from_outside_the_bot_reaches_a_russian_learner_in_russian(
    fake_api: FakeBotAPI, catalog: Engine, bot_env: dict[str, str]
) -> None:
    """An award recorded elsewhere (the HTTP API, a worker) is in the rule's language in the
    outbox; the bot sends it in the learner's stored Telegram language."""
    user = await catalog.register_user(UserProfile(telegram_id=1405, language_code="ru"))
    lesson = (await catalog.modules())[0].lessons[0]
    result = await catalog.record(  # in the morning: wall-clock time would wake the night owl
        Event(
            type=ActivityType.LESSON_COMPLETED,
            user_id=user.id,
            lesson_id=lesson.id,
            occurred_at=MORNING,
        )
    )
    assert [award.title for award in result.awards] == ["First steps"]

    settings = replace(BotSettings.from_env(), polling_timeout=2)
    runner = BotRunner(settings, catalog, catalog.plugins.get_plugin("telegram"), clock=FakeClock())
    task = asyncio.create_task(runner.run(handle_signals=False))
    try:
        # The card worth 10 points: on a Monday (on the 1st, for months) yesterday's period
        # has ended, and the bot's period closer may send this learner's podium card first.
        sent = await fake_api.wait_for(
            lambda call: (
                call.method == "sendPhoto" and call.chat_id == 1405 and "(+10)" in call.text
            )
        )
    finally:
        await fake_api.wait_for(lambda call: call.method == "getUpdates")
        await runner.stop()
        await task
    assert sent.text.startswith("🏆 Первые шаги (+10)")
