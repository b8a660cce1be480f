"""What the outbox costs `record()`, and how fast the dispatcher delivers to a local receiver.

Measures, on one database and in one run:

- events/s through ``Engine.record`` (one transaction per event) without the outbox write
  (``questline.engine.outbox.stage`` replaced by a no-op), with it when only awards are
  listened to (as with the built-in Telegram plugin alone), and with it when every event is
  too (questline-webhooks loaded), in rotating rounds over the same events, each on an emptied
  history; the outbox's added cost is the ratio of the medians (budget 10 %);
- outbox entries settled per second by ``Engine.deliver_outbox()`` with no subscriber (the
  dispatcher's own cost: claim, call the hooks, mark done), and with the questline-webhooks
  plugin posting every entry to an aiohttp receiver on 127.0.0.1 (signed POSTs per second).

The engine runs with the default rule catalog and the sample course and the event mix of
``engine_bench.py``. Run from the repository root, with questline-webhooks installed
(``pip install -e ./plugins/questline-webhooks``):

    .venv/bin/python benchmarks/outbox_bench.py [--database-url URL] [--events 150] [--rounds 6]

Without ``--database-url`` a new SQLite file in a temporary folder is used. Every table of a
MySQL/MariaDB database is dropped first: give the benchmark a database of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy
from aiohttp import web
from engine_bench import (
    SAMPLE_COURSE,
    event_stream,
    fresh_database,
    insert_users,
    record_each,
    timed,
    wipe_activity,
)
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine import Engine, Event, outbox
from questline.engine.db import safe_url
from questline.engine.models import OutboxEntry, OutboxStatus, User
from questline.engine.timestamps import utcnow
from questline.plugins import hookimpl
from questline.plugins.manager import build_plugin_manager
from questline.rules.loading import CATALOG_DIR

BUDGET = 0.10
PLUGINS: dict[str, object] = {}


def _no_outbox(*args: Any, **kwargs: Any) -> None:
    """`outbox.stage` replaced: the event is recorded, its notifications are not written."""


class AwardsOnly:
    """Listens to awards only, as the built-in Telegram plugin does."""

    @hookimpl
    def questline_award_granted(self) -> None:
        pass


# mode → (write the outbox?, plugins listening)
MODES = {
    "no outbox write": (False, ("awards",)),
    "outbox, award listener": (True, ("awards",)),
    "outbox, award + event listener": (True, ("awards", "webhooks")),
}


async def record_round(engine: Engine, events: list[Event], mode: str) -> tuple[float, float]:
    """Wall and CPU seconds (this process, every thread: SQLite runs here) to record `events`
    one by one on an empty activity history, in `mode`."""
    async with engine.db.begin() as connection:
        await connection.execute(delete(OutboxEntry))
    await wipe_activity(engine.db)
    write, listening = MODES[mode]
    for name in ("awards", "webhooks"):
        plugin = PLUGINS[name]
        if name in listening and not engine.plugins.is_registered(plugin):
            engine.plugins.register(plugin, name=name)
        if name not in listening and engine.plugins.is_registered(plugin):
            engine.plugins.unregister(plugin)
    real = outbox.stage
    if not write:
        outbox.stage = _no_outbox  # type: ignore[assignment]
    try:
        cpu = time.process_time()
        wall = await timed(lambda: record_each(engine, events))
        return wall, time.process_time() - cpu
    finally:
        outbox.stage = real  # type: ignore[assignment]


async def start_receiver() -> tuple[web.AppRunner, str, list[int]]:
    """A receiver on 127.0.0.1 that answers 204 and counts requests."""
    seen: list[int] = []

    async def hook(request: web.Request) -> web.Response:
        await request.read()
        seen.append(1)
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hooks", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}/hooks", seen


async def pending_again(db: AsyncEngine) -> None:
    async with db.begin() as connection:
        await connection.execute(
            update(OutboxEntry).values(
                status=OutboxStatus.PENDING, delivered_to=None, available_at=utcnow()
            )
        )


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s"


async def run(url: str, users: int, count: int, rounds: int) -> None:
    from questline_webhooks import store
    from questline_webhooks.plugin import plugin

    PLUGINS.update(awards=AwardsOnly(), webhooks=plugin)
    db = await fresh_database(url)
    engine = Engine(db, plugin_manager=build_plugin_manager(load_entry_points=False))
    await engine.load_content(SAMPLE_COURSE)
    await engine.load_rules([CATALOG_DIR])
    await engine.startup()
    await insert_users(db, 0, users)
    async with db.connect() as connection:
        user_ids = list(await connection.scalars(select(User.id).order_by(User.id)))
    lessons = [lesson for module in await engine.modules() for lesson in module.lessons]
    events = event_stream(user_ids, lessons, count)

    print(f"database: {safe_url(db.url)}  python {platform.python_version()}", end="")
    print(f"  sqlalchemy {sqlalchemy.__version__}  {users} learners, {count} events")
    await record_round(engine, events[: count // 5], "no outbox write")  # warm-up
    walls: dict[str, list[float]] = {mode: [] for mode in MODES}
    cpus: dict[str, list[float]] = {mode: [] for mode in MODES}
    for round_number in range(rounds):  # rotating which goes first, against drift in load
        order = list(MODES)[round_number % 3 :] + list(MODES)[: round_number % 3]
        for mode in order:
            wall, cpu = await record_round(engine, events, mode)
            walls[mode].append(wall)
            cpus[mode].append(cpu)
    base_wall = statistics.median(walls["no outbox write"])
    base_cpu = statistics.median(cpus["no outbox write"])
    print(f"record(), median of {rounds} rounds      wall events/s   added   CPU ms/event   added")
    for mode in MODES:
        wall, cpu = statistics.median(walls[mode]), statistics.median(cpus[mode])
        line = f"  {mode:<31} {rate(count, wall):>10}  {wall / base_wall - 1:>+7.1%}"
        line += f"  {cpu / count * 1000:>10.2f}  {cpu / base_cpu - 1:>+7.1%}"
        print(line)
    print(f"  budget: the outbox adds at most {BUDGET:.0%}")

    await record_round(engine, events, "outbox, award + event listener")  # entries to deliver
    entries = sum((await engine.outbox_status()).values())
    seconds = await timed(engine.deliver_outbox)
    print(f"dispatch, no subscriber         {rate(entries, seconds):>10}  ({entries} entries)")

    runner, receiver_url, seen = await start_receiver()
    try:
        await store.ensure_schema(db)
        await store.add_endpoint(db, receiver_url, outbox.TOPICS)
        await pending_again(db)
        seconds = await timed(engine.deliver_outbox)
    finally:
        await runner.cleanup()
    status = await engine.outbox_status()
    print(
        f"dispatch, signed POST per entry {rate(len(seen), seconds):>10}  "
        f"({len(seen)} POSTs to 127.0.0.1, {status['pending']} left pending)"
    )
    await engine.shutdown()
    await db.dispose()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--events", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args(argv)
    if args.database_url:
        asyncio.run(run(args.database_url, args.users, args.events, args.rounds))
        return
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/outbox_bench.db"
        asyncio.run(run(url, args.users, args.events, args.rounds))


if __name__ == "__main__":
    main()
