"""Events per second through NATS JetStream and `questline worker`, next to in-process.

For each run the database is made fresh (sample course, catalog, ``--users`` learners) and
``--events`` events (the same file each time) are recorded:

1. in-process: ``Engine.record_many`` in this process;
2. published (the publisher of ``questline events publish``, in this process) and recorded
   by 1 ``questline worker`` subprocess, timed from the start of publishing to the last
   acknowledgement (the stream is empty), printing the lag (events waiting) every second
   and where the CPU time went (workers, mariadbd, nats-server, this process, the rest);
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
import resource
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


async def waiting(publisher: Publisher) -> int:
    """Events not yet recorded and acknowledged: what the work-queue stream still holds."""
    info = await publisher.js.stream_info(publisher.settings.stream)
    return info.state.messages


def cpu_of(stat: Path) -> tuple[str, float]:
    """A process's name and CPU seconds so far, from its /proc/<pid>/stat (Linux)."""
    head, tail = stat.read_text().rsplit(")", 1)
    utime, stime = tail.split()[11:13]
    return head.split("(", 1)[1], (int(utime) + int(stime)) / os.sysconf("SC_CLK_TCK")


def process_cpu(name: str) -> float:
    """CPU seconds used so far by the processes called `name`."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError):
            command, seconds = cpu_of(stat)
            if command == name:
                total += seconds
    return total


def pids_cpu(pids: list[int]) -> float:
    """CPU seconds used so far by the processes `pids` (those still running)."""
    total = 0.0
    for pid in pids:
        with suppress(OSError):
            total += cpu_of(Path(f"/proc/{pid}/stat"))[1]
    return total


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy (all cores, all processes)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """Where the CPU time of a run went: workers, database, NATS, this process, the rest
    (a worker killed during the run takes its share with it)."""

    def __init__(self, processes: list[subprocess.Popen[bytes]]) -> None:
        self.processes = processes
        self.start = self.sample()

    def sample(self) -> dict[str, float]:
        own = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "workers": pids_cpu([process.pid for process in self.processes]),
            "mariadbd": process_cpu("mariadbd"),
            "nats-server": process_cpu("nats-server"),
            "publisher+bench": own.ru_utime + own.ru_stime,
            "machine": machine_busy(),
        }

    def report(self, wall: float) -> str:
        used = {key: value - self.start[key] for key, value in self.sample().items()}
        ours = sum(value for key, value in used.items() if key != "machine")
        parts = [f"{key} {value:.1f}" for key, value in used.items() if key != "machine"]
        other = max(0.0, used["machine"] - ours)
        cores = os.cpu_count() or 1
        return (
            f"  CPU seconds: {', '.join(parts)}, other processes {other:.1f}; "
            f"{cores} cores x {wall:.0f} s = {cores * wall:.0f} available"
        )


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
        meter = CpuMeter(processes)
        publishing = asyncio.create_task(publisher.publish_all(events))
        lags = []
        last_kill = len(events)
        while True:
            await asyncio.sleep(1)
            left = await waiting(publisher)
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
        print(meter.report(elapsed))
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
