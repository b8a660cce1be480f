"""Fixtures for the bot: a fake Bot API server, an engine with a small course, the running bot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.adapters.telegram.plugin import TelegramPlugin
from questline.adapters.telegram.runner import BotRunner
from questline.adapters.telegram.settings import BotSettings
from questline.engine import Engine
from questline.plugins.manager import build_plugin_manager
from tests.telegram.fake_api import TOKEN, FakeBotAPI
from tests.telegram.harness import DoneTracker, FakeClock, Harness

DATA = Path(__file__).parent / "data"
COURSE = DATA / "course.yaml"
RULES = DATA / "rules"
ADMIN_ID = 900


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeBotAPI]:
    """The fake server; a test fails if the bot called a method the server does not know."""
    api = FakeBotAPI()
    await api.start()
    yield api
    await api.stop()
    assert not api.unknown, f"the bot called Bot API methods the fake does not know: {api.unknown}"


@pytest.fixture
def course_file() -> Path:
    """The course the engine loads and QUESTLINE_CONTENT names (override to edit a copy)."""
    return COURSE


@pytest.fixture
async def engine(db: AsyncEngine, course_file: Path) -> Engine:
    """An engine on the test database with the course and rules loaded, and our plugin only."""
    plugins = build_plugin_manager(load_entry_points=False)
    plugins.register(TelegramPlugin(), name="telegram")
    engine = Engine(bind=db, plugin_manager=plugins)
    await engine.load_content(course_file)
    await engine.load_rules([RULES])
    return engine


@pytest.fixture
def bot_env(
    fake_api: FakeBotAPI, course_file: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """The environment `questline bot` would be run with against the fake server."""
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE": fake_api.base_url,
        "QUESTLINE_ADMIN_IDS": str(ADMIN_ID),
        "QUESTLINE_CONTENT": str(course_file),
        "QUESTLINE_RULES": str(RULES),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
async def bot(
    fake_api: FakeBotAPI, engine: Engine, bot_env: dict[str, str]
) -> AsyncIterator[Harness]:
    """The real Dispatcher long-polling the fake server, configured from the environment."""
    settings = replace(BotSettings.from_env(), polling_timeout=2)
    plugin = engine.plugins.get_plugin("telegram")
    clock = FakeClock()
    runner = BotRunner(settings, engine, plugin, clock=clock)
    tracker = DoneTracker()
    tracker.install(runner.dispatcher)
    task = asyncio.create_task(runner.run(handle_signals=False))
    await fake_api.wait_for(lambda call: call.method == "getUpdates")
    yield Harness(fake_api, tracker, clock)
    await runner.stop()
    await task
    assert not tracker.errors, f"the bot raised: {tracker.errors!r}"
