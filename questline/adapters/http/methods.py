"""HTTP methods (RFC 9110): HEAD wherever GET is, and every method of a path in a 405's
`Allow` (a FastAPI route knows only its own methods, and none of them takes HEAD)."""

from __future__ import annotations

import asyncio

from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
END = {"type": "http.response.body", "body": b"", "more_body": False}


def allowed_methods(scope: Scope) -> list[str]:
    """The methods some route of the app takes at the path of `scope` (HEAD wherever GET is),
    in alphabetical order."""
    routes = scope["app"].routes

    def taken(method: str) -> bool:
        probe = {"type": "http", "path": scope["path"], "root_path": scope.get("root_path", "")}
        return any(route.matches({**probe, "method": method})[0] is Match.FULL for route in routes)

    methods = {method for method in METHODS if taken(method)}
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def _has_length(start: Message) -> bool:
    return any(name.lower() == b"content-length" for name, _ in start.get("headers", ()))


class HeadAsGet:
    """Answers HEAD on a path that takes GET as that GET, and any HEAD without content. A
    stream (a response without Content-Length) ends once its headers are sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        if "GET" in allowed_methods(scope):
            scope = {**scope, "method": "GET"}  # else a 404 or a 405 naming HEAD
        started = False

        async def send_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                await send(message)
                if not _has_length(message):
                    stream.reschedule(0)  # its headers are all of its answer: end it now

        try:
            async with asyncio.timeout(None) as stream:
                await self.app(scope, receive, send_headers)
        except TimeoutError:
            if not stream.expired():
                raise
        if started:
            await send(END)
