"""CLI test fixtures: commands run in a worker thread with DATABASE_URL set, on a clean database.

The command line calls `asyncio.run`; tests here are plain sync functions and run both the
commands and their own database set-up in a separate thread, so nothing touches the event loop
pytest-asyncio keeps for the async tests.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from click.testing import CliRunner, Result

from questline.adapters.cli import main
from questline.engine import Engine
from questline.engine.db import create_engine, is_mysql
from questline.engine.migrate import upgrade_database
from tests.conftest import _delete_all_rows, reset_database

T = TypeVar("T")
Invoke = Callable[..., Result]


def in_thread(work: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on a fresh event loop in another thread.

    What it leaves for the garbage collector is collected there too: an engine's compiled
    rules must be dropped by the thread that made them.
    """

    def run() -> T:
        try:
            return asyncio.run(work)
        finally:
            gc.collect()

    gc.collect()  # this thread's garbage (an earlier test's engine) is dropped here, not there
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


async def _prepare(url: str) -> None:
    if is_mysql(url):
        await reset_database(url)
    await upgrade_database(url)


async def _empty(url: str) -> None:
    engine = create_engine(url)
    try:
        await _delete_all_rows(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def cli_database(database_url: str) -> str:
    """The test database, migrated once for the CLI tests."""
    in_thread(_prepare(database_url))
    return database_url


@pytest.fixture
def cli_url(cli_database: str) -> str:
    """The migrated test database, emptied."""
    in_thread(_empty(cli_database))
    return cli_database


def run_cli(args: list[str], env: dict[str, str], input: str | None = None) -> Result:
    runner = CliRunner()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(runner.invoke, main, args, input=input, env=env).result()


@pytest.fixture
def invoke(cli_url: str) -> Invoke:
    """`invoke("leaderboard", "--top", "3")` on the clean test database."""
    env = {"DATABASE_URL": cli_url, "COLUMNS": "160", "QUESTLINE_TIMEZONE": "UTC"}

    def call(*args: str, **env_overrides: str) -> Result:
        return run_cli(list(args), {**env, **env_overrides})

    return call


@pytest.fixture
def engine_call(cli_url: str) -> Callable[[Callable[[Engine], Coroutine[Any, Any, T]]], T]:
    """Run `work(engine)` with an Engine on the test database (for set-up and checks)."""

    def call(work: Callable[[Engine], Coroutine[Any, Any, T]]) -> T:
        async def main() -> T:
            engine = Engine(cli_url)
            try:
                return await work(engine)
            finally:
                await engine.shutdown()

        return in_thread(main())

    return call


@pytest.fixture
def course(invoke: Invoke, engine_call: Callable[..., Any]) -> Iterator[list[int]]:
    """The sample course loaded; yields its published lesson ids in course order."""
    from questline.adapters.cli.demo import SAMPLE_COURSE

    result = invoke("content", "load", str(SAMPLE_COURSE))
    assert result.exit_code == 0, result.output

    async def lesson_ids(engine: Engine) -> list[int]:
        return [lesson.id for module in await engine.modules() for lesson in module.lessons]

    yield engine_call(lesson_ids)


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
