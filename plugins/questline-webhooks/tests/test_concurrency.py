"""Several dispatchers recording attempts for one endpoint at once.

Every attempt is recorded in one transaction that inserts a `webhook_deliveries` row (whose
foreign key makes MariaDB/MySQL share-lock the endpoint's row) and updates the endpoint's
failure count. While the update came after the insert, two such transactions each held the
shared lock, both wanted the exclusive one, and one failed with a deadlock (1213): the record
of a POST that had succeeded was lost, the message was POSTed again and the outbox counted a
failed attempt. The recording now locks the endpoint's row first. On SQLite every write
transaction takes the write lock when it begins, so these tests pass there either way.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid

import pymysql
import pytest
from questline_webhooks import store
from sqlalchemy.exc import OperationalError
from support import FAST, Receiver, complete_first_lesson, subscribe

from questline.engine import Engine
from questline.engine.dispatcher import Dispatcher

CONCURRENT = 12  # below the pool's 15 connections: every recording has its own
ROUNDS = 4
LEARNERS = 80


async def record(
    engine: Engine, endpoint: store.Endpoint, outcome: store.Outcome, message_id: str | None = None
) -> str:
    message_id = message_id or str(uuid.uuid4())
    await store.record_attempt(
        engine.db,
        endpoint,
        message_id=message_id,
        topic="award.granted",
        body="{}",
        outcome=outcome,
        max_failures=1_000_000,
    )
    return message_id


async def test_concurrent_successes_for_one_endpoint_are_all_recorded(
    engine: Engine, receiver: Receiver
) -> None:
    endpoint = await subscribe(engine, receiver)
    ok = store.Outcome(200, None, 5)
    recorded: list[str] = []
    for _ in range(ROUNDS):
        recorded += await asyncio.gather(*(record(engine, endpoint, ok) for _ in range(CONCURRENT)))

    attempts = await store.recent_deliveries(engine.db, endpoint_id=endpoint.id, limit=1000)
    assert sorted(a.message_id for a in attempts) == sorted(recorded)
    assert all(a.ok and a.attempt == 1 for a in attempts)
    assert (await store.get_endpoint(engine.db, endpoint.id)).failures == 0


async def test_concurrent_failures_for_one_endpoint_are_all_counted(
    engine: Engine, receiver: Receiver
) -> None:
    endpoint = await subscribe(engine, receiver)
    failed = store.Outcome(503, None, 5)
    recorded = await asyncio.gather(*(record(engine, endpoint, failed) for _ in range(CONCURRENT)))

    attempts = await store.recent_deliveries(engine.db, endpoint_id=endpoint.id, limit=1000)
    assert sorted(a.message_id for a in attempts) == sorted(recorded)
    after = await store.get_endpoint(engine.db, endpoint.id)
    assert (after.enabled, after.failures) == (True, CONCURRENT)  # no failure lost


async def test_concurrent_attempts_of_one_message_are_numbered_in_turn(
    engine: Engine, receiver: Receiver
) -> None:
    endpoint = await subscribe(engine, receiver)
    failed = store.Outcome(None, "ClientConnectorError: refused", 5)

    await asyncio.gather(
        *(record(engine, endpoint, failed, "one-message") for _ in range(CONCURRENT))
    )

    attempts = await store.recent_deliveries(engine.db, endpoint_id=endpoint.id, limit=1000)
    assert sorted(a.attempt for a in attempts) == list(range(1, CONCURRENT + 1))


async def test_three_dispatchers_at_once_post_each_message_once(
    engine: Engine, receiver: Receiver
) -> None:
    endpoint = await subscribe(engine, receiver, "award.granted", "event.recorded")
    for learner in range(LEARNERS):
        await complete_first_lesson(engine, 700 + learner)
    pending = (await engine.outbox_status())["pending"]
    assert pending >= 2 * LEARNERS  # an event.recorded and at least one award.granted each

    settings = dataclasses.replace(FAST, batch=4)  # small batches: all three get some

    async def dispatcher() -> None:
        while await Dispatcher(engine, settings).deliver_pending():
            pass

    await asyncio.gather(*(dispatcher() for _ in range(3)))

    assert await engine.outbox_status() == {"pending": 0, "done": pending, "dead": 0}
    entries = await engine.outbox_entries(limit=10_000)
    assert [(e.id, e.last_error) for e in entries if e.attempts or e.last_error] == []
    attempts = await store.recent_deliveries(engine.db, endpoint_id=endpoint.id, limit=10_000)
    assert [a for a in attempts if not a.ok] == []
    assert len(receiver.received) == len(receiver.ids()) == pending  # no message POSTed twice


async def test_a_deadlock_while_recording_runs_the_recording_again(
    engine: Engine,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    endpoint = await subscribe(engine, receiver)
    real = store._record_attempt
    calls = 0

    async def deadlocked_once(*args: object, **kwargs: object) -> str | None:
        nonlocal calls
        calls += 1
        if calls == 1:
            deadlock = pymysql.err.OperationalError(1213, "Deadlock found when trying to get lock")
            raise OperationalError("UPDATE webhook_endpoints", {}, deadlock)
        return await real(*args, **kwargs)

    monkeypatch.setattr(store, "_record_attempt", deadlocked_once)
    with caplog.at_level(logging.WARNING):
        message_id = await record(engine, endpoint, store.Outcome(200, None, 5))

    assert calls == 2
    [attempt] = await store.recent_deliveries(engine.db, endpoint_id=endpoint.id, limit=10)
    assert (attempt.message_id, attempt.attempt, attempt.ok) == (message_id, 1, True)
    assert "recording a webhook attempt retried after" in caplog.text


async def test_other_database_errors_are_not_retried(
    engine: Engine, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint = await subscribe(engine, receiver)
    calls = 0

    async def gone_away(*args: object, **kwargs: object) -> str | None:
        nonlocal calls
        calls += 1
        raise OperationalError("SELECT", {}, pymysql.err.OperationalError(2006, "gone away"))

    monkeypatch.setattr(store, "_record_attempt", gone_away)
    with pytest.raises(OperationalError):
        await record(engine, endpoint, store.Outcome(200, None, 5))
    assert calls == 1


async def test_an_attempt_for_an_endpoint_removed_meanwhile_is_not_recorded(
    engine: Engine, receiver: Receiver
) -> None:
    endpoint = await subscribe(engine, receiver)
    await store.remove_endpoint(engine.db, endpoint.id)

    disabled = await store.record_attempt(
        engine.db,
        endpoint,
        message_id="late",
        topic="award.granted",
        body="{}",
        outcome=store.Outcome(410, None, 5),
        max_failures=1,
    )

    assert disabled is None  # no foreign-key error: there is nothing to disable
    assert await store.recent_deliveries(engine.db, endpoint_id=endpoint.id, limit=10) == []
