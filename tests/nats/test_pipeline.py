"""Publish a JSONL file, record it with two workers: the database equals an in-process
ingest of the same file; publishing it again changes nothing; every award is published."""

from __future__ import annotations

import json
from collections.abc import Awaitable
from datetime import datetime
from pathlib import Path

import nats
import pytest

from questline.adapters.nats.publisher import Publisher
from questline.adapters.nats.settings import NatsSettings
from questline.adapters.nats.status import partition_status
from questline.engine import Event
from questline.rules.vocabulary import ActivityType
from tests.nats.conftest import eventually
from tests.nats.helpers import drained, invoke, stream_messages, workers
from tests.nats.scenario import (
    event_lines,
    ingest,
    prepare,
    recorded_events,
    state,
    write_events,
)

EVENTS = 2000


async def test_two_workers_equal_an_in_process_ingest(
    settings: NatsSettings, nats_env: dict[str, str], urls: tuple[str, str], tmp_path: Path
) -> None:
    stream_url, reference_url = urls
    community = await prepare(stream_url)
    await prepare(reference_url)
    lines = event_lines(community, EVENTS)
    path = write_events(tmp_path / "events.jsonl", lines)

    published = await invoke(["events", "publish", str(path)], nats_env)
    assert published.exit_code == 0, published.output
    assert f"events.jsonl: {EVENTS} event(s) published to {settings.stream}" in published.output
    assert await stream_messages(settings, settings.stream) == EVENTS

    async with workers(stream_url, settings, 2) as running:
        await eventually(lambda: drained(settings), "every event recorded and acknowledged")
        again = await invoke(["events", "publish", str(path)], nats_env)
        assert again.exit_code == 0, again.output
        dropped = f"({EVENTS} dropped by JetStream as published in the last 60 s)"
        assert f"{EVENTS} event(s) published to {settings.stream} {dropped}" in again.output
        assert await stream_messages(settings, settings.stream) == 0  # all were duplicates
        workers_ids = {worker.worker_id for worker in running}

        async def both_hold_leases() -> bool:
            # a lease lapses if its holder is starved past the TTL on a loaded machine; it is
            # taken again at the next balance
            return {row.holder for row in await partition_status(settings)} == workers_ids

        await eventually(both_hold_leases, "each partition held by one of the two workers")
        status = await invoke(["worker", "status"], nats_env)
        assert status.exit_code == 0, status.output
        assert status.output.endswith("0 event(s) waiting, 0 dead letter(s)\n")
        streamed = await state(stream_url, community.user_ids)
        awards = sum(len(earned) for earned in streamed["awards"].values())
        assert awards > 0
        # the dispatchers publish while they run; a loaded machine may need a retry or two
        await eventually(
            lambda: _equals(stream_messages(settings, settings.awards_stream), awards),
            "every award published once",
        )

    await ingest(reference_url, lines)
    assert streamed == await state(reference_url, community.user_ids)
    assert await recorded_events(stream_url) == await recorded_events(reference_url)


async def _equals(value: Awaitable[int], expected: int) -> bool:
    return await value == expected


async def test_a_worker_counts_only_the_events_it_wrote_as_recorded(
    settings: NatsSettings,
    nats_env: dict[str, str],
    urls: tuple[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A second solve of a challenge writes nothing: it was counted "recorded"."""
    community = await prepare(urls[0])
    learner = community.user_ids[0]
    lesson = next(lesson for lesson, points in community.lessons if points is not None)
    solve = {"type": ActivityType.CHALLENGE_SOLVED, "user_id": learner, "lesson_id": lesson}
    publisher = await Publisher.open(settings)
    try:
        for event in (
            Event(type=ActivityType.LOGIN, user_id=learner),
            Event(**solve, idempotency_key="solve-1"),
            Event(**solve, idempotency_key="solve-2"),
            # refused (no such lesson), and last of the learner's batch
            Event(type=ActivityType.LESSON_STARTED, user_id=learner, lesson_id=10**6),
        ):
            await publisher.publish(event)
    finally:
        await publisher.close()
    async with workers(urls[0], settings, 1) as [worker]:
        await eventually(lambda: drained(settings), "every event taken")
        # a batch ending in a refusal crashed its consumer once the refusal was dead-lettered
        assert not [task for _, task in worker.consumers.values() if task.done()]
        await eventually(
            lambda: _equals(stream_messages(settings, settings.awards_stream), 1),
            "the solve's award published",
        )
    assert (worker.recorded, worker.repeated, worker.dead) == (2, 1, 1)
    assert "stopped" not in caplog.text  # nor was one found crashed and started again
    client = await nats.connect(settings.url)
    try:
        message = await client.jetstream().get_last_msg(
            settings.awards_stream, settings.awards_subject(learner)
        )
    finally:
        await client.close()
    award = json.loads(message.data)
    assert datetime.fromisoformat(award["earned_at"]).utcoffset() is not None
    assert "T" in award["earned_at"]  # ISO 8601, as the HTTP API and webhooks write it
