"""A real uvicorn server on 127.0.0.1 in a thread of its own, with its own engine and loop."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
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


@contextmanager
def live_api(url: str, settings: HttpSettings | None = None) -> Iterator[LiveApi]:
    """Serve the API on a seeded database at `url` until the block ends."""
    key = in_thread(_seed(url))
    app = create_app(Engine(url), settings or HttpSettings(), manage_engine=True)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2, lifespan="on")
    )
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])))
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the API server did not start")
        time.sleep(0.02)
    host, port = sock.getsockname()
    try:
        yield LiveApi(f"http://{host}:{port}", key)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
