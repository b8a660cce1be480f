"""The HTTP adapter's settings, from the environment, each checked with a one-line error."""

from __future__ import annotations

import os
from dataclasses import dataclass

from limits import RateLimitItem, parse

RATE_LIMIT_ENV = "QUESTLINE_HTTP_RATE_LIMIT"
MAX_BODY_ENV = "QUESTLINE_HTTP_MAX_BODY_BYTES"
DEFAULT_RATE_LIMIT = "6000/minute"
DEFAULT_MAX_BODY = 1024 * 1024
MAX_BATCH = 1000


class SettingsError(ValueError):
    """A setting that cannot be used; the message names it."""


@dataclass(frozen=True)
class HttpSettings:
    """`rate_limit` applies per API key (limits' notation, e.g. "100/second; 5000/hour")."""

    rate_limit: str = DEFAULT_RATE_LIMIT
    max_body_bytes: int = DEFAULT_MAX_BODY

    def __post_init__(self) -> None:
        self.limits()
        if self.max_body_bytes < 1024:
            raise SettingsError(f"{MAX_BODY_ENV} must be at least 1024 bytes")

    def limits(self) -> list[RateLimitItem]:
        try:
            return [parse(part) for part in self.rate_limit.split(";") if part.strip()]
        except ValueError:
            raise SettingsError(
                f'{RATE_LIMIT_ENV}="{self.rate_limit}" is not a rate limit '
                '(write e.g. "100/second" or "100/second; 5000/hour")'
            ) from None

    @classmethod
    def from_env(cls) -> HttpSettings:
        raw_body = os.environ.get(MAX_BODY_ENV, str(DEFAULT_MAX_BODY)).strip()
        if not raw_body.isdigit():
            raise SettingsError(f'{MAX_BODY_ENV}="{raw_body}" is not a whole number of bytes')
        return cls(
            rate_limit=os.environ.get(RATE_LIMIT_ENV, DEFAULT_RATE_LIMIT).strip(),
            max_body_bytes=int(raw_body),
        )
