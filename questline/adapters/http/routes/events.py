"""POST /v1/events and /v1/events:batch: activity in, results and awards out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response
from nats.errors import Error as NatsError
from nats.js.api import PubAck

from questline.adapters.http.problems import KEY_MISMATCH, NOT_QUEUED, Problem
from questline.adapters.http.routes.common import (
    AUTH_ERRORS,
    BODY_ERRORS,
    EngineDep,
    PublisherDep,
    errors,
    json_body,
)
from questline.adapters.http.schemas import (
    BatchQueued,
    BatchRecorded,
    EventBatch,
    Queued,
    Recorded,
)
from questline.adapters.http.schemas import Event as JsonEvent
from questline.adapters.http.security import require
from questline.adapters.http.settings import MAX_BATCH
from questline.adapters.nats.publisher import Publisher, PublishFailed
from questline.adapters.nats.routing import with_key
from questline.engine import Event
from questline.engine.api_keys import Scope

MAX_HEADER_KEY = 90  # leaves room for ":<index>" in a batch's derived keys
KEY_HEADER = "Idempotency-Key"


def one_key_header(request: Request) -> None:
    """Refuse Idempotency-Key headers that disagree, or that a proxy may have folded into one
    (a comma separates values): which key counts would be a guess."""
    given = request.headers.getlist(KEY_HEADER)
    keys = [part.strip() for value in given for part in value.split(",")]
    if len(set(keys)) > 1 or len(keys) > len(given):
        shown = ", ".join(f'"{key}"' for key in keys)
        raise Problem(
            KEY_MISMATCH,
            f"send one Idempotency-Key header, a key without commas (got {len(keys)}: {shown})",
        )


router = APIRouter(
    tags=["events"],
    dependencies=[
        Depends(require(Scope.EVENTS_WRITE)),
        Depends(json_body),
        Depends(one_key_header),
    ],
    responses=errors(*AUTH_ERRORS, *BODY_ERRORS, 404, 409),
)
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=KEY_HEADER,
        min_length=1,
        max_length=MAX_HEADER_KEY,
        pattern=r"^[\x21-\x7e]+$",
        description="Makes the write safe to retry: a repeat returns the first result.",
    ),
]


def keyed(event: Event, header: str | None) -> Event:
    """The event with the header's idempotency key; a different key in the body is refused."""
    if header is None or event.idempotency_key == header:
        return event
    if event.idempotency_key is not None:
        raise Problem(
            KEY_MISMATCH,
            f'the Idempotency-Key header "{header}" differs from the body\'s '
            f'idempotency_key "{event.idempotency_key}"',
        )
    return event.model_copy(update={"idempotency_key": header})


async def queue(publisher: Publisher, event: Event) -> Queued:
    """Publish to JetStream and wait for its ack; 503 not-queued if it does not come."""
    event = with_key(event)
    try:
        ack = await publisher.publish(event)
    except (PublishFailed, NatsError) as error:
        raise Problem(NOT_QUEUED, f"NATS did not accept the event: {error}") from None
    return _queued(event, ack)


def _queued(event: Event, ack: PubAck) -> Queued:
    assert event.idempotency_key is not None  # with_key gave it one
    return Queued(
        idempotency_key=event.idempotency_key,
        stream=ack.stream,
        sequence=ack.seq,
        duplicate=bool(ack.duplicate),
    )


async def queue_all(publisher: Publisher, events: list[Event]) -> BatchQueued:
    """Publish the events in order and wait for every ack; 503 not-queued if one is missing."""
    keyed_events = [with_key(event) for event in events]
    try:
        acks = await publisher.publish_batch(keyed_events)
    except (PublishFailed, NatsError) as error:
        raise Problem(NOT_QUEUED, f"NATS did not accept the events: {error}") from None
    return BatchQueued(
        queued=[_queued(event, ack) for event, ack in zip(keyed_events, acks, strict=True)]
    )


@router.post(
    "/events",
    status_code=201,
    responses={
        200: {
            "model": Recorded,
            "description": "Nothing recorded now: a replay (the first recording's result), or "
            "a solve of a challenge solved before (`already_solved`)",
        },
        202: {"model": Queued, "description": "Queued to NATS JetStream for a worker"},
        **errors(503),
    },
)
async def record_event(
    event: JsonEvent,
    response: Response,
    engine: EngineDep,
    publisher: PublisherDep,
    idempotency_key: IdempotencyKey = None,
) -> Recorded | Queued:
    """Record one event. 201 when recorded now; 200 when its idempotency key was seen before,
    or when it solves a challenge the learner had solved (nothing is written).

    When the server runs with QUESTLINE_NATS_URL, the event is queued instead: 202 once
    JetStream has stored it (a worker records it), 503 not-queued when NATS did not answer
    (send it again with the same key).
    """
    event = keyed(event, idempotency_key)
    if publisher is not None:
        response.status_code = 202
        return await queue(publisher, event)
    result = await engine.record(event)
    if result.replayed or result.already_solved:
        response.status_code = 200
    return Recorded.of(result)


@router.post(
    "/events:batch",
    responses={
        202: {"model": BatchQueued, "description": "Queued to NATS JetStream for the workers"},
        **errors(503),
    },
)
async def record_batch(
    batch: EventBatch,
    response: Response,
    engine: EngineDep,
    publisher: PublisherDep,
    idempotency_key: IdempotencyKey = None,
) -> BatchRecorded | BatchQueued:
    """Record up to 1,000 events in order, in one transaction: all of them or none.

    With an Idempotency-Key header K, an event without its own key gets "K:<index>", so the
    whole batch can be retried safely. A rejected event's index is in the problem.

    When the server runs with QUESTLINE_NATS_URL, the events are queued instead, in order:
    202 once JetStream has stored every one (workers record them; an event they refuse goes
    to the dead letters), 503 not-queued when NATS did not acknowledge them all (send the
    batch again with the same keys: what was stored is dropped as a duplicate).
    """
    events = [
        event
        if event.idempotency_key is not None or idempotency_key is None
        else event.model_copy(update={"idempotency_key": f"{idempotency_key}:{index}"})
        for index, event in enumerate(batch.events)
    ]
    if publisher is not None:
        response.status_code = 202
        return await queue_all(publisher, events)
    results = await engine.record_many(events, chunk_size=MAX_BATCH)
    return BatchRecorded(results=[Recorded.of(result) for result in results])
