"""GET /v1/health (the process answers) and /v1/ready (database reachable and migrated)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.exc import DBAPIError

from questline.adapters.cli.runtime import ensure_migrated, one_line
from questline.adapters.http.problems import NOT_READY, Problem
from questline.adapters.http.routes.common import EngineDep, errors
from questline.adapters.http.schemas import Health
from questline.engine.db import DatabaseConfigError

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> Health:
    """Liveness: no key needed, touches nothing."""
    return Health(status="ok")


@router.get("/ready", responses=errors(503))
async def ready(engine: EngineDep) -> Health:
    """Readiness: the database answers and its schema is at the newest migration."""
    try:
        await ensure_migrated(engine)
    except (DatabaseConfigError, DBAPIError, OSError) as error:
        raise Problem(NOT_READY, one_line(error)) from None
    return Health(status="ok")
