"""Serving the API with uvicorn until SIGINT or SIGTERM, then stopping gracefully."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import uvicorn

from questline.adapters.http.app import create_app
from questline.adapters.http.plugin import plugin
from questline.adapters.http.security import Deadlines
from questline.adapters.http.settings import DISPATCH, HttpSettings
from questline.adapters.http.streams import AwardStreams
from questline.engine import Engine

GRACE_SECONDS = 10
ANSWERED_WITHIN = GRACE_SECONDS - 2  # a request still waiting then answers 503
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

log = logging.getLogger(__name__)


class Server(uvicorn.Server):
    """uvicorn's server; on a stop signal it ends the award streams (open streams would
    otherwise hold the graceful shutdown until its timeout) and has requests still waiting
    answer 503 within the grace (uvicorn would cancel them with a bare 500). It returns after
    a signal instead of raising it again, so that the engine shuts down and the command
    exits 0."""

    def __init__(self, config: uvicorn.Config, streams: AwardStreams, deadlines: Deadlines) -> None:
        super().__init__(config)
        self.streams = streams
        self.deadlines = deadlines
        self.loop: asyncio.AbstractEventLoop | None = None

    async def serve(self, sockets: list | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        await super().serve(sockets)

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.streams.close)
            self.loop.call_soon_threadsafe(self.deadlines.stop_within, ANSWERED_WITHIN)
        super().handle_exit(sig, frame)


async def serve(engine: Engine, settings: HttpSettings, host: str, port: int) -> None:
    """Serve the API on a started engine until stopped; in-flight requests finish first.

    With QUESTLINE_NATS_URL set, events are queued to NATS JetStream on the NATS plugin's
    connection (which also publishes awards), closed when the engine shuts down."""
    from questline.adapters.nats.plugin import plugin as nats_plugin

    app = create_app(engine, settings, publisher=await nats_plugin.publisher(engine))
    engine.start_dispatcher(DISPATCH)  # outbox (issue 11): awards reach the award stream
    engine.start_period_closer()
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan="off",
        timeout_graceful_shutdown=GRACE_SECONDS,
        log_config=None,
        server_header=False,
    )
    await Server(config, plugin.streams(engine), app.state.deadlines).serve()
    log.info("questline API stopped")
