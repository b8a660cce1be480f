"""The Bot API away when the bot starts (429, 5xx): the bot waits for it, says so once in one
line, then starts as usual."""

from __future__ import annotations

import logging

import pytest

from questline.adapters.telegram.settings import BotSettings
from questline.engine import Engine
from tests.telegram.conftest import RunningBot
from tests.telegram.fake_api import FakeBotAPI
from tests.telegram.harness import FakeClock, Harness

WAITING = "until the Telegram Bot API answers"


@pytest.mark.parametrize(
    ("method", "status"), [("deleteWebhook", 502), ("setMyCommands", 429)], ids=["5xx", "429"]
)
async def test_a_bot_api_away_at_start_is_waited_for(
    fake_api: FakeBotAPI,
    engine: Engine,
    bot_settings: BotSettings,
    caplog: pytest.LogCaptureFixture,
    method: str,
    status: int,
) -> None:
    caplog.set_level(logging.INFO, logger="questline.adapters.telegram")
    if status == 429:
        fake_api.too_many_requests(method, retry_after=2)  # the session alone would wait
    else:
        fake_api.server_error(method, status, times=4)  # the session's four tries fail
    running = RunningBot(engine, bot_settings, FakeClock())
    await running.start(fake_api)  # polling within 10 s
    try:
        reply = await Harness(fake_api, running).user(5101, "Ada").send("/start")
        assert "Welcome to questline" in reply.text
    finally:
        await running.stop()
    said = [r.getMessage() for r in caplog.records if r.name.endswith("telegram.startup")]
    assert len(said) == 2 and WAITING in said[0] and "\n" not in said[0]
    assert said[1] == "the Telegram Bot API answers; starting"
    tries = [call for call in fake_api.calls if call.method == method]
    refused = [call for call in tries if call.status == status]
    assert refused and tries[len(refused)].status == 200
    if status == 429:
        assert "Too Many Requests: retry after 2" in said[0] and "in 2 s, as asked," in said[0]
        assert tries[1].at - tries[0].at >= 2.0  # not sooner than Telegram asked
