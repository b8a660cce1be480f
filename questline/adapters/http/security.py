"""The gate before routing, and scopes on every route.

A middleware refuses, before the request is routed or its body read, a body declared larger
than the limit, and a request without a live API key (`Authorization: Bearer <key>`) or over
its key's rate: such a request learns nothing, not even which routes exist. Each route then
requires its scope through a dependency (which also declares the key in the OpenAPI document).
A body sent without a declared length is cut off when it passes the limit.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from limits import RateLimitItem
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from questline.adapters.http.keys import KeyCheck
from questline.adapters.http.problems import (
    BODY_TOO_LARGE,
    FORBIDDEN,
    RATE_LIMITED,
    UNAUTHORIZED,
    Problem,
    database_unavailable,
    render,
)
from questline.engine.api_keys import ApiKeyView
from questline.engine.api_keys import Scope as KeyScope
from questline.engine.db import database_unreachable, first_line

log = logging.getLogger(__name__)
PUBLIC_PATHS = frozenset({"/v1/health", "/v1/ready", "/v1/openapi.json"})
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="questline"'}
bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key from `questline keys create`, sent as `Authorization: Bearer <key>`.",
)


class KeyRateLimiter:
    """Every limit in `limits` applies to each API key separately (a moving window)."""

    def __init__(self, limits: list[RateLimitItem]) -> None:
        self.limits = limits
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    async def hit(self, key: ApiKeyView) -> None:
        for limit in self.limits:
            if not await self.limiter.hit(limit, str(key.id)):
                stats = await self.limiter.get_window_stats(limit, str(key.id))
                retry = max(1, math.ceil(stats.reset_time - time.time()))
                raise Problem(
                    RATE_LIMITED,
                    f'API key "{key.name}" is over its limit of {limit}; retry in {retry} s',
                    headers={"Retry-After": str(retry)},
                )


async def admit(request: Request) -> ApiKeyView:
    """The request's live API key, counted against its rate; else an unauthorized problem."""
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Problem(
            UNAUTHORIZED, "send an API key as `Authorization: Bearer <key>`", headers=CHALLENGE
        )
    keys: KeyCheck = request.app.state.keys
    key = await keys.live_key(secret.strip())
    if key is None:
        raise Problem(UNAUTHORIZED, "the API key is unknown or revoked", headers=CHALLENGE)
    limiter: KeyRateLimiter = request.app.state.limiter
    await limiter.hit(key)
    return key


class BodyTooLarge(HTTPException):
    """Raised while a body is read, once it passes the limit (routes answer it as a 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the body is over the {limit} bytes this server takes")


def check_declared_size(request: Request, max_body_bytes: int) -> None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_body_bytes:
        raise Problem(
            BODY_TOO_LARGE, f"the body is {declared} bytes; this server takes {max_body_bytes}"
        )


def limited(receive: Receive, max_body_bytes: int) -> Receive:
    """`receive` that raises BodyTooLarge once the body read so far passes the limit."""
    seen = 0

    async def receive_limited() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > max_body_bytes:
                raise BodyTooLarge(max_body_bytes)
        return message

    return receive_limited


class Deadlines:
    """The deadlines of the requests whose answer has not started. A stopping server brings
    them forward, so that a request still waiting (on the database, most likely) answers 503
    before the server's grace runs out and uvicorn cancels it with a bare 500."""

    def __init__(self) -> None:
        self.waiting: set[asyncio.Timeout] = set()
        self.stop_at: float | None = None

    def stop_within(self, seconds: float) -> None:
        """Let no waiting request, nor any arriving from now on, wait past `seconds`."""
        self.stop_at = asyncio.get_running_loop().time() + seconds
        for deadline in self.waiting:
            self._bound(deadline)

    def add(self, deadline: asyncio.Timeout) -> None:
        self.waiting.add(deadline)
        if self.stop_at is not None:
            self._bound(deadline)

    def done(self, deadline: asyncio.Timeout) -> None:
        """The request's answer has started, or it is over: its deadline stays as it is."""
        self.waiting.discard(deadline)

    def _bound(self, deadline: asyncio.Timeout) -> None:
        when = deadline.when()
        if not deadline.expired() and (when is None or when > self.stop_at):
            deadline.reschedule(self.stop_at)


