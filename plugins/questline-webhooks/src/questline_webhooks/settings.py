"""The plugin's settings, from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass

from questline.engine.errors import QuestlineError
from questline.environment import seconds_from_env

TIMEOUT_ENV = "QUESTLINE_WEBHOOKS_TIMEOUT"
MAX_FAILURES_ENV = "QUESTLINE_WEBHOOKS_MAX_FAILURES"


@dataclass(frozen=True)
class Settings:
    timeout: float = 10.0
    max_failures: int = 5

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            timeout=seconds_from_env(TIMEOUT_ENV, cls.timeout, QuestlineError),
            max_failures=_whole_number(MAX_FAILURES_ENV, cls.max_failures),
        )


def _whole_number(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise QuestlineError(f"{name} must be a positive number, not {raw!r}") from None
    if value <= 0:
        raise QuestlineError(f"{name} must be a positive number, not {raw!r}")
    return value
