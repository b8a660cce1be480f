"""GET /v1/leaderboard: the top of a board (all time, this week or this month), or the window
around one learner."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import AfterValidator, BeforeValidator

from questline.adapters.http.routes.common import AUTH_ERRORS, EngineDep, errors
from questline.adapters.http.schemas import Leaderboard, Standing, TelegramIdParam
from questline.adapters.http.security import require
from questline.engine.api_keys import Scope
from questline.engine.errors import QuestlineError
from questline.engine.events import OCCURRED_AT_PATTERN
from questline.engine.periods import Period, moment_at
from questline.engine.views import LeaderboardEntry

MAX_LIMIT = 100

router = APIRouter(
    tags=["leaderboard"],
    dependencies=[Depends(require(Scope.READ))],
    responses=errors(*AUTH_ERRORS, 404, 422),
)


def _moment(value: datetime) -> datetime:
    """A time the engine takes for a period: with a UTC offset, within occurred_at's years."""
    try:
        return moment_at(value)
    except QuestlineError as error:
        raise ValueError(str(error)) from None


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _not_a_number(value: object) -> object:
    """pydantic reads a number as Unix seconds (or milliseconds); `at` is a time."""
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        raise ValueError(f"must be an ISO 8601 time with a UTC offset, not the number {value}")
    return value


Moment = Annotated[datetime, BeforeValidator(_not_a_number), AfterValidator(_moment)]


def _centred(
    window: list[LeaderboardEntry], telegram_id: int, limit: int
) -> list[LeaderboardEntry]:
    """`limit` entries of `window` holding the learner: centred on them (one more above for
    an even limit), shifted to stay full at either end of the board."""
    if not window:
        return window
    mine = next(i for i, entry in enumerate(window) if entry.telegram_id == telegram_id)
    start = max(0, min(mine - limit // 2, len(window) - limit))
    return window[start : start + limit]


@router.get("/leaderboard")
async def leaderboard(
    engine: EngineDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="How many entries")] = 10,
    around: Annotated[
        TelegramIdParam | None,
        Query(
            description="A Telegram id: `limit` entries around that learner, centred on them "
            "(shifted to stay full at either end of the board)"
        ),
    ] = None,
    period: Annotated[
        Period,
        Query(
            description="`all` (the totals), or `week` (Monday to Sunday) or `month`: what each "
            "learner gained in that period, in the engine's time zone"
        ),
    ] = Period.ALL,
    at: Annotated[
        Moment | None,
        Query(
            description="For `week` and `month`: the period holding this time (ISO 8601 with "
            "a UTC offset, from 1000-01-02 to 9999-12-30 in UTC); default now",
            json_schema_extra={"pattern": OCCURRED_AT_PATTERN},
        ),
    ] = None,
) -> Leaderboard:
    """Competition ranking ("1224"); ties in order of registration."""
    if around is None:
        entries = await engine.top(limit, period=period, at=at)
    else:
        window = await engine.around(telegram_id=around, radius=limit - 1, period=period, at=at)
        entries = _centred(window, around, limit)
    return Leaderboard(entries=[Standing.of(entry) for entry in entries])