class GateMiddleware:
    """Refuses oversized bodies and, on non-public paths, requests without a live key; answers
    503 for a request whose response has not started within `request_timeout` seconds, or by
    the time `deadlines` gives a stopping server.

    The 503 leaves at the deadline: the request's work is cancelled and left to finish in the
    background, since its cleanup may itself wait on the database (a rollback queued behind a
    statement that waits for SQLite's lock). Whatever it sends after the deadline is dropped,
    and an error it ends with is logged.
    """

    def __init__(
        self, app: ASGIApp, max_body_bytes: int, request_timeout: float, deadlines: Deadlines
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.request_timeout = request_timeout
        self.deadlines = deadlines
        self._finishing: set[asyncio.Task[None]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = late = False

        async def send_in_time(message: Message) -> None:
            nonlocal started
            if late:
                return  # the 503 went out in its place
            if message["type"] == "http.response.start":
                started = True
                self.deadlines.done(deadline)
                if not deadline.expired():
                    deadline.reschedule(None)  # a stream may then run as long as it likes
            await send(message)

        # the public paths answer at once or, /v1/ready, within a bound of their own
        limit = None if scope["path"] in PUBLIC_PATHS else self.request_timeout
        work = asyncio.create_task(self._gate(scope, receive, send_in_time))
        try:
            async with asyncio.timeout(limit) as deadline:
                self.deadlines.add(deadline)
                await asyncio.shield(work)
            return
        except TimeoutError:
            if not deadline.expired():
                raise
        except asyncio.CancelledError:
            work.cancel()  # cancelled from outside: the work ends first, as if not shielded
            await work
            raise
        finally:
            self.deadlines.done(deadline)
        if started:  # the response started as the deadline passed: it goes on
            await work
            return
        late = True
        work.cancel()
        self._finish_in_background(work)
        if self.deadlines.stop_at is None:
            reason = f"no answer within {self.request_timeout:g} s"
        else:
            reason = "the server stopped before the answer was ready"
        log.warning("%s: %s", scope["path"], reason)
        await render(database_unavailable(reason), Request(scope))(scope, receive, send)

    def _finish_in_background(self, work: asyncio.Task[None]) -> None:
        """Keep cancelled work until it ends (its connection then goes back to the pool), and
        log an error it ends with."""
        self._finishing.add(work)
        work.add_done_callback(self._finished)

    def _finished(self, work: asyncio.Task[None]) -> None:
        self._finishing.discard(work)
        if not work.cancelled() and work.exception() is not None:
            log.error("a request cut off at its deadline failed", exc_info=work.exception())

    async def _gate(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        try:
            check_declared_size(request, self.max_body_bytes)
            key = None if scope["path"] in PUBLIC_PATHS else await admit(request)
        except Problem as problem:
            await render(problem, request)(scope, receive, send)
            return
        except (DBAPIError, PoolTimeout) as error:
            if not database_unreachable(error):
                raise
            log.warning("%s: the database failed: %s", scope["path"], first_line(error))
            await render(database_unavailable(), request)(scope, receive, send)
            return
        if key is not None:
            scope.setdefault("state", {})["api_key"] = key
        await self.app(scope, limited(receive, self.max_body_bytes), send)


def require(scope: KeyScope) -> Callable[..., Awaitable[ApiKeyView]]:
    """A dependency admitting keys that hold `scope` (admin keys hold every scope)."""

    async def admitted(
        request: Request,
        # declares the bearer key in the OpenAPI document; the middleware has checked it
        _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)] = None,
    ) -> ApiKeyView:
        key: ApiKeyView = request.state.api_key
        if not key.allows(scope):
            held = ", ".join(sorted(key.scopes))
            raise Problem(FORBIDDEN, f'this route needs the "{scope}" scope; the key has: {held}')
        return key

    return admitted
