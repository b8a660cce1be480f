"""Award messages go through the outbox: one committed while the bot was down is sent when it
comes back."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from questline.adapters.telegram.plugin import TelegramPlugin
from questline.adapters.telegram.runner import BotRunner
from questline.adapters.telegram.settings import BotSettings
from questline.engine import Engine, Event, UserProfile
from questline.plugins.manager import build_plugin_manager
from questline.rules.vocabulary import ActivityType
from tests.telegram.fake_api import FakeBotAPI
from tests.telegram.harness import FakeClock, Harness


async def test_an_award_committed_while_the_bot_was_down_is_sent_when_it_is_back(
    fake_api: FakeBotAPI, engine: Engine, bot_env: dict[str, str]
) -> None:
    user = await engine.register_user(UserProfile(telegram_id=4711, first_name="Ada"))
    lesson = (await engine.modules())[0].lessons[0]
    result = await engine.record(
        Event(type=ActivityType.LESSON_COMPLETED, user_id=user.id, lesson_id=lesson.id)
    )
    assert [award.slug for award in result.awards] == ["first-lesson"]
    assert fake_api.sent_to(4711) == []  # committed, not announced: no bot is running

    settings = replace(BotSettings.from_env(), polling_timeout=2)
    runner = BotRunner(settings, engine, engine.plugins.get_plugin("telegram"), clock=FakeClock())
    task = asyncio.create_task(runner.run(handle_signals=False))
    try:
        sent = await fake_api.wait_for(
            lambda call: call.method == "sendPhoto" and call.chat_id == 4711
        )
        for _ in range(100):  # and marked done right after
            if (await engine.outbox_status())["done"]:
                break
            await asyncio.sleep(0.05)
    finally:
        await fake_api.wait_for(lambda call: call.method == "getUpdates")
        await runner.stop()
        await task

    assert sent.text.startswith("🏆 First steps (+10)")
    assert await engine.outbox_status() == {"pending": 0, "done": 1, "dead": 0}  # awards only


async def test_an_award_earned_in_another_process_is_sent_by_the_bot(
    fake_api: FakeBotAPI, engine: Engine, bot: Harness, database_url: str
) -> None:
    """An API server or a worker records the event and runs a dispatcher of its own; the
    Telegram part of the award is left to the bot's process, which sends it."""
    plugins = build_plugin_manager(load_entry_points=False)
    plugins.register(TelegramPlugin(), name="telegram")  # loaded there, but no bot runs there
    elsewhere = Engine(database_url, plugin_manager=plugins)
    await elsewhere.startup()
    elsewhere.start_dispatcher()
    try:
        user = await elsewhere.register_user(UserProfile(telegram_id=4712, first_name="Grace"))
        lesson = (await elsewhere.modules())[0].lessons[0]
        result = await elsewhere.record(
            Event(type=ActivityType.LESSON_COMPLETED, user_id=user.id, lesson_id=lesson.id)
        )
        assert [award.slug for award in result.awards] == ["first-lesson"]
        # left to the bot's process (the API's dispatcher does not claim it again): the bot's
        # next pass after elsewhere_wait (1 s) sends it
        sent = await fake_api.wait_for(
            lambda call: call.method == "sendPhoto" and call.chat_id == 4712, seconds=60
        )
    finally:
        await elsewhere.shutdown()
    assert sent.text.startswith("🏆 First steps (+10)")
    assert len(fake_api.sent_to(4712)) == 1
