"""Leaderboard reads while another process writes: latency of `Engine.top(10)` on SQLite.

Prepares a SQLite file as benchmarks/ingest_bench.py does, then reads the top 10 in a loop
for `--seconds` alone, and again while `questline events ingest` of `--events` events runs in
another process. Reads take no lock (a deferred BEGIN in WAL mode), so they should not wait
for the ingest's write transactions. Run from the repository root:

    .venv/bin/python benchmarks/reads_bench.py [--events 20000] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine_bench import percentile
from ingest_bench import event_lines, prepare

from questline.engine import Engine
from questline.plugins.manager import build_plugin_manager


async def reads(engine: Engine, seconds: float) -> list[float]:
    """Latencies of `top(10)` called one after another for `seconds`."""
    latencies = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        started = time.perf_counter()
        await engine.top(10)
        latencies.append(time.perf_counter() - started)
    return latencies


def show(label: str, latencies: list[float]) -> None:
    print(
        f"{label:<28} {len(latencies):>7,} reads  p50 {percentile(latencies, 0.5) * 1e3:6.1f} ms"
        f"  p99 {percentile(latencies, 0.99) * 1e3:7.1f} ms  max {max(latencies) * 1e3:7.1f} ms"
    )


async def run(url: str, users: int, count: int, seconds: float, folder: Path) -> None:
    user_ids, lessons = await prepare(url, users)
    path = folder / "events.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for line in event_lines(user_ids, lessons, count):
            handle.write(line + "\n")
    engine = Engine(url, plugin_manager=build_plugin_manager(load_entry_points=False))
    await engine.startup()
    try:
        print(f"Engine.top(10) on {url.split('///')[0]}///…, {users:,} learners")
        show("alone", await reads(engine, seconds))
        questline = Path(sys.executable).with_name("questline")
        ingest = await asyncio.create_subprocess_exec(
            str(questline),
            "events",
            "ingest",
            str(path),
            env={**os.environ, "DATABASE_URL": url},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await asyncio.sleep(2)  # the ingest is writing by now
        during = await reads(engine, seconds)
        finished = ingest.returncode is not None
        show(f"during an ingest of {count:,}", during)
        if finished:
            print("  (the ingest ended before the reads did: raise --events)")
        if await ingest.wait() != 0:
            raise SystemExit("the ingest failed")
    finally:
        await engine.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1_000, help="learners")
    parser.add_argument("--events", type=int, default=20_000, help="events the ingest records")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of reads, each way")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        asyncio.run(run(url, options.users, options.events, options.seconds, Path(folder)))


if __name__ == "__main__":
    main()
