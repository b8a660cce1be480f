"""GET /v1/leaderboard: the top of the board, or the window around one learner."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from questline.adapters.http.routes.common import AUTH_ERRORS, EngineDep, errors
from questline.adapters.http.schemas import Leaderboard, Standing
from questline.adapters.http.security import require
from questline.engine.api_keys import Scope
from questline.engine.limits import BIGINT_MAX

MAX_LIMIT = 100

router = APIRouter(
    tags=["leaderboard"],
    dependencies=[Depends(require(Scope.READ))],
    responses=errors(*AUTH_ERRORS, 404, 422),
)


@router.get("/leaderboard")
async def leaderboard(
    engine: EngineDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="How many entries")] = 10,
    around: Annotated[
        int | None,
        Query(
            ge=1, le=BIGINT_MAX, description="A Telegram id: `limit` entries around that learner"
        ),
    ] = None,
) -> Leaderboard:
    """Competition ranking ("1224"); ties in order of registration."""
    if around is None:
        entries = await engine.top(limit)
    else:
        # up to limit // 2 on each side; an even limit drops the last one below
        entries = (await engine.around(telegram_id=around, radius=limit // 2))[:limit]
    return Leaderboard(entries=[Standing.of(entry) for entry in entries])
