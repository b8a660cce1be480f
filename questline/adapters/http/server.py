"""Serving the API with uvicorn until SIGINT or SIGTERM, then stopping gracefully."""

from __future__ import annotations

import asyncio
import logging
from types import FrameType

import uvicorn

from questline.adapters.http.app import create_app
from questline.adapters.http.plugin import plugin
from questline.adapters.http.settings import HttpSettings
from questline.adapters.http.streams import AwardStreams
from questline.engine import Engine

GRACE_SECONDS = 10

log = logging.getLogger(__name__)


class Server(uvicorn.Server):
    """uvicorn's server, ending the award streams on a stop signal: open streams would
    otherwise hold the graceful shutdown until its timeout."""

    def __init__(self, config: uvicorn.Config, streams: AwardStreams) -> None:
        super().__init__(config)
        self.streams = streams
        self.loop: asyncio.AbstractEventLoop | None = None

    async def serve(self, sockets: list | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        await super().serve(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.streams.close)
        super().handle_exit(sig, frame)


async def serve(engine: Engine, settings: HttpSettings, host: str, port: int) -> None:
    """Serve the API on a started engine until stopped; in-flight requests finish first."""
    app = create_app(engine, settings)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan="off",
        timeout_graceful_shutdown=GRACE_SECONDS,
        log_config=None,
        server_header=False,
    )
    await Server(config, plugin.streams(engine)).serve()
    log.info("questline API stopped")
