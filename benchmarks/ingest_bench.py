"""Memory and speed of `questline events ingest` over a large JSON Lines file.

Writes ``--events`` events (default 1,000,000) of ``--users`` learners to a JSONL file, as
learning sessions spread over 30 days in time order, then runs the real command
``questline events ingest FILE`` in a subprocess (its progress bar is shown) and prints the
events per second and the subprocess's maximum resident set size against the 300 MB target.
Run from the repository root:

    .venv/bin/python benchmarks/ingest_bench.py [--database-url URL] [--events N]

Without ``--database-url`` a new SQLite file in a temporary folder is used; every table of a
MySQL/MariaDB database is dropped first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine_bench import DAYS, SAMPLE_COURSE, START, fresh_database, insert_users
from sqlalchemy import select

from questline.engine import Engine
from questline.engine.models import User
from questline.engine.views import LessonView
from questline.plugins.manager import build_plugin_manager
from questline.rules.loading import CATALOG_DIR

RSS_TARGET_MB = 300


def event_lines(
    user_ids: list[int], lessons: list[LessonView], count: int, seed: int = 1
) -> Iterator[str]:
    """`count` events as JSON lines: sessions evenly spread over DAYS days, heavy-tailed
    learners, each session a login, a start, attempts, usually a solve and a completion."""
    rng = random.Random(seed)
    weights = [rng.paretovariate(1.2) for _ in user_ids]
    position = dict.fromkeys(user_ids, 0)
    step = DAYS * 86_400 / (count / 5)
    written = session = 0
    while written < count:
        moment = START.timestamp() + session * step
        session += 1
        [user_id] = rng.choices(user_ids, weights)
        lesson = lessons[position[user_id] % len(lessons)]
        steps: list[tuple[str, int | None]] = [("LOGIN", None), ("LESSON_STARTED", None)]
        if lesson.challenge is not None:
            steps += [("CHALLENGE_ATTEMPTED", None)] * rng.randint(1, 3)
            if rng.random() < 0.8:
                steps.append(("CHALLENGE_SOLVED", lesson.challenge.points))
        if rng.random() < 0.85:
            steps.append(("LESSON_COMPLETED", rng.randint(40, 100)))
            position[user_id] += 1
        for number, (kind, score) in enumerate(steps):
            event: dict[str, object] = {
                "type": kind,
                "user_id": user_id,
                "occurred_at": time.strftime(
                    "%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(moment + 180 * number)
                ),
                "idempotency_key": f"s{session}-{number}",
            }
            if kind != "LOGIN":
                event["lesson_id"] = lesson.id
            if score is not None:
                event["score"] = score
            yield json.dumps(event)
            written += 1
            if written == count:
                return


async def prepare(url: str, users: int) -> tuple[list[int], list[LessonView]]:
    """A fresh database with the sample course, the default catalog and `users` learners."""
    db = await fresh_database(url)
    engine = Engine(bind=db, plugin_manager=build_plugin_manager(load_entry_points=False))
    try:
        await engine.load_content(SAMPLE_COURSE)
        await engine.load_rules([CATALOG_DIR])
        await insert_users(db, 0, users)
        lessons = [lesson for module in await engine.modules() for lesson in module.lessons]
        async with db.connect() as connection:
            user_ids = list(await connection.scalars(select(User.id).order_by(User.id)))
        return user_ids, lessons
    finally:
        await engine.shutdown()
        await db.dispose()


def run(url: str, users: int, count: int, folder: Path) -> None:
    user_ids, lessons = asyncio.run(prepare(url, users))
    path = folder / "events.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for line in event_lines(user_ids, lessons, count):
            handle.write(line + "\n")
    questline = Path(sys.executable).with_name("questline")
    started = time.perf_counter()
    subprocess.run(
        [str(questline), "events", "ingest", str(path)],
        env={**os.environ, "DATABASE_URL": url},
        check=True,
    )
    wall = time.perf_counter() - started
    rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    verdict = "met" if rss_mb < RSS_TARGET_MB else "NOT met"
    print(f"\nquestline events ingest, {count:,} events of {users:,} learners")
    print(f"  {count / wall:,.0f} events/s ({wall:,.0f} s)")
    print(f"  max RSS {rss_mb:,.0f} MB  target < {RSS_TARGET_MB} MB: {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a new SQLite file in a temporary folder")
    parser.add_argument("--users", type=int, default=10_000, help="learners")
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the file")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = options.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        run(url, options.users, options.events, Path(folder))


if __name__ == "__main__":
    main()
