"""Every process must count the same partitions: the events stream lists one subject per
partition, so a process counting more is refused at start instead of publishing where no
worker reads."""

from __future__ import annotations

from dataclasses import replace

import nats
import pytest
from nats.errors import NoRespondersError
from nats.js.api import RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NoStreamResponseError

from questline.adapters.nats.connection import NatsUnavailable
from questline.adapters.nats.publisher import Publisher
from questline.adapters.nats.settings import NatsSettings
from questline.adapters.nats.status import partition_status
from questline.engine import Event
from questline.rules.vocabulary import ActivityType


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
