"""Poison messages go to the dead-letter subject with the reason; the partition flows on.

An event the engine refuses, or a message that is not an event, is dead-lettered at once; an
event whose recording fails for another reason (here a plugin's fact provider that breaks for
one learner) after QUESTLINE_NATS_MAX_DELIVER deliveries, while the rest of its batch is
recorded."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from itertools import islice
from pathlib import Path
from typing import Any

import nats
from nats.js.api import ConsumerConfig
from sqlalchemy.exc import DataError

from questline.adapters.nats.consumer import REASON
from questline.adapters.nats.publisher import Publisher
from questline.adapters.nats.routing import learner_ref, partition_of
from questline.adapters.nats.settings import NatsSettings
from questline.adapters.nats.status import partition_status
from questline.engine import Event
from questline.engine.facts.provider import FactContext
from questline.plugins import hookimpl
from questline.plugins.manager import build_plugin_manager
from questline.rules.facts import FactSpec, FactType
from questline.rules.vocabulary import ActivityType
from tests.nats.conftest import eventually
from tests.nats.helpers import drained, workers
from tests.nats.scenario import T0, engine_on, prepare, recorded_events


async def dead_letters(settings: NatsSettings, limit: int = 10) -> dict[str, str]:
    """Dead-lettered payloads → their reason."""
    client = await nats.connect(settings.url)
    try:
        js = client.jetstream()
        subscription = await js.pull_subscribe(
            settings.dead_subject("*"), stream=settings.dead_stream, config=ConsumerConfig()
        )
        messages = await subscription.fetch(limit, timeout=1)
        return {message.data.decode(): (message.headers or {})[REASON] for message in messages}
    finally:
        await client.close()


def strangers_beside(user: int, settings: NatsSettings, count: int) -> list[int]:
    """`count` user ids nobody has, whose events go to the partition of `user`'s."""
    parts = settings.partitions
    partition = partition_of(learner_ref(Event(type="LOGIN", user_id=user)), parts)
    beside = (n for n in range(10**6, 10**7) if partition_of(f"u{n}", parts) == partition)
    return list(islice(beside, count))


async def test_poison_messages_are_dead_lettered_and_the_partition_flows(
    settings: NatsSettings, urls: tuple[str, str]
) -> None:
    url = urls[0]
    community = await prepare(url)
    user = community.user_ids[0]
    [stranger] = strangers_beside(user, settings, 1)
    partition = partition_of(learner_ref(Event(type="LOGIN", user_id=user)), settings.partitions)
    lesson = community.lessons[0][0]
    publisher = await Publisher.open(settings)
    try:
        good_before = Event(type=ActivityType.LOGIN, user_id=user, occurred_at=T0)
        unknown = Event(type=ActivityType.LOGIN, user_id=stranger, occurred_at=T0)
        garbage = b'{"type": "LOGIN", "user_id": "nobody"}'
        good_after = Event(
            type=ActivityType.LESSON_STARTED, user_id=user, lesson_id=lesson, occurred_at=T0
        )
        # the same key again: for the same event a duplicate JetStream drops, for another
        # event a message the engine refuses
        keyed = good_before.model_copy(update={"idempotency_key": "once"})
        reused = good_after.model_copy(update={"idempotency_key": "once"})
        await publisher.publish(good_before)
        await publisher.publish(unknown)
        await publisher.js.publish(settings.events_subject(partition), garbage)
        await publisher.publish(good_after)
        await publisher.publish(keyed)
        assert (await publisher.publish(keyed)).duplicate
        await publisher.publish(reused)
    finally:
        await publisher.close()

    async with workers(url, settings, 1):
        await eventually(lambda: drained(settings), "the partition to flow past the poison")

    assert await recorded_events(url) == 3
    reasons = await dead_letters(settings)
    assert len(reasons) == 3
    assert (
        reasons[garbage.decode()]
        == "invalid event: user_id: must be an integer, not the string 'nobody'"
    )
    refused = sorted(reason for data, reason in reasons.items() if data != garbage.decode())
    assert refused == [
        'refused: idempotency key "once" was already used for a LOGIN event of this learner',
        f"refused: unknown user: no learner with id {stranger}",
    ]
    rows = await partition_status(settings)
    assert [row.dead_letters for row in rows if row.partition == partition] == [3]
    assert sum(row.dead_letters for row in rows) == 3


