"""NATS test fixtures: the server under test, settings with names no other test uses, and
two fresh databases (the one workers write, and a reference for an in-process ingest).

The NATS server is QUESTLINE_TEST_NATS_URL (default the local one on port 4222). Tests skip
with the reason when it does not answer, unless QUESTLINE_REQUIRE_NATS=1 (CI), where that
fails them.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import suppress
from pathlib import Path
from urllib.parse import urlparse

import nats
import pytest
from nats.js.errors import NotFoundError

from questline.adapters.nats.settings import NatsSettings
from questline.engine.db import is_mysql

NATS_URL = os.environ.get("QUESTLINE_TEST_NATS_URL", "nats://127.0.0.1:4222")


def answers(url: str) -> bool:
    parts = urlparse(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 4222), 1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def nats_url() -> str:
    if not answers(NATS_URL):
        reason = f"no NATS server answers at {NATS_URL} (start nats-server -js)"
        if os.environ.get("QUESTLINE_REQUIRE_NATS") == "1":
            pytest.fail(f"QUESTLINE_REQUIRE_NATS=1 but {reason}")
        pytest.skip(reason)
    return NATS_URL


def fresh_settings(url: str) -> NatsSettings:
    """Names of their own (streams, subjects, leases) and short timings for a test."""
    tag = uuid.uuid4().hex[:10]
    return NatsSettings(
        url=url,
        stream=f"T{tag}",
        subject=f"t{tag}",
        partitions=4,
        batch=50,
        ack_wait=2.0,
        lease_ttl=1.5,
        duplicate_window=60.0,
    )


async def delete_streams(settings: NatsSettings) -> None:
    client = await nats.connect(settings.url)
    try:
        js = client.jetstream()
        for name in (settings.stream, settings.awards_stream, settings.dead_stream):
            with suppress(NotFoundError):
                await js.delete_stream(name)
        with suppress(NotFoundError):
            await js.delete_key_value(settings.lease_bucket)
    finally:
        await client.close()


@pytest.fixture
async def settings(nats_url: str) -> AsyncIterator[NatsSettings]:
    made = fresh_settings(nats_url)
    yield made
    await delete_streams(made)


@pytest.fixture
def nats_env(settings: NatsSettings, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment a command or worker process needs for `settings`."""
    env = {
        "QUESTLINE_NATS_URL": settings.url,
        "QUESTLINE_NATS_STREAM": settings.stream,
        "QUESTLINE_NATS_SUBJECT": settings.subject,
        "QUESTLINE_NATS_PARTITIONS": str(settings.partitions),
        "QUESTLINE_NATS_BATCH": str(settings.batch),
        "QUESTLINE_NATS_ACK_WAIT": str(settings.ack_wait),
        "QUESTLINE_NATS_LEASE_TTL": str(settings.lease_ttl),
        "QUESTLINE_NATS_DUPLICATE_WINDOW": str(settings.duplicate_window),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def urls(database_url: str, migrations_database_url: str, tmp_path: Path) -> tuple[str, str]:
    """(the database workers write, the reference database); both are made fresh by
    `scenario.prepare`. On SQLite, two new files; on MariaDB, the test database and its
    `_migrations` sibling."""
    if is_mysql(database_url):
        return database_url, migrations_database_url
    return (
        f"sqlite+aiosqlite:///{tmp_path / 'stream.db'}",
        f"sqlite+aiosqlite:///{tmp_path / 'reference.db'}",
    )


async def eventually(
    check: Callable[[], Awaitable[bool]], what: str, within: float = 120.0
) -> None:
    """Wait until `check` holds (polled); fail naming `what` after `within` seconds (a bound
    for a stuck run on a loaded machine, not a timing assertion)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await check():
        if loop.time() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)
