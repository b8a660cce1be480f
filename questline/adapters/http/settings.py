"""The HTTP adapter's settings, from the environment, each checked with a one-line error."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

from limits import RateLimitItem, parse

from questline.engine.dispatcher import DispatchSettings
from questline.environment import seconds_from_env

RATE_LIMIT_ENV = "QUESTLINE_HTTP_RATE_LIMIT"
MAX_BODY_ENV = "QUESTLINE_HTTP_MAX_BODY_BYTES"
REQUEST_TIMEOUT_ENV = "QUESTLINE_HTTP_REQUEST_TIMEOUT"
DEFAULT_RATE_LIMIT = "6000/minute"
DEFAULT_MAX_BODY = 1024 * 1024
DEFAULT_REQUEST_TIMEOUT = 30.0
MAX_BATCH = 1000
DISPATCH = DispatchSettings(handoff_wait=timedelta(0))
"""The API's outbox: an answer never waits for plugin hooks (its awards are in the answer; the
award stream and other hooks get them in the background), so a slow hook, or a claim waiting
for the database after the commit, cannot turn a recorded event into a 503 past the request
timeout."""


class SettingsError(ValueError):
    """A setting that cannot be used; the message names it."""


@dataclass(frozen=True)
class HttpSettings:
    """`rate_limit` applies per API key (limits' notation, e.g. "100/second; 5000/hour")."""

    rate_limit: str = DEFAULT_RATE_LIMIT
    max_body_bytes: int = DEFAULT_MAX_BODY
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    """Seconds a request may take before its response starts (a database that stopped
    answering); then it gets 503 database-unavailable."""

    def __post_init__(self) -> None:
        self.limits()
        if self.max_body_bytes < 1024:
            raise SettingsError(f"{MAX_BODY_ENV} must be at least 1024 bytes")
        if not self.request_timeout > 0:
            raise SettingsError(f"{REQUEST_TIMEOUT_ENV} must be a positive number of seconds")

    def limits(self) -> list[RateLimitItem]:
        try:
            limits = [parse(part) for part in self.rate_limit.split(";") if part.strip()]
        except ValueError:
            raise SettingsError(
                f'{RATE_LIMIT_ENV}="{self.rate_limit}" is not a rate limit '
                '(write e.g. "100/second" or "100/second; 5000/hour")'
            ) from None
        if any(limit.amount < 1 for limit in limits):
            raise SettingsError(
                f'{RATE_LIMIT_ENV}="{self.rate_limit}" allows no request at all '
                "(each limit must allow at least 1)"
            )
        return limits

    @classmethod
    def from_env(cls) -> HttpSettings:
        raw_body = os.environ.get(MAX_BODY_ENV, str(DEFAULT_MAX_BODY)).strip()
        if not raw_body.isdigit():
            raise SettingsError(f'{MAX_BODY_ENV}="{raw_body}" is not a whole number of bytes')
        return cls(
            rate_limit=os.environ.get(RATE_LIMIT_ENV, DEFAULT_RATE_LIMIT).strip(),
            max_body_bytes=int(raw_body),
            request_timeout=seconds_from_env(
                REQUEST_TIMEOUT_ENV, DEFAULT_REQUEST_TIMEOUT, SettingsError
            ),
        )
