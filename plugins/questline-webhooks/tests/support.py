"""Helpers for the questline-webhooks tests: a real receiver on 127.0.0.1, draining, the CLI."""

from __future__ import annotations

import asyncio
import json
import sys
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from questline_webhooks import store
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

import questline
from questline.engine import Engine, Event, UserProfile
from questline.engine.dispatcher import DispatchSettings
from questline.rules.vocabulary import ActivityType

SAMPLE_COURSE = Path(questline.__file__).parent / "engine" / "sample" / "course.yaml"
QUESTLINE = Path(sys.executable).parent / "questline"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday morning: no time-of-day award fires
FAST = DispatchSettings(backoff_base=timedelta(milliseconds=20), poll_seconds=0.05)


async def complete_first_lesson(engine: Engine, telegram_id: int) -> None:
    """Register a learner and complete the first lesson: the `first-lesson` award fires."""
    user = await engine.register_user(UserProfile(telegram_id=telegram_id, first_name="Ada"))
    lesson = (await engine.modules())[0].lessons[0]
    await engine.record(
        Event(
            type=ActivityType.LESSON_COMPLETED,
            user_id=user.id,
            lesson_id=lesson.id,
            score=90,
            occurred_at=T0,
        )
    )


async def drain(engine: Engine, seconds: float = 15.0) -> dict[str, int]:
    """Run dispatcher passes until nothing is pending (retries are due within milliseconds)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        await engine.deliver_outbox(FAST)
        status = await engine.outbox_status()
        if status["pending"] == 0 or asyncio.get_running_loop().time() > deadline:
            return status
        await asyncio.sleep(0.05)


async def run_cli(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        str(QUESTLINE),
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@dataclass(frozen=True)
class Answer:
    status: int = 200
    delay: float = 0.0


@dataclass(frozen=True)
class Received:
    webhook_id: str
    message: dict[str, Any]
    verified: bool
    replay: bool


class Receiver:
    """A webhook receiver: verifies each request with `standardwebhooks`, flags replays by
    `webhook-id`, and answers from a script (then 200)."""

    def __init__(self) -> None:
        self.secret: str | None = None
        self.script: deque[Answer] = deque()
        self.received: list[Received] = []
        self.arrived = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def ids(self) -> set[str]:
        return {item.webhook_id for item in self.received}

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.text()
        try:
            Webhook(self.secret or "whsec_").verify(body, dict(request.headers))
            verified = True
        except WebhookVerificationError:
            verified = False
        webhook_id = request.headers.get("webhook-id", "")
        replay = webhook_id in self.ids()
        self.received.append(Received(webhook_id, json.loads(body), verified, replay))
        self.arrived.set()
        answer = self.script.popleft() if self.script else Answer()
        await asyncio.sleep(answer.delay)
        return web.Response(status=answer.status)

    async def start(self, port: int = 0) -> None:
        app = web.Application()
        app.router.add_post("/hooks", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


async def subscribe(engine: Engine, receiver: Receiver, *topics: str) -> store.Endpoint:
    endpoint = await store.add_endpoint(engine.db, receiver.url, topics or ("award.granted",))
    receiver.secret = endpoint.secret
    return endpoint
