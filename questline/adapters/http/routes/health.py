"""GET /v1/health (the process answers) and /v1/ready (database reachable and migrated)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from questline.adapters.cli.runtime import ensure_migrated
from questline.adapters.http.problems import NOT_READY, Problem
from questline.adapters.http.routes.common import EngineDep, errors
from questline.adapters.http.schemas import Health
from questline.engine.db import DatabaseConfigError
from questline.plain_errors import one_line

router = APIRouter(tags=["health"])
READY_SECONDS = 5


@router.get("/health")
async def health() -> Health:
    """Liveness: no key needed, touches nothing."""
    return Health(status="ok")


@router.get("/ready", responses=errors(503))
async def ready(engine: EngineDep) -> Health:
    """Readiness: the database answers within 5 s and its schema is at the newest migration."""
    try:
        async with asyncio.timeout(READY_SECONDS):
            await ensure_migrated(engine)
    except TimeoutError:
        raise Problem(NOT_READY, f"the database did not answer within {READY_SECONDS} s") from None
    except (DatabaseConfigError, DBAPIError, PoolTimeout, OSError) as error:
        raise Problem(NOT_READY, one_line(error)) from None
    return Health(status="ok")