class Fragile:
    """A plugin whose fact provider fails, every time, for one learner, with a database error
    (a plugin's other failures cost only its own rules: the event is recorded)."""

    namespace = "fragile"

    def __init__(self, broken_user: int) -> None:
        self.broken_user = broken_user

    def specs(self) -> list[FactSpec]:
        return [FactSpec("fragile.ok", FactType.BOOL, "Never true.", frozenset(ActivityType))]

    async def provide(self, context: FactContext, names: frozenset[str]) -> dict[str, bool]:
        if context.user.id == self.broken_user:
            failure = ValueError("the fragile store failed for this learner")
            raise DataError("SELECT fragile", {}, failure)
        return {"ok": False}

    @hookimpl
    def questline_fact_providers(self) -> list[Fragile]:
        return [self]


async def test_an_event_failing_every_delivery_is_dead_lettered_after_max_deliver(
    settings: NatsSettings, urls: tuple[str, str], tmp_path: Path
) -> None:
    url = urls[0]
    settings = replace(settings, max_deliver=2, partitions=1)
    community = await prepare(url)
    broken, fine = community.user_ids[:2]
    fragile = Fragile(broken)
    rule = tmp_path / "fragile.json"
    rule.write_text(
        '{"slug": "fragile", "type": "MILESTONE", "title": "Fragile", "points": 1,'
        ' "criteria": {"var": "fragile.ok"}}'
    )
    plugins = build_plugin_manager(load_entry_points=False)
    plugins.register(fragile)
    loader = engine_on(url, plugins)
    try:
        await loader.load_rules([rule])
    finally:
        await loader.shutdown()
    publisher = await Publisher.open(settings)
    try:
        for user in (fine, broken, fine):
            await publisher.publish(Event(type=ActivityType.LOGIN, user_id=user, occurred_at=T0))
    finally:
        await publisher.close()

    async with workers(url, settings, 1, fragile):
        await eventually(lambda: drained(settings), "the failing event dead-lettered")

    assert await recorded_events(url) == 1  # the two LOGINs of `fine` are one event
    [reason] = (await dead_letters(settings)).values()
    assert reason.startswith("failed 2 times: (builtins.ValueError) the fragile store failed")


async def test_many_refused_events_in_a_batch_cost_each_event_at_most_two_recordings(
    settings: NatsSettings, urls: tuple[str, str]
) -> None:
    url = urls[0]
    user = (await prepare(url)).user_ids[0]
    strangers = strangers_beside(user, settings, 20)
    publisher = await Publisher.open(settings)
    try:
        for number, stranger in enumerate(strangers):
            at = T0 + timedelta(minutes=number)
            for who in (user, stranger):
                await publisher.publish(Event(type=ActivityType.LOGIN, user_id=who, occurred_at=at))
    finally:
        await publisher.close()

    recordings = 0
    async with workers(url, settings, 1) as [worker]:
        record = worker.engine.recorder.record

        async def counted(*args: Any, **kwargs: Any) -> Any:
            nonlocal recordings
            recordings += 1
            return await record(*args, **kwargs)

        worker.engine.recorder.record = counted  # type: ignore[method-assign]
        await eventually(lambda: drained(settings), "the partition to flow past the poison")

    assert await recorded_events(url) == len(strangers)
    assert len(await dead_letters(settings, 100)) == len(strangers)
    assert recordings <= 2 * 2 * len(strangers)  # each event at most twice; quadratic before
