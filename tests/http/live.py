"""A real uvicorn server on 127.0.0.1 in a thread of its own, with its own engine and loop."""

from __future__ import annotations

import asyncio
import gc
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn

from questline.adapters.http.app import create_app
from questline.adapters.http.settings import HttpSettings
from questline.engine import Engine, UserProfile
from questline.engine.migrate import upgrade_database
from questline.rules.loading import CATALOG_DIR
from tests.cli.conftest import in_thread
from tests.conftest import _delete_all_rows
from tests.engine.conftest import SAMPLE_COURSE

LEARNERS = (1001, 1002, 1003)


@dataclass(frozen=True)
class LiveApi:
    base_url: str
    admin_key: str


async def _seed(url: str) -> str:
    """Migrate and empty the database, load the sample course and rules, add learners;
    returns an admin key."""
    await upgrade_database(url)
    engine = Engine(url)
    try:
        await _delete_all_rows(engine.db)
        await engine.load_content(SAMPLE_COURSE)
        await engine.load_rules([CATALOG_DIR])
        for telegram_id in LEARNERS:
            await engine.register_user(UserProfile(telegram_id=telegram_id, first_name="L"))
        return (await engine.create_api_key("tests", ["admin"])).secret
    finally:
        await engine.shutdown()


def _serve(
    url: str,
    settings: HttpSettings,
    sock: socket.socket,
    stop: threading.Event,
    started: threading.Event,
) -> None:
    """Run the server in this thread until `stop` is set. The engine is made, used and dropped
    here: its compiled rules must not be dropped by another thread."""

    async def main() -> None:
        app = create_app(Engine(url), settings, manage_engine=True)
        config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2)
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        for _ in range(750):  # up to 15 s
            if server.started or serving.done():
                break
            await asyncio.sleep(0.02)
        if serving.done():
            await serving  # the server could not start: its error ends this thread
        started.set()
        await asyncio.to_thread(stop.wait)
        server.should_exit = True
        await serving

    asyncio.run(main())
    gc.collect()


@contextmanager
def live_api(url: str, settings: HttpSettings | None = None) -> Iterator[LiveApi]:
    """Serve the API on a seeded database at `url` until the block ends."""
    key = in_thread(_seed(url))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    stop, started = threading.Event(), threading.Event()
    thread = threading.Thread(
        target=_serve, args=(url, settings or HttpSettings(), sock, stop, started)
    )
    thread.start()
    if not started.wait(20):
        stop.set()
        raise RuntimeError("the API server did not start")
    host, port = sock.getsockname()
    try:
        yield LiveApi(f"http://{host}:{port}", key)
    finally:
        stop.set()
        thread.join(15)
        sock.close()
