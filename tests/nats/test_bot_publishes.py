"""The bot with QUESTLINE_NATS_URL: a learner's events go to NATS JetStream and a worker records
them; the bot's screens follow once the worker has, and the award the worker's recording
earns reaches the learner from the bot's own process (the worker leaves it to the bot)."""

from __future__ import annotations

from dataclasses import replace

import nats
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.adapters.nats.plugin import plugin as nats_plugin
from questline.adapters.nats.settings import NatsSettings
from questline.adapters.telegram.plugin import TelegramPlugin
from questline.adapters.telegram.settings import BotSettings
from questline.engine import Engine
from questline.engine.models import ActivityLog
from questline.plugins.manager import build_plugin_manager
from tests.nats.helpers import workers
from tests.telegram.conftest import COURSE, RULES, RunningBot
from tests.telegram.fake_api import TOKEN, FakeBotAPI
from tests.telegram.harness import FakeClock, Harness
from tests.telegram.test_database_away import NOT_CONFIRMED


async def published(settings: NatsSettings) -> int:
    """How many events the stream has taken in all (a work queue keeps only the unacked)."""
    client = await nats.connect(settings.url)
    try:
        info = await client.jetstream().stream_info(settings.stream)
    finally:
        await client.close()
    return info.state.last_seq


async def logged(db: AsyncEngine) -> int:
    async with db.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(ActivityLog)) or 0)


async def test_the_bot_publishes_and_a_worker_records(
    db: AsyncEngine,
    database_url: str,
    settings: NatsSettings,
    nats_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api = FakeBotAPI()
    await api.start()
    for name, value in {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE": api.base_url,
        "QUESTLINE_CONTENT": str(COURSE),
        "QUESTLINE_RULES": str(RULES),
    }.items():
        monkeypatch.setenv(name, value)
    plugins = build_plugin_manager(load_entry_points=False)
    plugins.register(TelegramPlugin(), name="telegram")
    plugins.register(nats_plugin, name="nats")
    engine = Engine(database_url, plugin_manager=plugins)
    await engine.load_content(COURSE)
    await engine.load_rules([RULES])
    running = RunningBot(engine, replace(BotSettings.from_env(), polling_timeout=2), FakeClock())
    try:
        async with workers(database_url, settings, 1, TelegramPlugin()):
            await running.start(api)
            lin = Harness(api, running).user(4801, "Lin")
            assert "Lin" in (await lin.send("/start")).text
            await lin.press("Modules")
            await lin.press("Python basics")
            await lin.press("Variables")
            assert "Lesson started" in (await lin.press("Start")).text
            await lin.press("Answer")
            assert "Correct! +10 points." in (await lin.send("5")).text
            reply = await lin.press("Complete")
            assert "✅ Lesson completed!" in reply.text
            cards = [
                await api.wait_for(
                    lambda call, title=title: (
                        call.method == "sendPhoto"
                        and call.chat_id == 4801
                        and call.text.startswith(title)
                    ),
                    seconds=60,
                )
                for title in ("🏆 Problem solver (+5)", "🏆 First steps (+10)")
            ]
            assert len(cards) == 2
            publisher = await nats_plugin.publisher(engine)
            assert publisher is not None
            await publisher.close()  # NATS unreachable from now on: nothing is saved
            refused = await lin.send("/start")
            assert refused.text == NOT_CONFIRMED
            await running.stop()
    finally:
        await engine.shutdown()
        await api.stop()
    # LOGIN, LESSON_STARTED, CHALLENGE_ATTEMPTED, CHALLENGE_SOLVED and LESSON_COMPLETED went
    # through NATS; the worker wrote them and the two awards (ACHIEVEMENT_EARNED)
    assert await published(settings) == 5
    assert await logged(db) == 7
    assert running.errors == []
