"""The bot's configuration, read from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

TOKEN_ENV = "TELEGRAM_BOT_TOKEN"
API_BASE_ENV = "TELEGRAM_API_BASE"
ADMIN_IDS_ENV = "QUESTLINE_ADMIN_IDS"
CONTENT_ENV = "QUESTLINE_CONTENT"
RULES_ENV = "QUESTLINE_RULES"
REDIS_ENV = "QUESTLINE_REDIS_URL"
REMINDER_INTERVAL_ENV = "QUESTLINE_REMINDER_INTERVAL"
REDIS_SCHEMES = ("redis", "rediss", "unix")


class SettingsError(ValueError):
    """The environment does not describe a bot that can run; the message says what to fix."""


@dataclass(frozen=True)
class Throttle:
    """Per-learner token bucket: `burst` updates at once, refilled at `rate` per second."""

    rate: float = 1.0
    burst: int = 5


@dataclass(frozen=True)
class BotSettings:
    """Everything the bot needs besides the engine."""

    token: str = field(repr=False)
    api_base: str | None = None
    admin_ids: frozenset[int] = frozenset()
    content_path: Path | None = None
    rules_paths: tuple[Path, ...] = ()
    polling_timeout: int = 30
    throttle: Throttle = Throttle()
    redis_url: str | None = field(default=None, repr=False)
    """Keep FSM state in Redis instead of the engine's database."""
    reminder_interval: float = 60.0
    """Seconds between two looks for due reminders; 0: this process sends none."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> BotSettings:
        """Read TELEGRAM_BOT_TOKEN, TELEGRAM_API_BASE, QUESTLINE_ADMIN_IDS, QUESTLINE_CONTENT,
        QUESTLINE_RULES (paths separated like PATH), QUESTLINE_REDIS_URL and
        QUESTLINE_REMINDER_INTERVAL."""
        env = os.environ if environ is None else environ
        token = env.get(TOKEN_ENV, "").strip()
        if not token:
            raise SettingsError(f"{TOKEN_ENV} is not set: put the token @BotFather gave you there")
        left, sep, right = token.partition(":")
        if not (sep and left.isdigit() and right) or any(c.isspace() for c in token):
            raise SettingsError(f"{TOKEN_ENV} does not look like a bot token (digits:secret)")
        content = env.get(CONTENT_ENV, "").strip()
        return cls(
            token=token,
            api_base=_api_base(env.get(API_BASE_ENV, "").strip()),
            admin_ids=_admin_ids(env.get(ADMIN_IDS_ENV, "")),
            content_path=Path(content) if content else None,
            rules_paths=tuple(Path(p) for p in env.get(RULES_ENV, "").split(os.pathsep) if p),
            redis_url=_redis_url(env.get(REDIS_ENV, "").strip()),
            reminder_interval=_interval(env.get(REMINDER_INTERVAL_ENV, "").strip()),
        )

    def redact(self, text: str) -> str:
        """`text` with the token (and its secret half) and the Redis password replaced."""
        secret = self.token.partition(":")[2]
        text = text.replace(self.token, "<token>").replace(secret, "<token>")
        password = urlsplit(self.redis_url).password if self.redis_url else None
        return text.replace(password, "<password>") if password else text


def _api_base(value: str) -> str | None:
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"{API_BASE_ENV} must be an http(s) URL such as http://localhost:8081")
    return value


def _admin_ids(value: str) -> frozenset[int]:
    ids = [item.strip() for item in value.replace(";", ",").split(",") if item.strip()]
    bad = [item for item in ids if not item.isdigit()]
    if bad:
        raise SettingsError(f"{ADMIN_IDS_ENV} must list numeric Telegram ids, not {bad[0]!r}")
    return frozenset(int(item) for item in ids)


def _redis_url(value: str) -> str | None:
    if not value:
        return None
    if urlsplit(value).scheme not in REDIS_SCHEMES:
        raise SettingsError(f"{REDIS_ENV} must be a Redis URL such as redis://localhost:6379/0")
    return value


def _interval(value: str) -> float:
    if not value:
        return BotSettings.reminder_interval
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 86_400:
        raise SettingsError(
            f"{REMINDER_INTERVAL_ENV} must be a number of seconds from 0 (no reminders from "
            f"this process) to 86400, not {value!r}"
        )
    return seconds
