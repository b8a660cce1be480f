"""Workers killed with SIGKILL mid-run and restarted, and a NATS server stopped and started
again mid-run: the database still equals an in-process ingest (no event lost, none applied
twice, each learner's order kept: attempts, scores and streaks agree)."""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from questline.adapters.nats.publisher import Publisher
from questline.adapters.nats.settings import NatsSettings
from questline.adapters.nats.status import partition_status
from questline.engine import Event
from tests.nats.conftest import delete_streams, eventually
from tests.nats.helpers import drained, invoke, workers
from tests.nats.scenario import event_lines, ingest, prepare, recorded_events, state, write_events
from tests.support.proxy import CuttableProxy, through

# the suite's size; the full run: QUESTLINE_CRASH_EVENTS=20000 QUESTLINE_CRASH_KILLS=5
EVENTS = int(os.environ.get("QUESTLINE_CRASH_EVENTS", "2000"))
KILLS = int(os.environ.get("QUESTLINE_CRASH_KILLS", "2"))
QUESTLINE = Path(sys.executable).parent / "questline"


def worker_process(env: dict[str, str], url: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(QUESTLINE), "worker"],
        env={**os.environ, **env, "DATABASE_URL": url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def talking_worker(env: dict[str, str], url: str) -> subprocess.Popen[str]:
    """A worker process whose stderr the test reads."""
    return subprocess.Popen(
        [str(QUESTLINE), "worker"],
        env={**os.environ, **env, "DATABASE_URL": url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


async def test_workers_killed_and_restarted_lose_and_repeat_nothing(
    settings: NatsSettings, nats_env: dict[str, str], urls: tuple[str, str], tmp_path: Path
) -> None:
    stream_url, reference_url = urls
    community = await prepare(stream_url)
    await prepare(reference_url)
    lines = event_lines(community, EVENTS, seed=11)
    path = write_events(tmp_path / "events.jsonl", lines)
    published = await invoke(["events", "publish", str(path)], nats_env)
    assert published.exit_code == 0, published.output

    rng = random.Random(5)
    processes = [worker_process(nats_env, stream_url) for _ in range(2)]
    try:
        for kill in range(KILLS):
            target = (kill + 1) * EVENTS // (KILLS + 2) + rng.randint(0, EVENTS // 10)

            async def reached(target: int = target) -> bool:
                return await recorded_events(stream_url) >= target

            await eventually(reached, f"{target} events before kill {kill + 1}")
            victim = processes.pop(rng.randrange(len(processes)))
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            processes.append(worker_process(nats_env, stream_url))
        await eventually(lambda: drained(settings), "every event recorded")
        await eventually(lambda: _holders(settings, 2), "both workers running (SIGTERM-ready)")
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            assert process.wait(timeout=30) == 0  # a graceful stop exits cleanly

    await ingest(reference_url, lines)
    assert await state(stream_url, community.user_ids) == await state(
        reference_url, community.user_ids
    )
    assert await recorded_events(stream_url) == await recorded_events(reference_url)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def private_server(port: int, store: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A nats-server of this test's own with JetStream, stopped on exit."""
    binary = shutil.which("nats-server")
    if binary is None:
        pytest.skip("nats-server is not installed")
    process = subprocess.Popen(
        [binary, "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", str(store)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)


async def listening(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    return True


@asynccontextmanager
async def running_server(port: int, store: Path) -> AsyncIterator[None]:
    with private_server(port, store):
        await eventually(lambda: listening(port), f"nats-server on port {port}")
        yield


async def test_nats_server_restart_mid_run_loses_nothing(
    nats_url: str, settings: NatsSettings, urls: tuple[str, str], tmp_path: Path
) -> None:
    stream_url, reference_url = urls
    community = await prepare(stream_url)
    await prepare(reference_url)
    lines = event_lines(community, 600, seed=3)
    events = [Event.model_validate_json(line) for line in lines]
    port = free_port()
    private = replace(settings, url=f"nats://127.0.0.1:{port}")
    store = tmp_path / "jetstream"

    server = private_server(port, store)
    server.__enter__()
    try:
        await eventually(lambda: listening(port), "the private nats-server")
        publisher = await Publisher.open(private)
        async with workers(stream_url, private, 1):
            await publisher.publish_all(events[:300])
            await eventually(lambda: _at_least(stream_url, 50), "the first events recorded")
            server.__exit__(None, None, None)  # the server stops mid-run
            server = private_server(port, store)
            server.__enter__()
            await publisher.publish_all(events[300:])  # waits for the reconnection
            await eventually(lambda: drained(private), "every event recorded")
        await publisher.close()
        await delete_streams(private)
    finally:
        server.__exit__(None, None, None)

    await ingest(reference_url, lines)
    assert await state(stream_url, community.user_ids) == await state(
        reference_url, community.user_ids
    )


async def _at_least(url: str, count: int) -> bool:
    return await recorded_events(url) >= count


async def _holders(settings: NatsSettings, count: int) -> bool:
    rows = await partition_status(settings)
    return len({row.holder for row in rows if row.holder}) == count


@pytest.mark.mysql_only
async def test_a_worker_started_while_the_database_is_away_starts_when_it_is_back(
    settings: NatsSettings,
    nats_env: dict[str, str],
    urls: tuple[str, str],
    proxy: CuttableProxy,
) -> None:
    """A worker restarted during an outage waits for the database, as a running one does."""
    url = urls[0]
    community = await prepare(url)
    proxy.cut()
    waiting = talking_worker(nats_env, through(url, proxy))
    try:
        assert waiting.stderr is not None
        said = await asyncio.to_thread(waiting.stderr.readline)
        assert "cannot connect to database" in said and "trying again every second" in said
        assert waiting.poll() is None  # still there, waiting
        publisher = await Publisher.open(settings)
        try:
            await publisher.publish(Event(type="LOGIN", user_id=community.user_ids[0]))
        finally:
            await publisher.close()
        proxy.restore()
        await eventually(lambda: _at_least(url, 1), "the event recorded once the database is back")
    finally:
        waiting.send_signal(signal.SIGTERM)
        assert waiting.wait(timeout=30) == 0
