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


class RunningBot:
    """A BotRunner polling the fake server in this process; `restart` makes a new one (new
    Dispatcher, new storage: only what the database or Redis holds survives)."""

    def __init__(self, engine: Engine, settings: BotSettings, clock: FakeClock) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self.tracker = DoneTracker()
        self.errors: list[BaseException] = []
        self._runner: BotRunner | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, api: FakeBotAPI) -> None:
        plugin = self.engine.plugins.get_plugin("telegram")
        self._runner = BotRunner(
            self.settings, self.engine, plugin, clock=self.clock, now=self.clock.wall
        )
        self.tracker.install(self._runner.dispatcher)
        polls = sum(call.method == "getUpdates" for call in api.calls)
        self._task = asyncio.create_task(self._runner.run(handle_signals=False))
        await api.wait_for(
            lambda call: (
                call.method == "getUpdates"
                and sum(c.method == "getUpdates" for c in api.calls) > polls
            )
        )

    @property
    def runner(self) -> BotRunner:
        assert self._runner is not None
        return self._runner

    async def stop(self) -> None:
        assert self._runner is not None and self._task is not None
        await self._runner.stop()
        await self._task
        self.errors += self.tracker.errors

    async def restart(self, api: FakeBotAPI) -> None:
        await self.stop()
        self.tracker = DoneTracker()
        await self.start(api)


@pytest.fixture
def bot_settings(bot_env: dict[str, str]) -> BotSettings:
    return replace(BotSettings.from_env(), polling_timeout=2)


@pytest.fixture
async def bot(
    fake_api: FakeBotAPI, engine: Engine, bot_settings: BotSettings
) -> AsyncIterator[Harness]:
    """The real Dispatcher long-polling the fake server, configured from the environment."""
    running = RunningBot(engine, bot_settings, FakeClock())
    await running.start(fake_api)
    harness = Harness(fake_api, running)
    yield harness
    await running.stop()
    assert not running.errors, f"the bot raised: {running.errors!r}"
