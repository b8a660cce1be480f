"""The NATS adapter's settings, from the environment, each checked with a one-line error."""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass

from questline.engine.errors import QuestlineError
from questline.environment import seconds_from_env
from questline.plain_errors import shortened

URL_ENV = "QUESTLINE_NATS_URL"
NATS_SCHEMES = frozenset({"nats", "tls", "ws", "wss"})
PREFIX = "QUESTLINE_NATS_"
NAME = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
TOKEN = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
MAX_PARTITIONS = 1024


class NatsSettingsError(QuestlineError):
    """A NATS setting that cannot be used; the message names it."""


@dataclass(frozen=True)
class NatsSettings:
    """Where events and awards go. `stream` names the JetStream streams and the lease bucket
    (`<stream>`, `<stream>_AWARDS`, `<stream>_DEAD`, `<stream>_LEASES`); `subject` is the
    subjects' first token: `<subject>.events.<partition>`, `<subject>.awards.<user id>`,
    `<subject>.dead.<partition>`."""

    url: str
    stream: str = "QUESTLINE"
    subject: str = "questline"
    partitions: int = 16
    duplicate_window: float = 120.0  # seconds JetStream remembers a Nats-Msg-Id
    batch: int = 200  # messages per fetch, recorded in one transaction
    ack_wait: float = 30.0  # seconds before an unacknowledged batch is delivered again
    lease_ttl: float = 10.0  # seconds a dead worker keeps its partitions
    max_deliver: int = 5  # deliveries before a batch failing for no engine reason is dead-lettered

    def __post_init__(self) -> None:
        for server in self.url.split(","):
            scheme, separator, _ = server.strip().partition("://")
            if separator and scheme.lower() not in NATS_SCHEMES:
                raise NatsSettingsError(
                    f'{URL_ENV}="{shortened(self.url)}": {scheme}:// is not a NATS URL '
                    "(nats://, tls://, ws:// or wss://, e.g. nats://127.0.0.1:4222)"
                )
        if not NAME.match(self.stream):
            raise NatsSettingsError(
                f'{PREFIX}STREAM="{self.stream}": use 1 to 32 letters, digits, "_" or "-"'
            )
        if not TOKEN.match(self.subject):
            raise NatsSettingsError(
                f'{PREFIX}SUBJECT="{self.subject}": use dot-separated letters, digits, "_", "-"'
            )
        if not 1 <= self.partitions <= MAX_PARTITIONS:
            raise NatsSettingsError(f"{PREFIX}PARTITIONS must be 1 to {MAX_PARTITIONS}")
        if self.batch < 1 or self.max_deliver < 1:
            raise NatsSettingsError(f"{PREFIX}BATCH and {PREFIX}MAX_DELIVER must be at least 1")
        for name in ("duplicate_window", "ack_wait", "lease_ttl"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise NatsSettingsError(f"{PREFIX}{name.upper()} must be a positive number")

    @property
    def awards_stream(self) -> str:
        return f"{self.stream}_AWARDS"

    @property
    def dead_stream(self) -> str:
        return f"{self.stream}_DEAD"

    @property
    def lease_bucket(self) -> str:
        return f"{self.stream}_LEASES"

    def events_subject(self, partition: int | str) -> str:
        return f"{self.subject}.events.{partition}"

    def partition_subjects(self) -> list[str]:
        """The events stream's subjects, one per partition: a process counting partitions
        otherwise cannot publish where no worker reads."""
        return [self.events_subject(partition) for partition in range(self.partitions)]

    def awards_subject(self, user_id: int | str) -> str:
        return f"{self.subject}.awards.{user_id}"

    def dead_subject(self, partition: int | str) -> str:
        return f"{self.subject}.dead.{partition}"

    def durable(self, partition: int) -> str:
        """The durable consumer that reads `partition`."""
        return f"{self.stream}_P{partition}"

    @classmethod
    def from_env(cls) -> NatsSettings | None:
        """The settings, or None when QUESTLINE_NATS_URL is unset (record in-process)."""
        url = os.environ.get(URL_ENV, "").strip()
        if not url:
            return None
        values: dict[str, str | int | float] = {"url": url}
        for name in ("stream", "subject"):
            raw = os.environ.get(PREFIX + name.upper(), "").strip()
            if raw:
                values[name] = raw
        for name in ("partitions", "batch", "max_deliver"):
            raw = os.environ.get(PREFIX + name.upper(), "").strip()
            if raw:
                if not raw.isdigit():
                    raise NatsSettingsError(f'{PREFIX}{name.upper()}="{raw}" is not a whole number')
                values[name] = int(raw)
        for name in ("duplicate_window", "ack_wait", "lease_ttl"):
            default = getattr(cls, name)
            values[name] = seconds_from_env(PREFIX + name.upper(), default, NatsSettingsError)
        return cls(**values)  # type: ignore[arg-type]
