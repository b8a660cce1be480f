"""What every route module shares: the engine dependency, JSON bodies and documented errors."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Request

from questline.adapters.http.problems import (
    KINDS,
    MALFORMED_JSON,
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


def _preferred_language(
    accept_language: Annotated[
        str | None,
        Header(
            description="The reader's languages (RFC 9110), e.g. `ru-RU,ru;q=0.9,en;q=0.8`: "
            "titles, lesson texts and achievements come in the most preferred one, texts not "
            "translated into it in the course's or rule's own language",
        ),
    ] = None,
) -> str | None:
    """The most preferred language tag of an Accept-Language header (None: none, or only
    `*`); a malformed weight counts as 0."""
    ranked = []
    for order, item in enumerate((accept_language or "").split(",")):
        tag, _, params = item.strip().partition(";")
        weight = params.strip().removeprefix("q=") if params.strip().startswith("q=") else "1"
        try:
            quality = float(weight)
        except ValueError:
            quality = 0.0
        if tag.strip() and tag.strip() != "*" and quality > 0:
            ranked.append((-quality, order, tag.strip()))
    return min(ranked)[2] if ranked else None


LanguageDep = Annotated[str | None, Depends(_preferred_language)]


async def json_body(request: Request) -> None:
    """Refuse a body that is not declared as JSON (application/json or any +json type), and
    an empty one (no JSON at all, which FastAPI would take as a missing body)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json" and not (
        media.startswith("application/") and media.endswith("+json")
    ):
        shown = media or "none"
        raise Problem(UNSUPPORTED_MEDIA_TYPE, f"send the body as application/json (got {shown})")
    if not await request.body():
        raise Problem(MALFORMED_JSON, "the body is empty; send a JSON document")


AUTH_ERRORS = (401, 403, 429, 503)  # 503: the database (or the key check) did not answer
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
