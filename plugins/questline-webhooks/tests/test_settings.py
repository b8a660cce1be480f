"""The plugin's settings from the environment: a bad value is named with its variable."""

from __future__ import annotations

import pytest
from questline_webhooks.settings import MAX_FAILURES_ENV, TIMEOUT_ENV, Settings
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine import Engine
from questline.engine.errors import QuestlineError
from questline.plugins import PluginError
from questline.plugins.manager import build_plugin_manager


def test_the_defaults_and_set_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TIMEOUT_ENV, raising=False)
    monkeypatch.delenv(MAX_FAILURES_ENV, raising=False)
    assert Settings.from_env() == Settings(timeout=10.0, max_failures=5)
    monkeypatch.setenv(TIMEOUT_ENV, "2.5")
    monkeypatch.setenv(MAX_FAILURES_ENV, "3")
    assert Settings.from_env() == Settings(timeout=2.5, max_failures=3)


@pytest.mark.parametrize("value", ["soon", "0", "-1", "nan", "inf"])
def test_a_bad_timeout_is_named_with_its_value(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(TIMEOUT_ENV, value)
    with pytest.raises(QuestlineError) as refused:
        Settings.from_env()
    assert str(refused.value) == (
        f'QUESTLINE_WEBHOOKS_TIMEOUT="{value}" is not a positive number of seconds'
    )


async def test_a_bad_setting_stops_the_engine_at_start(
    db: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read only at each delivery, it failed every entry with a traceback and spent its
    attempts while the dispatcher ran on."""
    monkeypatch.setenv(TIMEOUT_ENV, "10s")
    engine = Engine(db, plugin_manager=build_plugin_manager(disabled={"telegram"}))
    with pytest.raises(PluginError) as refused:
        await engine.startup()
    assert str(refused.value) == (
        'plugin "webhooks" failed in questline_startup: QuestlineError: '
        'QUESTLINE_WEBHOOKS_TIMEOUT="10s" is not a positive number of seconds'
    )
