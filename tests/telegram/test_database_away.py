"""The database goes away under a running bot, then comes back: an update in between is
answered with a clear "try again" and writes nothing, and the next one after it comes back
works, with no restart. MariaDB only: SQLite is a local file that cannot go away."""

from __future__ import annotations

from dataclasses import replace

import pytest

from questline.adapters.telegram.plugin import TelegramPlugin
from questline.adapters.telegram.settings import BotSettings
from questline.engine import Engine
from questline.plugins.manager import build_plugin_manager
from tests.support.proxy import CuttableProxy, through
from tests.telegram.conftest import COURSE, RULES, RunningBot
from tests.telegram.fake_api import FakeBotAPI
from tests.telegram.harness import FakeClock, Harness

pytestmark = pytest.mark.mysql_only


async def test_the_bot_says_try_again_while_the_database_is_away_then_recovers(
    database_url: str,
    proxy: CuttableProxy,
    fake_api: FakeBotAPI,
    bot_env: dict[str, str],
) -> None:
    plugins = build_plugin_manager(load_entry_points=False)
    plugins.register(TelegramPlugin(), name="telegram")
    engine = Engine(through(database_url, proxy), plugin_manager=plugins)
    await engine.load_content(COURSE)
    await engine.load_rules([RULES])
    running = RunningBot(engine, replace(BotSettings.from_env(), polling_timeout=2), FakeClock())
    await running.start(fake_api)
    try:
        learner = Harness(fake_api, running).user(4244, "Grace")
        assert "Grace" in (await learner.send("/start")).text
        proxy.cut()
        away = await learner.send("/modules")
        assert away.text == (
            "⚠️ I can't reach my records right now, so nothing was saved. Try again in a minute."
        )
        proxy.restore()
        back = await learner.send("/modules")
        assert "Python basics" in back.text
    finally:
        await running.stop()
        await engine.shutdown()
    assert running.errors == []
