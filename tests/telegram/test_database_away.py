"""The database fails under a running bot: an update in between is answered with a clear
"try again" that claims nothing about what was saved (a completion may have committed before
a later read failed), and the next one after it comes back works, with no restart."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy.exc import OperationalError

from questline.adapters.telegram.plugin import TelegramPlugin
from questline.adapters.telegram.settings import BotSettings
from questline.engine import Engine
from questline.engine.models import ProgressStatus
from questline.plugins.manager import build_plugin_manager
from tests.support.proxy import CuttableProxy, through
from tests.telegram.conftest import COURSE, RULES, RunningBot
from tests.telegram.fake_api import FakeBotAPI
from tests.telegram.harness import FakeClock, Harness
from tests.telegram.test_faults import at_lesson
from tests.telegram.test_journeys import statuses

NOT_CONFIRMED = (
    "⚠️ I can't reach my records right now, so I couldn't confirm that this was saved. "
    "Try again in a minute: nothing is counted twice."
)


async def test_a_completion_saved_before_the_database_failed_is_not_called_unsaved(
    bot: Harness, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The completion commits, then the read of the learner's daily goal loses the
    connection: the learner is not told that nothing was saved; pressing again counts once."""
    alice = await at_lesson(bot, 1311)
    await alice.press("Start")

    async def cut_off(**_: object) -> None:
        raise OperationalError("SELECT", {}, ConnectionError("lost"), connection_invalidated=True)

    with monkeypatch.context() as patched:
        patched.setattr(engine, "daily_goal", cut_off)
        reply = await alice.press("Complete")
    assert reply.answer_text == NOT_CONFIRMED
    assert (await statuses(engine, 1311))["variables"] is ProgressStatus.COMPLETED
    again = await alice.press("Complete")
    assert "Lesson completed!" not in again.text  # already completed: nothing recorded twice
    assert (await engine.progress(telegram_id=1311)).modules[0].completed == 1


@pytest.mark.mysql_only
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
        assert away.text == NOT_CONFIRMED
        proxy.restore()
        back = await learner.send("/modules")
        assert "Python basics" in back.text
    finally:
        await running.stop()
        await engine.shutdown()
    assert running.errors == []
