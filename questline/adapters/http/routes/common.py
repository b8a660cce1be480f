"""What every route module shares: the engine dependency, JSON bodies and documented errors."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from questline.adapters.http.problems import (
    KINDS,
    UNSUPPORTED_MEDIA_TYPE,
    Problem,
    ProblemDetails,
)
from questline.adapters.nats.publisher import Publisher
from questline.engine import Engine


def _engine(request: Request) -> Engine:
    return request.app.state.engine


EngineDep = Annotated[Engine, Depends(_engine)]


def _publisher(request: Request) -> Publisher | None:
    """The NATS publisher when QUESTLINE_NATS_URL is set: events are queued, not recorded."""
    return request.app.state.publisher


PublisherDep = Annotated[Publisher | None, Depends(_publisher)]


def json_body(request: Request) -> None:
    """Refuse a body that is not declared as JSON (application/json or any +json type)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json" and not (
        media.startswith("application/") and media.endswith("+json")
    ):
        shown = media or "none"
        raise Problem(UNSUPPORTED_MEDIA_TYPE, f"send the body as application/json (got {shown})")


AUTH_ERRORS = (401, 403, 429)
BODY_ERRORS = (400, 413, 415, 422)


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem responses a route can give."""
    titles = {kind.status: [] for kind in KINDS}
    for kind in KINDS:
        titles[kind.status].append(kind.slug)
    return {
        status: {"model": ProblemDetails, "description": "Problem: " + ", ".join(titles[status])}
        for status in sorted(set(statuses))
    }
