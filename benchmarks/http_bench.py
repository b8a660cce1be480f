"""The HTTP API's cost: events through `questline serve` next to the same events in process.

Measures, on one database and in one run, with the same number of concurrent clients:

- ``Engine.record`` in process vs ``POST /v1/events`` (one event per request);
- ``Engine.record_many`` in process vs ``POST /v1/events:batch`` (``--batch`` events per
  request);

and prints events/s, p50 and p99 latency per call, and each endpoint's share of its in-process
counterpart against the target (70 %). The API runs as a real ``questline serve`` process on
127.0.0.1, driven by httpx; the in-process calls run in this process on the same database.
Every measurement has learners of its own, and every event an idempotency key of its own, so
nothing is a replay. Run from the repository root:

    .venv/bin/python benchmarks/http_bench.py [--database-url URL] [--clients 64]

Without ``--database-url`` a new SQLite file in a temporary folder is used. Every table of a
MySQL/MariaDB database is dropped first: give the benchmark a database of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from questline.engine import Engine, Event, UserProfile
from questline.engine.db import create_engine, is_mysql, safe_url
from questline.engine.migrate import drop_all_tables, upgrade_database
from questline.engine.views import LessonView
from questline.rules.loading import CATALOG_DIR
from questline.rules.vocabulary import ActivityType as A

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_COURSE = ROOT / "questline/engine/sample/course.yaml"
QUESTLINE = Path(sys.executable).with_name("questline")
START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
TARGET = 0.70
PEER = "gengine 0.4.0: 62 events/s (a peer's figure, not re-measured)"
LEARNERS_PER_CLIENT = 2


# -- set-up ----------------------------------------------------------------------------------


async def prepare(url: str, cohorts: int, clients: int) -> tuple[str, list[LessonView]]:
    """A migrated database with the course, the rules, learners and an API key."""
    if is_mysql(url):
        db = create_engine(url)
        async with db.begin() as connection:
            await connection.run_sync(drop_all_tables)
        await db.dispose()
    await upgrade_database(url)
    engine = Engine(url)
    try:
        await engine.load_content(SAMPLE_COURSE)
        await engine.load_rules([CATALOG_DIR])
        for telegram_id in range(1, cohorts * clients * LEARNERS_PER_CLIENT + 1):
            await engine.register_user(UserProfile(telegram_id=telegram_id, first_name="L"))
        key = await engine.create_api_key("benchmark", ["events:write"])
        lessons = [lesson for module in await engine.modules() for lesson in module.lessons]
        return key.secret, lessons
    finally:
        await engine.shutdown()


def workloads(
    cohort: int, clients: int, per_client: int, lessons: list[LessonView]
) -> list[list[Event]]:
    """Each client's events for its own learners: logins, lesson starts and completions."""
    out = []
    for client in range(clients):
        first = (cohort * clients + client) * LEARNERS_PER_CLIENT + 1
        events = []
        for n in range(per_client):
            telegram_id = first + n % LEARNERS_PER_CLIENT
            step = n // LEARNERS_PER_CLIENT
            lesson = lessons[(step // 2) % len(lessons)]
            moment = START + timedelta(hours=step)
            key = f"bench-{cohort}-{client}-{n}"
            if step % 5 == 4:
                events.append(
                    Event(
                        type=A.LOGIN,
                        telegram_id=telegram_id,
                        occurred_at=moment,
                        idempotency_key=key,
                    )
                )
            elif step % 2 == 0:
                events.append(
                    Event(
                        type=A.LESSON_STARTED,
                        telegram_id=telegram_id,
                        lesson_id=lesson.id,
                        occurred_at=moment,
                        idempotency_key=key,
                    )
                )
            else:
                events.append(
                    Event(
                        type=A.LESSON_COMPLETED,
                        telegram_id=telegram_id,
                        lesson_id=lesson.id,
                        score=70 + step % 30,
                        occurred_at=moment,
                        idempotency_key=key,
                    )
                )
        out.append(events)
    return out


def chunked(events: list[Event], size: int) -> list[list[Event]]:
    return [events[i : i + size] for i in range(0, len(events), size)]


# -- measuring -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    events: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.events / self.seconds

    def percentile(self, q: int) -> float:
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[q - 1] * 1000


async def drive(calls: Sequence[Sequence[Callable[[], Awaitable[Any]]]], events: int) -> Figure:
    """Run each client's calls in order, all clients at once; time every call."""
    latencies: list[float] = []

    async def client(own: Sequence[Callable[[], Awaitable[Any]]]) -> None:
        for call in own:
            began = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    await asyncio.gather(*(client(own) for own in calls))
    return Figure(events, time.perf_counter() - began, latencies)


def wire(event: Event) -> dict[str, Any]:
    return event.model_dump(mode="json", exclude_defaults=True) | {
        "occurred_at": event.occurred_at.isoformat()
    }


async def posted(client: httpx.AsyncClient, path: str, body: Any) -> None:
    response = await client.post(path, json=body)
    if response.status_code >= 300:
        raise RuntimeError(f"{path} answered {response.status_code}: {response.text}")


# -- the server ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def start_server(url: str) -> tuple[asyncio.subprocess.Process, str]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "QUESTLINE_HTTP_RATE_LIMIT": "10000000/minute"}
    process = await asyncio.create_subprocess_exec(
        str(QUESTLINE),
        *("serve", "--host", "127.0.0.1", "--port", str(port)),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient() as probe:
        for _ in range(300):
            if process.returncode is not None:
                raise RuntimeError("questline serve exited; run it by hand to see why")
            try:
                if (await probe.get(f"{base}/v1/health")).status_code == 200:
                    return process, base
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise RuntimeError("questline serve did not answer within 30 s")


# -- the report ------------------------------------------------------------------------------


def show(rows: list[tuple[str, Figure, Figure | None]]) -> None:
    print(f"{'measurement':<40} {'events/s':>9} {'p50 ms':>8} {'p99 ms':>8}  vs in-process")
    for label, figure, baseline in rows:
        line = (
            f"{label:<40} {figure.rate:>9.0f} {figure.percentile(50):>8.1f} "
            f"{figure.percentile(99):>8.1f}"
        )
        if baseline is not None:
            ratio = figure.rate / baseline.rate
            verdict = "meets" if ratio >= TARGET else "below"
            line += f"  {ratio:>5.0%} ({verdict} the {TARGET:.0%} target)"
        print(line)
    print(PEER)


async def run(url: str, clients: int, per_client: int, batch: int) -> None:
    version = platform.python_version()
    print(f"database: {safe_url(url)}; {clients} concurrent clients; python {version}")
    key, lessons = await prepare(url, cohorts=4, clients=clients)
    single = per_client
    many = per_client * 5
    print(
        f"record: {clients * single} events, one per call; record_many: {clients * many} events "
        f"in calls of {batch}"
    )
    engine = Engine(url)
    await engine.startup()
    process, base = await start_server(url)
    try:
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(
            base_url=base, headers=headers, limits=limits, timeout=120
        ) as http:
            work = workloads(0, clients, single, lessons)
            record = await drive(
                [[lambda e=e: engine.record(e) for e in own] for own in work], clients * single
            )
            work = workloads(1, clients, single, lessons)
            post = await drive(
                [[lambda e=e: posted(http, "/v1/events", wire(e)) for e in own] for own in work],
                clients * single,
            )
            work = workloads(2, clients, many, lessons)
            record_many = await drive(
                [[lambda c=c: engine.record_many(c) for c in chunked(own, batch)] for own in work],
                clients * many,
            )
            work = workloads(3, clients, many, lessons)
            post_batch = await drive(
                [
                    [
                        lambda c=c: posted(
                            http, "/v1/events:batch", {"events": [wire(e) for e in c]}
                        )
                        for c in chunked(own, batch)
                    ]
                    for own in work
                ],
                clients * many,
            )
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 30)
        await engine.shutdown()
    show(
        [
            ("Engine.record (in process)", record, None),
            ("POST /v1/events", post, record),
            (f"Engine.record_many ({batch} per call)", record_many, None),
            (f"POST /v1/events:batch ({batch} per request)", post_batch, record_many),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a new SQLite file in a temporary folder")
    parser.add_argument("--clients", type=int, default=64, help="concurrent clients")
    parser.add_argument("--events", type=int, default=5, help="single events per client")
    parser.add_argument("--batch", type=int, default=25, help="events per record_many call")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'http_bench.db'}"
        asyncio.run(run(url, args.clients, args.events, args.batch))


if __name__ == "__main__":
    main()
