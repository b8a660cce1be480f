"""What `questline worker status` reports for each partition."""

from __future__ import annotations

from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from questline.adapters.nats.connection import NatsUnavailable, check_events_stream, connect
from questline.adapters.nats.leases import Leases
from questline.adapters.nats.settings import NatsSettings


@dataclass(frozen=True)
class PartitionStatus:
    partition: int
    lag: int  # messages not yet delivered to the partition's consumer
    ack_pending: int  # delivered, not yet acknowledged (a batch being recorded)
    redelivered: int  # delivered more than once and not yet acknowledged
    dead_letters: int
    holder: str | None  # the worker holding the lease


async def _subject_counts(js: JetStreamContext, stream: str) -> dict[str, int] | None:
    """Messages stored per subject of `stream`; None if there is no such stream."""
    try:
        info = await js.stream_info(stream, subjects_filter=">")
    except NotFoundError:
        return None
    return dict(info.state.subjects or {})


async def partition_status(settings: NatsSettings) -> list[PartitionStatus]:
    """Every partition's lag, pending and redelivered counts, dead letters and holder."""
    client = await connect(settings)
    try:
        js = client.jetstream()
        await check_events_stream(js, settings)
        stored = await _subject_counts(js, settings.stream)
        if stored is None:
            raise NatsUnavailable(
                f"NATS has no stream {settings.stream}: no worker or `events publish` has "
                "created it; check QUESTLINE_NATS_STREAM (and the NATS server it names)"
            )
        dead = await _subject_counts(js, settings.dead_stream) or {}
        try:
            kv = await js.key_value(settings.lease_bucket)
            holders = await Leases(kv, "", settings.lease_ttl).holders()
        except NotFoundError:
            holders = {}
        rows = []
        for partition in range(settings.partitions):
            subject = settings.events_subject(partition)
            try:
                info = await js.consumer_info(settings.stream, settings.durable(partition))
                lag, pending = info.num_pending or 0, info.num_ack_pending or 0
                redelivered = info.num_redelivered or 0
            except NotFoundError:  # no worker has consumed it yet: all it stores is lag
                lag, pending, redelivered = stored.get(subject, 0), 0, 0
            rows.append(
                PartitionStatus(
                    partition,
                    lag,
                    pending,
                    redelivered,
                    dead.get(settings.dead_subject(partition), 0),
                    holders.get(partition),
                )
            )
        return rows
    finally:
        await client.close()
