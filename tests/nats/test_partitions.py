"""Every process must count the same partitions: the events stream lists one subject per
partition, so a process counting more is refused at start instead of publishing where no
worker reads."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import nats
import pytest
from nats.errors import NoRespondersError
from nats.js.api import RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NoStreamResponseError

from questline.adapters.nats.connection import NatsUnavailable
from questline.adapters.nats.leases import Leases
from questline.adapters.nats.publisher import Publisher
from questline.adapters.nats.settings import NatsSettings
from questline.adapters.nats.status import partition_status
from questline.adapters.nats.worker import Worker
from questline.engine import Event
from questline.rules.vocabulary import ActivityType
from tests.nats.conftest import eventually
from tests.nats.helpers import drained
from tests.nats.scenario import T0, engine_on, prepare, recorded_events


async def test_a_process_counting_other_partitions_is_refused(settings: NatsSettings) -> None:
    publisher = await Publisher.open(settings)
    await publisher.close()
    for partitions in (settings.partitions * 2, 1):
        with pytest.raises(
            NatsUnavailable,
            match=f"has {settings.partitions} partitions and QUESTLINE_NATS_PARTITIONS is "
            f"{partitions}: every process must use the stream's number",
        ):
            await Publisher.open(replace(settings, partitions=partitions))


async def test_a_worker_with_another_lease_ttl_is_refused_in_one_line(
    settings: NatsSettings,
) -> None:
    """The bucket keeps the TTL it was made with: a traceback from JetStream before."""
    client = await nats.connect(settings.url)
    try:
        js = client.jetstream()
        await Leases.open(js, settings.lease_bucket, settings.lease_ttl, "w-1")
        with pytest.raises(
            NatsUnavailable, match="every worker must use the same QUESTLINE_NATS_LEASE_TTL"
        ):
            await Leases.open(js, settings.lease_bucket, settings.lease_ttl + 1, "w-2")
    finally:
        await client.close()


async def test_worker_status_refuses_settings_that_do_not_fit_the_stream(
    settings: NatsSettings,
) -> None:
    """A status read with other settings would show partitions or subjects nobody uses."""
    publisher = await Publisher.open(settings)
    await publisher.close()
    assert len(await partition_status(settings)) == settings.partitions
    with pytest.raises(NatsUnavailable, match="every process must use the stream's number"):
        await partition_status(replace(settings, partitions=settings.partitions * 2))
    with pytest.raises(NatsUnavailable, match="every process must use the stream's subject"):
        await partition_status(replace(settings, subject=f"{settings.subject}x"))
    # a typo in the stream's name showed every partition empty and unheld: all well
    with pytest.raises(NatsUnavailable, match=f"NATS has no stream {settings.stream}X: "):
        await partition_status(replace(settings, stream=f"{settings.stream}X"))


async def test_worker_status_refuses_an_events_stream_that_keeps_or_forgets_messages(
    settings: NatsSettings,
) -> None:
    """A stream of limits retention (messages stay once recorded) or memory storage (lost on a
    restart) is refused by status as by publish and worker."""
    client = await nats.connect(settings.url)
    try:
        await client.jetstream().add_stream(
            StreamConfig(
                name=settings.stream,
                subjects=settings.partition_subjects(),
                retention=RetentionPolicy.LIMITS,
                storage=StorageType.MEMORY,
            )
        )
    finally:
        await client.close()
    with pytest.raises(NatsUnavailable, match="retention limits, storage memory"):
        await partition_status(settings)
    with pytest.raises(NatsUnavailable, match="exists with another configuration"):
        await Publisher.open(settings)


async def test_nothing_is_stored_where_no_partition_is(settings: NatsSettings) -> None:
    publisher = await Publisher.open(settings)
    try:
        with pytest.raises((NoRespondersError, NoStreamResponseError)):
            await publisher.js.publish(settings.events_subject(settings.partitions), b"{}")
    finally:
        await publisher.close()


async def test_a_stream_of_one_wildcard_subject_gets_its_partitions(
    settings: NatsSettings,
) -> None:
    """Streams made before subjects were listed per partition keep their messages."""
    client = await nats.connect(settings.url)
    try:
        js = client.jetstream()
        await js.add_stream(
            StreamConfig(
                name=settings.stream,
                subjects=[settings.events_subject("*")],
                retention=RetentionPolicy.WORK_QUEUE,
                storage=StorageType.FILE,
                duplicate_window=settings.duplicate_window,
            )
        )
        await js.publish(settings.events_subject(0), b"{}")
        publisher = await Publisher.open(settings)
        await publisher.publish(Event(type=ActivityType.LOGIN, user_id=1))
        await publisher.close()
        info = await js.stream_info(settings.stream)
        assert info.config.subjects == settings.partition_subjects()
        assert info.state.messages == 2
    finally:
        await client.close()


async def test_workers_pinned_to_halves_of_the_partitions_consume_every_one(
    settings: NatsSettings, urls: tuple[str, str]
) -> None:
    """`questline worker --partitions 0-1` and `--partitions 2-3`: each is the only taker of
    its half, so each takes all of it (a share counted over every live worker left half of
    each half unconsumed)."""
    url = urls[0]
    community = await prepare(url)
    publisher = await Publisher.open(settings)
    try:
        for user in community.user_ids:
            await publisher.publish(Event(type=ActivityType.LOGIN, user_id=user, occurred_at=T0))
    finally:
        await publisher.close()
    half = settings.partitions // 2
    halves = [list(range(half)), list(range(half, settings.partitions))]
    engines = [engine_on(url) for _ in halves]
    pinned = [Worker(engine, settings, part) for engine, part in zip(engines, halves, strict=True)]
    running = [asyncio.create_task(worker.run()) for worker in pinned]
    try:
        await eventually(lambda: drained(settings), "every partition's events recorded")
    finally:
        for worker in pinned:
            worker.stop()
        await asyncio.gather(*running)
        for engine in engines:
            await engine.shutdown()
    assert await recorded_events(url) == len(community.user_ids)


@pytest.mark.parametrize("taken", ["events", "awards", "dead"])
async def test_a_stream_taking_the_subjects_of_ours_is_named(
    settings: NatsSettings, taken: str
) -> None:
    client = await nats.connect(settings.url)
    other = f"{settings.stream}OTHER"
    ours = {"events": settings.stream, "awards": settings.awards_stream}
    try:
        await client.jetstream().add_stream(
            StreamConfig(
                name=other, subjects=[f"{settings.subject}.{taken}.>"], storage=StorageType.FILE
            )
        )
        with pytest.raises(
            NatsUnavailable,
            match=f"NATS stream {ours.get(taken, settings.dead_stream)} cannot be created .*: "
            f"another stream takes subjects under {settings.subject}.{taken}",
        ):
            await Publisher.open(settings)
    finally:
        await client.jetstream().delete_stream(other)
        await client.close()


async def test_a_pinned_worker_joining_an_unpinned_one_leaves_no_partition_without_a_worker(
    settings: NatsSettings, urls: tuple[str, str]
) -> None:
    """The unpinned worker hands over only what the pinned one may take (it handed over its
    highest partitions, which nobody else may take)."""
    url = urls[0]
    community = await prepare(url)
    engines = [engine_on(url) for _ in range(2)]
    unpinned = Worker(engines[0], settings)
    pinned = Worker(engines[1], settings, list(range(settings.partitions // 2)))
    running = [asyncio.create_task(unpinned.run())]

    async def holding(worker: Worker, count: int) -> bool:
        return len(worker.consumers) == count

    try:
        await eventually(lambda: holding(unpinned, settings.partitions), "the first holds all")
        running.append(asyncio.create_task(pinned.run()))
        await eventually(lambda: holding(pinned, 1), "the pinned worker takes its share")
        publisher = await Publisher.open(settings)
        try:
            for user in community.user_ids:
                await publisher.publish(
                    Event(type=ActivityType.LOGIN, user_id=user, occurred_at=T0)
                )
        finally:
            await publisher.close()
        await eventually(lambda: drained(settings), "every partition's events", within=60)
    finally:
        for worker in (unpinned, pinned):
            worker.stop()
        await asyncio.gather(*running)
        for engine in engines:
            await engine.shutdown()
    assert await recorded_events(url) == len(community.user_ids)
