"""Events per second through NATS JetStream and `questline worker`, next to in-process.

For each run the database is made fresh (sample course, catalog, ``--users`` learners) and
``--events`` events (the same file each time) are recorded:

1. in-process: ``Engine.record_many`` in this process;
2. published (the publisher of ``questline events publish``, in this process) and recorded
   by 1 ``questline worker`` subprocess, timed from the start of publishing to the last
   acknowledgement (the stream is empty), printing the lag (events waiting) every 0.5 s;
3. the same with 2 workers;

then the publish latency of an adapter (one event, awaited ack, one after another) is
measured: p50 and p99 against the 5 ms target. With ``--kills N`` a chaos run follows: 2
workers, one of them SIGKILLed at a random moment N times and restarted, and the database is
compared with the in-process one (progress, awards and leaderboard of every learner).
Run from the repository root, with NATS on QUESTLINE_NATS_URL (default 127.0.0.1:4222):

    .venv/bin/python benchmarks/worker_bench.py --database-url mysql+aiomysql://… [--events N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from contextlib import suppress
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine_bench import percentile, rate
from ingest_bench import event_lines, prepare
from nats.js.errors import NotFoundError

from questline.adapters.nats.publisher import Publisher
from questline.adapters.nats.settings import NatsSettings
from questline.adapters.nats.status import partition_status
from questline.engine import Engine, Event
from questline.plugins.manager import build_plugin_manager
from questline.rules.vocabulary import ActivityType

QUESTLINE = Path(sys.executable).with_name("questline")
LATENCY_TARGET_MS = 5.0
SPEEDUP_TARGET = 1.6


def settings_for_run(url: str) -> NatsSettings:
    tag = uuid.uuid4().hex[:8]
    return NatsSettings(url=url, stream=f"BENCH{tag}", subject=f"bench{tag}", lease_ttl=3.0)


def environment(settings: NatsSettings, database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "QUESTLINE_NATS_URL": settings.url,
        "QUESTLINE_NATS_STREAM": settings.stream,
        "QUESTLINE_NATS_SUBJECT": settings.subject,
        "QUESTLINE_NATS_PARTITIONS": str(settings.partitions),
        "QUESTLINE_NATS_LEASE_TTL": str(settings.lease_ttl),
        "QUESTLINE_NATS_ACK_WAIT": "5",
    }


def start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(QUESTLINE), "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


async def waiting(settings: NatsSettings) -> int:
    return sum(row.lag + row.ack_pending for row in await partition_status(settings))


async def delete_streams(settings: NatsSettings) -> None:
    publisher = await Publisher.open(settings)
    try:
        for name in (settings.stream, settings.awards_stream, settings.dead_stream):
            await publisher.js.delete_stream(name)
        with suppress(NotFoundError):  # no worker ran: no leases
            await publisher.js.delete_key_value(settings.lease_bucket)
    finally:
        await publisher.close()


async def ready(settings: NatsSettings, workers: int) -> None:
    """Wait until every partition is held and every worker holds some."""
    while True:
        with suppress(Exception):  # streams not created yet
            holders = [row.holder for row in await partition_status(settings)]
            if all(holders) and len(set(holders)) == workers:
                return
        await asyncio.sleep(0.2)


async def through_workers(
    nats_url: str, database_url: str, events: list[Event], workers: int, kills: int = 0
) -> float:
    """Seconds from the start of publishing to the last acknowledgement; prints the lag."""
    settings = settings_for_run(nats_url)
    env = environment(settings, database_url)
    processes = [start_worker(env) for _ in range(workers)]
    rng = random.Random(kills)
    kill_at = sorted(rng.uniform(0.1, 0.8) for _ in range(kills))
    publisher = await Publisher.open(settings)
    try:
        await ready(settings, workers)
        started = time.perf_counter()
        publishing = asyncio.create_task(publisher.publish_all(events))
        lags = []
        last_kill = len(events)
        while True:
            await asyncio.sleep(0.5)
            left = await waiting(settings)
            lags.append(f"{time.perf_counter() - started:.1f}s:{left}")
            if not publishing.done():
                continue
            if kill_at and left < min(last_kill, len(events) * (1 - kill_at[0])):
                kill_at.pop(0)
                last_kill = left
                victim = processes.pop(rng.randrange(len(processes)))
                victim.send_signal(signal.SIGKILL)
                victim.wait()
                processes.append(start_worker(env))
                lags[-1] += "(kill)"
            elif left == 0:
                break
        elapsed = time.perf_counter() - started
        await publishing
        print(f"  lag (events waiting) over time: {' '.join(lags)}")
        return elapsed
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait()
        await publisher.close()
        await delete_streams(settings)


async def in_process(database_url: str, events: list[Event]) -> float:
    engine = Engine(database_url, plugin_manager=build_plugin_manager(load_entry_points=False))
    try:
        await engine.startup()
        started = time.perf_counter()
        await engine.record_many(events)
        return time.perf_counter() - started
    finally:
        await engine.shutdown()


async def publish_latency(nats_url: str, count: int) -> list[float]:
    """Milliseconds per publish (ack awaited), one after another, as an adapter does."""
    settings = settings_for_run(nats_url)
    publisher = await Publisher.open(settings)
    timings = []
    try:
        for number in range(count):
            event = Event(type=ActivityType.LOGIN, user_id=1 + number % 1000)
            started = time.perf_counter()
            await publisher.publish(event)
            timings.append((time.perf_counter() - started) * 1000)
    finally:
        await publisher.close()
        await delete_streams(settings)
    return timings


async def learner_state(database_url: str, user_ids: list[int]) -> dict[str, Any]:
    engine = Engine(database_url, plugin_manager=build_plugin_manager(load_entry_points=False))
    try:
        awards = []
        for user in user_ids:
            statuses = await engine.achievements(user_id=user)
            awards.append(sorted((a.slug, a.earned_at) for a in statuses if a.earned_at))
        return {
            "progress": [await engine.progress(user_id=user) for user in user_ids],
            "awards": awards,
            "leaderboard": await engine.top(len(user_ids)),
        }
    finally:
        await engine.shutdown()


async def run(options: argparse.Namespace) -> None:
    url, nats_url = options.database_url, options.nats_url
    user_ids, lessons = await prepare(url, options.users)
    lines = list(event_lines(user_ids, lessons, options.events))
    events = [Event.model_validate_json(line) for line in lines]
    count = len(lines)
    print(f"{count:,} events of {options.users:,} learners, {url.split('://')[0]}")

    seconds = await in_process(url, events)
    print(f"in-process record_many:       {rate(count, seconds)}")
    reference = await learner_state(url, user_ids) if options.kills else None
    per_workers = {}
    for workers in (1, 2):
        await prepare(url, options.users)
        print(f"publish → commit, {workers} worker(s):")
        per_workers[workers] = await through_workers(nats_url, url, events, workers)
        print(f"  {rate(count, per_workers[workers])}")
    speedup = per_workers[1] / per_workers[2]
    verdict = "met" if speedup >= SPEEDUP_TARGET else "NOT met"
    print(f"2 workers / 1 worker: {speedup:.2f}x  target >= {SPEEDUP_TARGET}x: {verdict}")

    timings = await publish_latency(nats_url, 2000)
    p50, p99 = percentile(timings, 0.5), percentile(timings, 0.99)
    verdict = "met" if p99 < LATENCY_TARGET_MS else "NOT met"
    print(f"publish latency: p50 {p50:.2f} ms, p99 {p99:.2f} ms  target p99 < 5 ms: {verdict}")

    if options.kills:
        await prepare(url, options.users)
        print(f"chaos: 2 workers, {options.kills} SIGKILLs and restarts:")
        seconds = await through_workers(nats_url, url, events, 2, options.kills)
        same = await learner_state(url, user_ids) == reference
        print(f"  {rate(count, seconds)}; equal to in-process: {'yes' if same else 'NO'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="e.g. mysql+aiomysql://…")
    parser.add_argument(
        "--nats-url", default=os.environ.get("QUESTLINE_NATS_URL", "nats://127.0.0.1:4222")
    )
    parser.add_argument("--users", type=int, default=1_000, help="learners")
    parser.add_argument("--events", type=int, default=20_000, help="events in the file")
    parser.add_argument("--kills", type=int, default=0, help="chaos run: SIGKILLs (e.g. 5)")
    options = parser.parse_args()
    asyncio.run(run(options))


if __name__ == "__main__":
    main()
