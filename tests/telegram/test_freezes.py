"""Streak freezes in the bot: the count on /progress, and a missed day kept by a freeze."""

from __future__ import annotations

from datetime import timedelta

from questline.engine import Engine, Event
from questline.engine.timestamps import utcnow
from questline.rules.vocabulary import ActivityType
from tests.telegram.harness import Harness
from tests.telegram.test_bad_input import started
from tests.telegram.test_journeys import lesson_id


async def test_a_freeze_keeps_the_streak_over_a_missed_day(bot: Harness, engine: Engine) -> None:
    alice = await started(bot, 1201)
    now = utcnow()
    await engine.grant_freezes(1, telegram_id=1201, reason="welcome", at=now - timedelta(days=3))
    await engine.record(
        Event(
            type=ActivityType.LESSON_COMPLETED,
            telegram_id=1201,
            lesson_id=await lesson_id(engine, "variables"),
            occurred_at=now - timedelta(days=2),
        )
    )
    reply = await alice.send("/progress")
    assert "🔥 Streak: 1 day" in reply.text  # yesterday was missed: the freeze covers it
    assert "🧊 1 streak freeze" in reply.text

    await alice.press("Menu")
    await alice.press("Modules")
    await alice.press("Python basics")
    await alice.press("Loops")
    await alice.press("Start")
    await alice.press("Complete")
    reply = await alice.send("/progress")
    assert "🔥 Streak: 2 days" in reply.text
    assert "🧊 0 streak freezes" in reply.text
    report = await engine.freezes(telegram_id=1201)
    assert report.covered_days == ((now - timedelta(days=1)).date(),)


async def test_a_russian_learner_sees_their_freezes(bot: Harness, engine: Engine) -> None:
    boris = bot.user(1202, "Борис", language_code="ru")
    await boris.send("/start")
    await engine.grant_freezes(2, telegram_id=1202, reason="подарок")
    reply = await boris.send("/progress")
    assert "🧊 2 заморозки серии" in reply.text
    await engine.grant_freezes(3, telegram_id=1202, reason="ещё")
    reply = await boris.send("/progress")
    assert "🧊 5 заморозок серии" in reply.text
