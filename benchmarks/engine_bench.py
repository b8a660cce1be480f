"""Engine throughput next to what the database allows, and the leaderboard at 100k learners.

Measures, on one database and in one run:

- events/s through ``Engine.record`` (one transaction per event) and the ceiling: bare
  ``activity_log`` inserts through SQLAlchemy Core, one row per commit; and the same insert
  sent in as many statements per commit as a ``record`` sends (the most any write path of
  that many statements can reach through this driver);
- events/s through ``Engine.record_many`` and the ceiling: the same inserts, 1,000 rows per commit;
- 64 concurrent ``Engine.record`` callers for distinct learners (group commit) against the
  sequential figure, with latency percentiles;
- history independence: ``record`` for a learner with 20,000 earlier events against one
  with 100;
- the drivers: aiosqlite against the standard ``sqlite3`` module running a whole
  transaction on one thread (SQLite), asyncmy against aiomysql (MySQL/MariaDB), on the
  one-row-per-commit insert;
- ``Engine.record`` of scored events (each ranks its learner) with 1,000 and with
  ``--leaderboard-users`` (default 100,000) learners on the leaderboard;
  ``Engine.rebuild_leaderboard()`` and the ``top``/``around`` reads at that size.

SQLite runs as the engine configures it: WAL journal, ``synchronous=NORMAL``. Every ratio is
printed next to its target.

The engine runs with the default rule catalog and the sample course; the events are a mix of
logins, lesson starts and completions (with scores) and challenge attempts and solves, spread
over 30 days, from learners of very different activity. Run from the repository root:

    .venv/bin/python benchmarks/engine_bench.py [--database-url URL] [--users 1000] [--events N]

Without ``--database-url`` a new SQLite file in a temporary folder is used. Every table of a
MySQL/MariaDB database is dropped first: give the benchmark a database of its own.
``--profile FILE`` records the ``record`` path once more under cProfile (stats saved to FILE)
and prints the hottest functions and the SQL statements that took the most time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib.util
import json
import platform
import pstats
import random
import re
import sqlite3
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy
from sqlalchemy import delete, event, func, insert, select, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from questline.engine import Engine, Event, ranks
from questline.engine.db import create_engine, is_mysql, safe_url
from questline.engine.migrate import drop_all_tables, upgrade_database
from questline.engine.models import (
    ActivityLog,
    LeaderboardCache,
    LeaderboardScoreCount,
    LearnerDay,
    LearnerPeriodScore,
    LearnerTotals,
    User,
    UserAchievement,
    UserProgress,
)
from questline.engine.views import LessonView
from questline.plugins.manager import build_plugin_manager
from questline.rules.loading import CATALOG_DIR
from questline.rules.vocabulary import ActivityType as A

SAMPLE_COURSE = Path(__file__).resolve().parent.parent / "questline/engine/sample/course.yaml"
START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
DAYS = 30
BATCH = 1_000
LEADERBOARD_USERS = 100_000
SCALE_EVENTS = 150
TELEGRAM_BASE = 5_000_000_000
RECORD_TARGET = 0.50
RECORD_MANY_TARGET = 0.25
CONCURRENT_CALLERS = 64
CONCURRENCY_TARGET = 5.0
HISTORY_SHORT, HISTORY_LONG, HISTORY_CALLS = 100, 20_000, 50
HISTORY_TARGET = 1.25
REBUILD_TARGET_MS = 10_000
READ_TARGET_MS = 5.0
READ_SAMPLES = 30
"""Calls of top(10) and around(user) (for as many learners) whose median is shown."""


# -- the database ----------------------------------------------------------------------------


async def fresh_database(url: str) -> AsyncEngine:
    """An engine on `url`, migrated to head from an empty database."""
    db = create_engine(url)
    if is_mysql(db):
        async with db.begin() as connection:
            await connection.run_sync(drop_all_tables)
    await upgrade_database(db)
    return db


async def insert_users(db: AsyncEngine, first: int, count: int) -> None:
    """Learners `first`… `first + count - 1` (by Telegram id offset), with Core bulk inserts."""
    joined = START - timedelta(days=1)
    for start in range(first, first + count, 10 * BATCH):
        rows = [
            {
                "telegram_id": TELEGRAM_BASE + number,
                "first_name": f"Learner {number}",
                "language_code": "en",
                "created_at": joined,
                "updated_at": joined,
            }
            for number in range(start, min(start + 10 * BATCH, first + count))
        ]
        async with db.begin() as connection:
            await connection.execute(insert(User), rows)


async def wipe_activity(db: AsyncEngine) -> None:
    """Forget every event: awards, activity, progress, aggregates and boards (not users, rules)."""
    async with db.begin() as connection:
        for model in (
            UserAchievement,
            ActivityLog,
            UserProgress,
            LeaderboardCache,
            LeaderboardScoreCount,
            LearnerPeriodScore,
            LearnerDay,
            LearnerTotals,
        ):
            await connection.execute(delete(model))


# -- the workload ----------------------------------------------------------------------------


@dataclass
class Learner:
    """Where one simulated learner is in the course."""

    user_id: int
    position: int = 0


def event_stream(
    user_ids: list[int], lessons: list[LessonView], count: int, seed: int = 1
) -> list[Event]:
    """`count` events from learning sessions spread over DAYS days, in session-time order.

    A session is a login, then work on the learner's next lesson: a start, challenge attempts
    (usually ending in a solve) and, most of the time, the completion with a score. Activity
    is heavy-tailed: a few learners hold many sessions, most hold a handful. After the last
    lesson a learner goes round again (re-completions keep the best score).
    """
    rng = random.Random(seed)
    learners = [Learner(user_id) for user_id in user_ids]
    weights = [rng.paretovariate(1.2) for _ in learners]
    sessions = sorted(
        (START + timedelta(seconds=rng.uniform(0, DAYS * 86_400)), index)
        for index in rng.choices(range(len(learners)), weights, k=count)
    )
    events: list[Event] = []
    for moment, index in sessions:
        learner = learners[index]
        lesson = lessons[learner.position % len(lessons)]
        steps: list[tuple[A, int | None]] = [(A.LESSON_STARTED, None)]
        if lesson.challenge is not None:
            steps += [(A.CHALLENGE_ATTEMPTED, None)] * rng.randint(1, 3)
            if rng.random() < 0.8:
                steps.append((A.CHALLENGE_SOLVED, lesson.challenge.points))
        if rng.random() < 0.85:
            steps.append((A.LESSON_COMPLETED, rng.randint(40, 100)))
            learner.position += 1
        session = [Event(type=A.LOGIN, user_id=learner.user_id, occurred_at=moment)]
        session += [
            Event(
                type=kind,
                user_id=learner.user_id,
                lesson_id=lesson.id,
                score=score,
                occurred_at=moment + timedelta(minutes=3 * step),
            )
            for step, (kind, score) in enumerate(steps, start=1)
        ]
        events.extend(session)
        if len(events) >= count:
            break
    return events[:count]


def activity_rows(events: list[Event]) -> list[dict[str, Any]]:
    """The activity_log rows the engine writes for `events` (for the bare-insert ceiling)."""
    return [
        {
            "user_id": item.user_id,
            "activity_type": item.type,
            "entity_id": item.lesson_id,
            "entity_type": "lesson" if item.lesson_id is not None else None,
            "details": json.dumps({"score": item.score}) if item.score is not None else None,
            "created_at": item.occurred_at,
        }
        for item in events
    ]


# -- measurements ----------------------------------------------------------------------------


async def timed(work: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await work()
    return time.perf_counter() - started


async def inserts_one_per_commit(db: AsyncEngine, rows: list[dict[str, Any]]) -> None:
    statement = insert(ActivityLog)
    for row in rows:
        async with db.begin() as connection:
            await connection.execute(statement, row)


async def inserts_many_per_commit(
    db: AsyncEngine, rows: list[dict[str, Any]], statements: int
) -> None:
    """Each row inserted `statements` times in its own transaction, one statement each: the
    most a write path sending that many statements per event can do through this driver."""
    statement = insert(ActivityLog)
    for row in rows:
        async with db.begin() as connection:
            for _ in range(statements):
                await connection.execute(statement, row)


async def inserts_batched(db: AsyncEngine, rows: list[dict[str, Any]]) -> None:
    statement = insert(ActivityLog)
    for start in range(0, len(rows), BATCH):
        async with db.begin() as connection:
            await connection.execute(statement, rows[start : start + BATCH])


async def record_each(engine: Engine, events: list[Event]) -> None:
    for item in events:
        await engine.record(item)


async def record_batched(engine: Engine, events: list[Event]) -> None:
    await engine.record_many(events)


async def leaderboard_rows(db: AsyncEngine, after: int, seed: int = 2) -> None:
    """A leaderboard_cache row for every learner with an id above `after` who has none
    (scores with plenty of ties); the learners up to `after` stay as they are."""
    rng = random.Random(seed)
    async with db.connect() as connection:
        ids = list(
            await connection.scalars(
                select(User.id)
                .outerjoin(LeaderboardCache, LeaderboardCache.user_id == User.id)
                .where(LeaderboardCache.id.is_(None), User.id > after)
            )
        )
    for start in range(0, len(ids), 10 * BATCH):
        rows = [
            {
                "user_id": user_id,
                "rank": 0,
                "total_score": int(rng.paretovariate(1.5) * 100),
                "lessons_completed": rng.randint(0, 6),
                "achievements_count": rng.randint(0, 12),
                "updated_at": START,
            }
            for user_id in ids[start : start + 10 * BATCH]
        ]
        async with db.begin() as connection:
            await connection.execute(insert(LeaderboardCache), rows)
    async with AsyncSession(db) as session, session.begin():
        await ranks.recount(session)  # the rows were written behind the engine's back


@dataclass
class Figures:
    """The results table: what was measured, the figure, a note."""

    rows: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, what: str, value: str, note: str = "") -> None:
        self.rows.append((what, value, note))

    def show(self, title: str) -> None:
        width = max(len(what) for what, _, _ in self.rows)
        values = max(len(value) for _, value, _ in self.rows)
        print(f"\n{title}")
        print("-" * len(title))
        for what, value, note in self.rows:
            print(f"{what:<{width}}  {value:>{values}}  {note}".rstrip())


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s"


def met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def verdict(ratio: float, target: float) -> str:
    return f"target >= {target:.0%}: {'met' if ratio >= target else 'NOT met'}"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def concurrent_callers(
    engine: Engine, events: list[Event], user_ids: list[int], callers: int
) -> tuple[float, list[float]]:
    """`callers` tasks, each the only sender for its own learner, sharing the events evenly:
    event n goes to caller n mod `callers`, as an event of that caller's learner.

    Returns the wall time and every call's latency.
    """
    mine: list[list[Event]] = [[] for _ in range(callers)]
    for number, item in enumerate(events):
        caller = number % callers
        mine[caller].append(item.model_copy(update={"user_id": user_ids[caller]}))
    latencies: list[float] = []

    async def caller(share: list[Event]) -> None:
        for item in share:
            started = time.perf_counter()
            await engine.record(item)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(caller(share) for share in mine))
    return time.perf_counter() - started, latencies


async def history(db: AsyncEngine, engine: Engine, user_id: int, earlier: int) -> float:
    """Seconds per `record()` of a LOGIN for a learner with `earlier` LOGINs already logged."""
    rows = [
        {
            "user_id": user_id,
            "activity_type": A.LOGIN,
            "created_at": START + timedelta(minutes=n),
        }
        for n in range(earlier)
    ]
    for start in range(0, len(rows), 10 * BATCH):
        async with db.begin() as connection:
            await connection.execute(insert(ActivityLog), rows[start : start + 10 * BATCH])
    await engine.rebuild_aggregates()
    later = START + timedelta(minutes=earlier + 1)
    calls = [
        Event(type=A.LOGIN, user_id=user_id, occurred_at=later + timedelta(minutes=n))
        for n in range(HISTORY_CALLS)
    ]
    return await timed(lambda: record_each(engine, calls)) / HISTORY_CALLS


SQLITE3_INSERT = (
    "INSERT INTO activity_log (user_id, activity_type, entity_id, entity_type, details,"
    " created_at) VALUES (?, ?, ?, ?, ?, ?)"
)


def sqlite3_insert_one(connection: sqlite3.Connection, row: dict[str, Any]) -> None:
    """One activity row in its own transaction, through the standard sqlite3 module."""
    connection.execute("BEGIN IMMEDIATE")
    connection.execute(
        SQLITE3_INSERT,
        (
            row["user_id"],
            row["activity_type"].value,
            row["entity_id"],
            row["entity_type"],
            row["details"],
            row["created_at"].replace(tzinfo=None).isoformat(" "),
        ),
    )
    connection.execute("COMMIT")


def sqlite3_one_thread(path: str, rows: list[dict[str, Any]]) -> float:
    """The one-row-per-commit inserts through the standard sqlite3 module on one thread."""
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    started = time.perf_counter()
    for row in rows:
        sqlite3_insert_one(connection, row)
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


async def sqlite3_per_transaction_thread(path: str, rows: list[dict[str, Any]]) -> float:
    """As `sqlite3_one_thread`, called from asyncio: one thread hop per transaction."""
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    started = time.perf_counter()
    for row in rows:
        await asyncio.to_thread(sqlite3_insert_one, connection, row)
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


async def driver_figures(db: AsyncEngine, url: str, rows: list[dict[str, Any]]) -> list[tuple]:
    """(label, seconds) of the one-row-per-commit inserts through the other driver(s)."""
    measured = []
    if is_mysql(db):
        if importlib.util.find_spec("asyncmy") is None:
            print("asyncmy is not installed (poetry install --with bench): not compared")
            return []
        other = create_async_engine(
            make_url(url).set(drivername="mysql+asyncmy"),
            isolation_level="READ COMMITTED",
        )
        try:
            await wipe_activity(db)
            one = await timed(lambda: inserts_one_per_commit(other, rows))
            await wipe_activity(db)
            batched = await timed(lambda: inserts_batched(other, rows))
            measured += [
                ("asyncmy, 1 per commit", one),
                (f"asyncmy, {BATCH:,} per commit", batched),
            ]
        finally:
            await other.dispose()
    else:
        path = make_url(url).database
        assert path is not None
        await wipe_activity(db)
        measured.append(("sqlite3, 1 per commit, one thread", sqlite3_one_thread(path, rows)))
        await wipe_activity(db)
        measured.append(
            (
                "sqlite3, 1 thread hop per transaction",
                await sqlite3_per_transaction_thread(path, rows),
            )
        )
    await wipe_activity(db)
    return measured


# -- profiling -------------------------------------------------------------------------------


class StatementTimer:
    """Wall time per SQL statement shape, from cursor-execute events (driver wait included).

    While it runs it only adds up by statement text; shapes are worked out afterwards, so
    that timing costs the measured calls as little as possible."""

    def __init__(self, db: AsyncEngine) -> None:
        self.db = db
        self.by_text: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])

    def _before(self, conn: Connection, cursor: Any, statement: str, *args: Any) -> None:
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def _after(self, conn: Connection, cursor: Any, statement: str, *args: Any) -> None:
        total = self.by_text[statement]
        total[0] += 1
        total[1] += time.perf_counter() - conn.info["bench_started"].pop()

    @property
    def totals(self) -> dict[str, list[float]]:
        """Count and seconds by statement shape (whitespace and value lists folded)."""
        shapes: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
        for statement, (count, seconds) in self.by_text.items():
            shape = re.sub(r"\s+", " ", statement).strip()
            shape = re.sub(r"\((?:%s|\?)(?:, (?:%s|\?))+\)", "(…)", shape)
            shapes[shape][0] += count
            shapes[shape][1] += seconds
        return shapes

    @property
    def seconds(self) -> float:
        return sum(seconds for _, seconds in self.by_text.values())

    def __enter__(self) -> StatementTimer:
        event.listen(self.db.sync_engine, "before_cursor_execute", self._before)
        event.listen(self.db.sync_engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.db.sync_engine, "before_cursor_execute", self._before)
        event.remove(self.db.sync_engine, "after_cursor_execute", self._after)

    @property
    def count(self) -> int:
        return sum(int(count) for count, _ in self.by_text.values())

    def show(self, wall: float, events: int, top: int = 15) -> None:
        ranked = sorted(self.totals.items(), key=lambda item: -item[1][1])
        total_sql = self.seconds
        print(
            f"\nSQL during record(): {self.count / events:.1f} statements/event (no COMMIT), "
            f"{total_sql:.2f} s of {wall:.2f} s wall ({total_sql / wall:.0%})"
        )
        for shape, (count, seconds) in ranked[:top]:
            print(
                f"{seconds / wall:6.1%}  {count / events:5.2f}/event  "
                f"{seconds / count * 1e3:6.3f} ms  {shape[:150]}"
            )


async def profile_record(db: AsyncEngine, engine: Engine, events: list[Event], path: Path) -> None:
    await wipe_activity(db)
    profiler = cProfile.Profile()
    with StatementTimer(db) as timer:
        started = time.perf_counter()
        profiler.enable()
        await record_each(engine, events)
        profiler.disable()
        wall = time.perf_counter() - started
    profiler.dump_stats(path)
    print(f"\nProfile of record() over {len(events):,} events ({rate(len(events), wall)} profiled)")
    stats = pstats.Stats(profiler).strip_dirs()
    stats.sort_stats("tottime").print_stats(20)
    timer.show(wall, len(events))


# -- main ------------------------------------------------------------------------------------


async def run(
    url: str, users: int, count: int, profile: Path | None, ranked: int = LEADERBOARD_USERS
) -> None:
    db = await fresh_database(url)
    try:
        engine = Engine(bind=db, plugin_manager=build_plugin_manager(load_entry_points=False))
        await engine.load_content(SAMPLE_COURSE)
        rules = await engine.load_rules([CATALOG_DIR])
        await insert_users(db, 0, users)
        await engine.startup()
        lessons = [lesson for module in await engine.modules() for lesson in module.lessons]
        async with db.connect() as connection:
            user_ids = list(await connection.scalars(select(User.id).order_by(User.id)))
        events = event_stream(user_ids, lessons, count)
        mix: dict[str, int] = defaultdict(int)
        for item in events:
            mix[item.type.value] += 1
        rows = activity_rows(events)

        print(f"questline engine benchmark on {safe_url(url)}")
        print(
            f"Python {platform.python_version()}, SQLAlchemy {sqlalchemy.__version__}, "
            f"{platform.machine()}; {len(rules.created)} rules, {len(lessons)} lessons, "
            f"{users:,} learners, {len(events):,} events over {DAYS} days"
        )
        print("mix: " + ", ".join(f"{kind} {n / len(events):.0%}" for kind, n in mix.items()))
        if is_mysql(db):
            async with db.connect() as connection:
                pool = await connection.scalar(text("SELECT @@innodb_buffer_pool_size"))
            print(f"innodb_buffer_pool_size {int(pool) // 2**20:,} MiB")

        with StatementTimer(db) as bare:
            one = await timed(lambda: inserts_one_per_commit(db, rows))
        await wipe_activity(db)
        batched = await timed(lambda: inserts_batched(db, rows))
        await wipe_activity(db)
        with StatementTimer(db) as statements:
            each = await timed(lambda: record_each(engine, events))
        async with db.connect() as connection:
            awards = await connection.scalar(select(func.count()).select_from(UserAchievement))
        await wipe_activity(db)
        # as many statements per commit as a record sends (BEGIN IMMEDIATE counted on SQLite)
        inserts = max(1, round(statements.count / count - bare.count / count) + 1)
        as_many = await timed(lambda: inserts_many_per_commit(db, rows, inserts))
        await wipe_activity(db)
        many = await timed(lambda: record_batched(engine, events))
        await wipe_activity(db)
        together, latencies = await concurrent_callers(engine, events, user_ids, CONCURRENT_CALLERS)
        drivers = await driver_figures(db, url, rows)
        short = await history(db, engine, user_ids[-1], HISTORY_SHORT)
        long = await history(db, engine, user_ids[-2], HISTORY_LONG)
        await wipe_activity(db)

        figures = Figures()
        figures.add("ceiling: bare inserts, 1 per commit", rate(count, one))
        figures.add("Engine.record, 1 event per transaction", rate(count, each))
        figures.add("  ratio", f"{one / each:.1%}", verdict(one / each, RECORD_TARGET))
        figures.add(
            "  SQL statements per event", f"{statements.count / count:.1f}", "COMMIT not counted"
        )
        in_sql = statements.seconds / count * 1e3
        figures.add(
            "  per event: in statements / outside",
            f"{in_sql:.2f} / {each / count * 1e3 - in_sql:.2f} ms",
            f"ceiling: {one / count * 1e3:.2f} ms per commit",
        )
        figures.add(
            f"ceiling: bare inserts, {inserts} statements per commit",
            rate(count, as_many),
            "as many statements as a record sends",
        )
        figures.add(
            "  against 1 per commit",
            f"{one / as_many:.1%}",
            "the most a record of as many statements can reach",
        )
        figures.add("  Engine.record against it", f"{as_many / each:.1%}")
        figures.add(f"ceiling: bare inserts, {BATCH:,} per commit", rate(count, batched))
        figures.add("Engine.record_many (chunks of 500)", rate(count, many))
        figures.add("  ratio", f"{batched / many:.1%}", verdict(batched / many, RECORD_MANY_TARGET))
        figures.add("awards granted", f"{awards:,}", f"{awards / count:.2f} per event")
        speedup = each / together
        figures.add(
            f"Engine.record, {CONCURRENT_CALLERS} concurrent callers", rate(count, together)
        )
        figures.add(
            "  against sequential record",
            f"{speedup:.1f}x",
            f"target >= {CONCURRENCY_TARGET:.0f}x: {met(speedup >= CONCURRENCY_TARGET)}",
        )
        figures.add(
            "  latency p50 / p99",
            f"{percentile(latencies, 0.5) * 1e3:.1f} / {percentile(latencies, 0.99) * 1e3:.1f} ms",
        )
        growth = long / short
        figures.add(
            f"record(), learner with {HISTORY_SHORT:,} earlier events", f"{short * 1e3:.1f} ms"
        )
        figures.add(
            f"record(), learner with {HISTORY_LONG:,} earlier events", f"{long * 1e3:.1f} ms"
        )
        figures.add(
            "  ratio",
            f"{growth:.2f}x",
            f"target <= {HISTORY_TARGET}x: {'met' if growth <= HISTORY_TARGET else 'NOT met'}",
        )
        for label, seconds in drivers:
            figures.add(label, rate(count, seconds))

        label = f"{ranked:,} learners"
        scored = [item for item in events if item.score is not None][:SCALE_EVENTS]
        await wipe_activity(db)
        few = await timed(lambda: record_each(engine, scored))
        await wipe_activity(db)
        await insert_users(db, users, ranked - users)
        await leaderboard_rows(db, after=user_ids[-1])
        crowd = await timed(lambda: record_each(engine, scored))
        tops = [await timed(lambda: engine.top(10)) for _ in range(READ_SAMPLES)]
        async with db.connect() as connection:
            ranked_ids = list(await connection.scalars(select(LeaderboardCache.user_id)))
        picks = random.Random(3).sample(ranked_ids, READ_SAMPLES)
        arounds = [await timed(lambda pick=pick: engine.around(user_id=pick)) for pick in picks]
        rebuilds = [await timed(engine.rebuild_leaderboard) for _ in range(3)]
        figures.add(
            f"Engine.record, scored events, {users:,} learners ranked", rate(len(scored), few)
        )
        figures.add(
            f"Engine.record, scored events, {label} ranked",
            rate(len(scored), crowd),
            f"same {len(scored)} events from the same state",
        )
        best = min(rebuilds) * 1e3
        figures.add(
            f"rebuild_leaderboard(), {label}",
            f"{best:,.0f} ms",
            f"best of 3; target < {REBUILD_TARGET_MS:,} ms: "
            + ("met" if best < REBUILD_TARGET_MS else "NOT met"),
        )
        for name, samples in (("top(10)", tops), ("around(user)", arounds)):
            median = percentile(samples, 0.5) * 1e3
            figures.add(
                f"{name}, {label}",
                f"{median:,.1f} ms",
                f"median of {READ_SAMPLES}; target < {READ_TARGET_MS:.0f} ms: "
                + ("met" if median < READ_TARGET_MS else "NOT met"),
            )
        figures.show("Results")

        if profile is not None:
            await profile_record(db, engine, events, profile)
        await engine.shutdown()
    finally:
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a new SQLite file in a temporary folder")
    parser.add_argument("--users", type=int, default=1_000, help="learners sending events")
    parser.add_argument("--events", type=int, default=1_000, help="events per measurement")
    parser.add_argument("--profile", type=Path, help="also profile record() into this file")
    parser.add_argument(
        "--leaderboard-users", type=int, default=LEADERBOARD_USERS, help="learners ranked"
    )
    options = parser.parse_args()
    if options.users < CONCURRENT_CALLERS:
        parser.error(f"--users must be at least {CONCURRENT_CALLERS}, one per concurrent caller")
    sizes = (options.users, options.events, options.profile, options.leaderboard_users)
    if options.database_url:
        asyncio.run(run(options.database_url, *sizes))
        return
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        asyncio.run(run(url, *sizes))


if __name__ == "__main__":
    main()
