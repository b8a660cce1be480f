"""Callback data factories and settings: small, exact, and safe with hostile input."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from questline.adapters.telegram.callbacks import (
    FACTORIES,
    BoardCb,
    ChoiceCb,
    GoalCb,
    LessonAction,
    LessonCb,
    ModuleCb,
    PageCb,
    Picture,
    PictureCb,
    ReminderAction,
    ReminderCb,
    Screen,
    ScreenCb,
    parse,
)
from questline.adapters.telegram.settings import BotSettings, SettingsError
from questline.engine.periods import Period

TOKEN = "123456:AAE-secret_part"
BIGGEST = {
    ScreenCb: ScreenCb(owner=2**53 - 1, screen=max(Screen, key=len)),
    ModuleCb: ModuleCb(owner=2**53 - 1, module_id=2**31 - 1),
    LessonCb: LessonCb(owner=2**53 - 1, lesson_id=2**31 - 1, action=max(LessonAction, key=len)),
    BoardCb: BoardCb(owner=2**53 - 1, period=max(Period, key=len)),
    PageCb: PageCb(owner=2**53 - 1, lesson_id=2**31 - 1, page=999),
    ChoiceCb: ChoiceCb(owner=2**53 - 1, lesson_id=2**31 - 1, option=9),
    GoalCb: GoalCb(owner=2**53 - 1, lessons=3),
    PictureCb: PictureCb(owner=2**53 - 1, picture=max(Picture, key=len)),
    ReminderCb: ReminderCb(owner=2**53 - 1, action=max(ReminderAction, key=len), value=1439),
}


def test_the_largest_payload_of_every_factory_fits_telegrams_64_bytes() -> None:
    assert set(BIGGEST) == set(FACTORIES)
    for callback in BIGGEST.values():
        packed = callback.pack()
        assert len(packed.encode()) <= 64
        assert parse(packed) == callback


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "l",
        "l:1:2",
        "l:1:2:open:extra",
        "l:0:1:open",
        "l:1:0:open",
        "l:1:2147483648:open",
        "m:1:-1",
        "s:1:admin",
        "x:1:2",
        "l:1:1e3:open",
        "b:1:year",
        "b:1:WEEK",
        "b:0:week",
        "r:1:daily:1440",
        "r:1:daily:-1",
        "r:1:wake:0",
    ],
)
def test_malformed_payloads_parse_to_nothing(data: str | None) -> None:
    assert parse(data) is None


@given(st.text(max_size=64))
def test_parsing_any_text_never_raises(data: str) -> None:
    result = parse(data)
    assert result is None or isinstance(result, FACTORIES)


def test_settings_from_the_environment() -> None:
    settings = BotSettings.from_env(
        {
            "TELEGRAM_BOT_TOKEN": f" {TOKEN} ",
            "TELEGRAM_API_BASE": "http://127.0.0.1:8081/",
            "QUESTLINE_ADMIN_IDS": "1, 22;333",
            "QUESTLINE_CONTENT": "course.yaml",
            "QUESTLINE_RULES": os.pathsep.join(["a.json", "rules"]),
            "QUESTLINE_REMINDER_INTERVAL": "30",
        }
    )
    assert settings.token == TOKEN
    assert settings.reminder_interval == 30.0
    assert BotSettings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN}).reminder_interval == 60.0
    assert settings.api_base == "http://127.0.0.1:8081/"
    assert settings.admin_ids == {1, 22, 333}
    assert settings.content_path == Path("course.yaml")
    assert settings.rules_paths == (Path("a.json"), Path("rules"))
    assert TOKEN not in repr(settings)
    leaked = f"GET /bot{TOKEN}/getMe; AAE-secret_part"
    assert settings.redact(leaked) == "GET /bot<token>/getMe; <token>"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, "TELEGRAM_BOT_TOKEN is not set"),
        ({"TELEGRAM_BOT_TOKEN": "  "}, "TELEGRAM_BOT_TOKEN is not set"),
        ({"TELEGRAM_BOT_TOKEN": "abc:def"}, "does not look like a bot token"),
        ({"TELEGRAM_BOT_TOKEN": "123:"}, "does not look like a bot token"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE": "ftp://x"}, "must be an http(s) URL"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "QUESTLINE_ADMIN_IDS": "1,@ada"}, "not '@ada'"),
        *(
            ({"TELEGRAM_BOT_TOKEN": TOKEN, "QUESTLINE_REMINDER_INTERVAL": value}, f"not {value!r}")
            for value in ("-1", "often", "nan", "inf", "86401")
        ),
    ],
)
def test_bad_settings_are_named(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        BotSettings.from_env(environ)
    assert message in str(raised.value)
    token = environ.get("TELEGRAM_BOT_TOKEN", "").strip()
    assert not token or token not in str(raised.value)


def test_the_redis_url_is_read_and_its_password_never_shown() -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": "1:abc",
        "QUESTLINE_REDIS_URL": "redis://:s3cr3t-pw@cache:6379/2",
    }
    settings = BotSettings.from_env(env)
    assert settings.redis_url == "redis://:s3cr3t-pw@cache:6379/2"
    assert "s3cr3t-pw" not in repr(settings)
    assert (
        settings.redact("connect redis://:s3cr3t-pw@cache") == "connect redis://:<password>@cache"
    )
    assert BotSettings.from_env({"TELEGRAM_BOT_TOKEN": "1:abc"}).redis_url is None
