"""GET /v1/awards/stream: awards as Server-Sent Events, live, as they are granted."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.sse import EventSourceResponse, ServerSentEvent

from questline.adapters.http.plugin import plugin
from questline.adapters.http.routes.common import AUTH_ERRORS, EngineDep, errors
from questline.adapters.http.schemas import Award, TelegramIdParam
from questline.adapters.http.security import require
from questline.engine.api_keys import Scope
from questline.engine.views import AwardView

router = APIRouter(
    tags=["awards"],
    dependencies=[Depends(require(Scope.READ))],
    responses=errors(*AUTH_ERRORS, 422),
)


async def _awards_from_now(engine: EngineDep) -> AsyncIterator[AsyncIterator[AwardView]]:
    """The awards granted from now on. A dependency, so that it starts before the answer
    does: an award granted once the client has the headers is in it, and a database away
    when the stream opens is a 503 (not an empty 200)."""
    async with plugin.streams(engine).subscribe() as awards:
        yield awards


@router.get(
    "/awards/stream",
    response_class=EventSourceResponse,
    responses={
        200: {
            "description": "Server-Sent Events: `event: award`, `data:` an Award as JSON, "
            '`id:` "<user_id>:<slug>"; comment lines keep the connection alive'
        }
    },
)
async def award_stream(
    awards: Annotated[AsyncIterator[AwardView], Depends(_awards_from_now)],
    telegram_id: Annotated[
        TelegramIdParam | None, Query(description="Only this learner's awards")
    ] = None,
) -> AsyncIterator[ServerSentEvent]:
    """Each award granted from now on as an `award` event; `id` is "<user_id>:<slug>"."""
    async for award in awards:
        if telegram_id is not None and award.telegram_id != telegram_id:
            continue
        yield ServerSentEvent(
            event="award",
            id=f"{award.user_id}:{award.slug}",
            data=Award.of(award).model_dump(mode="json"),
        )
