"""The FastAPI application: routes under /v1, API keys, problem+json for every error."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from questline.adapters.http import problems
from questline.adapters.http.keys import KeyCheck
from questline.adapters.http.methods import HeadAsGet
from questline.adapters.http.plugin import plugin
from questline.adapters.http.problems import Problem
from questline.adapters.http.routes import awards, events, health, leaderboard, learners, rules
from questline.adapters.http.security import Deadlines, GateMiddleware, KeyRateLimiter
from questline.adapters.http.settings import DISPATCH, HttpSettings
from questline.adapters.nats.publisher import Publisher
from questline.engine import Engine
from questline.engine.db import database_unreachable, first_line
from questline.engine.errors import QuestlineError

log = logging.getLogger(__name__)

API_VERSION = "1.0.0"
OPENAPI_PATH = "/v1/openapi.json"
DESCRIPTION = """questline's HTTP API: events in; progress, awards and leaderboards out.

Every route but `/v1/health`, `/v1/ready` and this document needs an API key
(`Authorization: Bearer <key>`, from `questline keys create`) holding the route's scope.
Errors are RFC 9457 `application/problem+json` with a stable `type` URI per kind of error.
"""


def _operation_id(route: APIRoute) -> str:
    return route.name


async def _problem(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, Problem)
    return problems.render(error, request)


async def _engine_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, QuestlineError)
    return problems.render(problems.from_engine(error), request)


async def _validation(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    return problems.render(problems.from_validation(error), request)


async def _http(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    return problems.render(problems.from_http(error, request), request)


async def _database(request: Request, error: Exception) -> JSONResponse:
    """503 database-unavailable when the database could not be reached, else a 500."""
    if not database_unreachable(error):
        return await _unexpected(request, error)
    log.warning(
        "%s %s: the database failed: %s", request.method, request.url.path, first_line(error)
    )
    return problems.render(problems.database_unavailable(), request)


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    log.error("%s %s failed", request.method, request.url.path, exc_info=error)
    return problems.render(Problem(problems.INTERNAL, "the server failed; see its log"), request)


def _problem_media_types(schema: dict[str, Any]) -> dict[str, Any]:
    """Error responses are application/problem+json, whatever the route's own media type."""
    for path in schema["paths"].values():
        for operation in path.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content")
                if status[0] in "45" and content:
                    response["content"] = {problems.MEDIA_TYPE: next(iter(content.values()))}
    return schema


def create_app(
    engine: Engine,
    settings: HttpSettings | None = None,
    *,
    manage_engine: bool = False,
    publisher: Publisher | None = None,
) -> FastAPI:
    """The API on `engine`. With `manage_engine`, the app starts and shuts the engine down
    (for servers that create the engine before their event loop runs). With a `publisher`,
    POST /v1/events queues events to NATS JetStream instead of recording them."""
    settings = settings or HttpSettings()
    if not engine.plugins.is_registered(plugin):
        engine.plugins.register(plugin, name="http")
    plugin.streams(engine)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if manage_engine:
            await engine.startup()
            plugin.streams(engine)
            engine.start_dispatcher(DISPATCH)
        try:
            yield
        finally:
            if manage_engine:
                await engine.shutdown()

    app = FastAPI(
        title="questline",
        version=API_VERSION,
        description=DESCRIPTION,
        openapi_url=OPENAPI_PATH,
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=_operation_id,
        lifespan=lifespan,
        redirect_slashes=False,  # /v1/events/ is a route that does not exist: 404, no bare 307
    )
    app.state.engine = engine
    app.state.publisher = publisher
    app.state.limiter = KeyRateLimiter(settings.limits())
    app.state.keys = KeyCheck(engine)
    app.state.deadlines = Deadlines()
    for module in (events, learners, leaderboard, awards, rules, health):
        app.include_router(module.router, prefix="/v1")
    app.add_middleware(
        GateMiddleware,
        max_body_bytes=settings.max_body_bytes,
        request_timeout=settings.request_timeout,
        deadlines=app.state.deadlines,
    )
    app.add_middleware(HeadAsGet)  # outside the gate, which then sees a GET
    app.add_exception_handler(Problem, _problem)
    app.add_exception_handler(QuestlineError, _engine_error)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(DBAPIError, _database)
    app.add_exception_handler(PoolTimeout, _database)
    app.add_exception_handler(Exception, _unexpected)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _problem_media_types(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
