"""The HTTP API in process: an app on the test database, keys of every scope, an httpx client
on httpx's ASGI transport."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.adapters.http.app import create_app
from questline.adapters.http.settings import HttpSettings
from questline.engine import Engine
from questline.engine.views import LessonView
from tests.engine.conftest import make_engine

BASE = "http://questline.test"


@dataclass(frozen=True)
class Keys:
    """A secret per scope, one admin key, and one revoked key."""

    writer: str
    reader: str
    admin: str
    revoked: str


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
async def engine(db: AsyncEngine) -> AsyncIterator[Engine]:
    engine = await make_engine(db)
    yield engine
    await engine.shutdown()


@pytest.fixture
async def keys(engine: Engine) -> Keys:
    revoked = await engine.create_api_key("old", ["admin"])
    await engine.revoke_api_key(revoked.key.prefix)
    return Keys(
        writer=(await engine.create_api_key("writer", ["events:write"])).secret,
        reader=(await engine.create_api_key("reader", ["read"])).secret,
        admin=(await engine.create_api_key("admin", ["admin"])).secret,
        revoked=revoked.secret,
    )


@pytest.fixture
def settings() -> HttpSettings:
    return HttpSettings(rate_limit="10000/minute", max_body_bytes=256 * 1024)


@pytest.fixture
def app(engine: Engine, settings: HttpSettings) -> FastAPI:
    return create_app(engine, settings)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(transport=ASGITransport(app=app), base_url=BASE) as client:
        yield client


@pytest.fixture
async def lessons(engine: Engine) -> list[LessonView]:
    return [lesson for module in await engine.modules() for lesson in module.lessons]


@pytest.fixture
async def learner(client: AsyncClient, keys: Keys) -> int:
    """A registered learner's Telegram id."""
    response = await client.put(
        "/v1/learners/1001", json={"first_name": "Ada"}, headers=bearer(keys.writer)
    )
    assert response.status_code == 200, response.text
    return 1001


def assert_problem(response, status: int, kind: str) -> dict:
    """The response is problem+json of `kind` with `status`; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == f"urn:questline:problem:{kind}"
    assert body["status"] == status
    assert body["title"] and body["detail"]
    return body
