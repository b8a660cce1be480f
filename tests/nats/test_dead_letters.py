"""Poison messages go to the dead-letter subject with the reason; the partition flows on."""

from __future__ import annotations

import nats
from nats.js.api import ConsumerConfig

from questline.adapters.nats.consumer import REASON
from questline.adapters.nats.publisher import Publisher
from questline.adapters.nats.routing import learner_ref, partition_of
from questline.adapters.nats.settings import NatsSettings
from questline.adapters.nats.status import partition_status
from questline.engine import Event
from questline.rules.vocabulary import ActivityType
from tests.nats.conftest import eventually
from tests.nats.helpers import drained, workers
from tests.nats.scenario import T0, prepare, recorded_events


async def dead_letters(settings: NatsSettings) -> dict[str, str]:
    """Dead-lettered payloads → their reason."""
    client = await nats.connect(settings.url)
    try:
        js = client.jetstream()
        subscription = await js.pull_subscribe(
            settings.dead_subject("*"), stream=settings.dead_stream, config=ConsumerConfig()
        )
        messages = await subscription.fetch(10, timeout=1)
        return {message.data.decode(): (message.headers or {})[REASON] for message in messages}
    finally:
        await client.close()


async def test_poison_messages_are_dead_lettered_and_the_partition_flows(
    settings: NatsSettings, urls: tuple[str, str]
) -> None:
    url = urls[0]
    community = await prepare(url)
    user = community.user_ids[0]
    partition = partition_of(learner_ref(Event(type="LOGIN", user_id=user)), settings.partitions)
    lesson = community.lessons[0][0]
    stranger = next(  # an unknown learner in the same partition
        n
        for n in range(10**6, 10**6 + 1000)
        if partition_of(f"u{n}", settings.partitions) == partition
    )
    publisher = await Publisher.open(settings)
    try:
        good_before = Event(type=ActivityType.LOGIN, user_id=user, occurred_at=T0)
        unknown = Event(type=ActivityType.LOGIN, user_id=stranger, occurred_at=T0)
        garbage = b'{"type": "LOGIN", "user_id": "nobody"}'
        good_after = Event(
            type=ActivityType.LESSON_STARTED, user_id=user, lesson_id=lesson, occurred_at=T0
        )
        await publisher.publish(good_before)
        await publisher.publish(unknown)
        await publisher.js.publish(settings.events_subject(partition), garbage)
        await publisher.publish(good_after)
    finally:
        await publisher.close()

    async with workers(url, settings, 1):
        await eventually(lambda: drained(settings), "the partition to flow past the poison")

    assert await recorded_events(url) == 2
    reasons = await dead_letters(settings)
    assert len(reasons) == 2
    assert reasons[garbage.decode()].startswith("invalid event: user_id: Input should be")
    [unknown_reason] = [reason for data, reason in reasons.items() if data != garbage.decode()]
    assert unknown_reason == f"refused: unknown user: no learner with id {stranger}"
    rows = await partition_status(settings)
    assert [row.dead_letters for row in rows if row.partition == partition] == [2]
    assert sum(row.dead_letters for row in rows) == 2
