"""Where an event goes: its learner's partition, its key, and the message that carries it.

The partition is `blake2b(learner) mod P` over the learner's external id (`u<user_id>` or
`t<telegram_id>`), the same in every process and Python version (unlike `hash()`), so all
events of one learner identified the same way share a subject and stay in order.
"""

from __future__ import annotations

import hashlib
import json

from questline.engine import Event

DERIVED_KEY_PREFIX = "nats-"


def learner_ref(event: Event) -> str:
    """The learner's external id as the event names it: `u<user_id>` or `t<telegram_id>`."""
    return f"u{event.user_id}" if event.user_id is not None else f"t{event.telegram_id}"


def partition_of(ref: str, partitions: int) -> int:
    """The learner's partition among `partitions`; stable across processes and versions."""
    digest = hashlib.blake2b(ref.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % partitions


def with_key(event: Event) -> Event:
    """The event with an idempotency key: its own, or one derived from its content.

    A derived key is `nats-` and the BLAKE2b-128 of the event's canonical JSON (every field,
    `occurred_at` included), so republishing the same event gives the same key, and two
    events differing in any field get different keys.
    """
    if event.idempotency_key is not None:
        return event
    canonical = json.dumps(event.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    digest = hashlib.blake2b(canonical.encode(), digest_size=16).hexdigest()
    return event.model_copy(update={"idempotency_key": DERIVED_KEY_PREFIX + digest})


def message_id(event: Event) -> str:
    """The `Nats-Msg-Id` of a keyed event: a hex digest of learner, key, type and lesson.

    Keys are unique per learner, so the learner is part of the id. Type and lesson are what
    the engine compares to tell a replay from a key used again for another event: the same
    event sent again is dropped by JetStream (the engine would answer it as a replay), while a
    key used again for another event reaches a worker, which dead-letters it as the engine
    refuses it. Hashing keeps the header ASCII and free of the spaces a key may hold.
    """
    assert event.idempotency_key is not None
    parts = (learner_ref(event), event.idempotency_key, event.type.value, str(event.lesson_id))
    return hashlib.blake2b("\x00".join(parts).encode(), digest_size=16).hexdigest()
