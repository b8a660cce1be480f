"""Deliveries to a real receiver on 127.0.0.1: retries, outages, timeouts, 410 Gone, replays."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from questline_webhooks import store
from sqlalchemy import text
from support import (
    SAMPLE_COURSE,
    Answer,
    Receiver,
    complete_first_lesson,
    drain,
    run_cli,
    subscribe,
)

from questline.engine import Engine
from questline.engine.db import create_engine
from questline.engine.migrate import upgrade_database
from questline.plugins.manager import build_plugin_manager
from questline.rules.loading import CATALOG_DIR


def award_messages(receiver: Receiver) -> list[dict]:
    return [item.message for item in receiver.received if item.message["type"] == "award.granted"]


async def test_an_award_is_posted_signed_once_the_receiver_answers_200(
    engine: Engine, receiver: Receiver
) -> None:
    endpoint = await subscribe(engine, receiver)
    receiver.script.extend([Answer(500), Answer(500)])
    await complete_first_lesson(engine, 101)

    status = await drain(engine)

    assert status == {"pending": 0, "done": 2, "dead": 0}  # event.recorded + award.granted
    assert len(receiver.received) == 3
    assert all(item.verified for item in receiver.received)
    assert len(receiver.ids()) == 1  # every retry carries the same webhook-id
    assert [item.replay for item in receiver.received] == [False, True, True]
    message = receiver.received[-1].message
    assert message["data"]["slug"] == "first-lesson" and message["data"]["points"] == 10
    attempts = await store.recent_deliveries(engine.db, endpoint_id=endpoint.id, limit=10)
    assert [(a.attempt, a.status_code, a.ok) for a in reversed(attempts)] == [
        (1, 500, False),
        (2, 500, False),
        (3, 200, True),
    ]
    assert (await store.get_endpoint(engine.db, endpoint.id)).failures == 0


async def test_a_receiver_that_is_down_gets_the_award_when_it_comes_back(engine: Engine) -> None:
    receiver = Receiver()
    await receiver.start()
    port = receiver.port
    endpoint = await subscribe(engine, receiver)
    await receiver.stop()
    await complete_first_lesson(engine, 102)

    await engine.deliver_outbox()
    attempts = await store.recent_deliveries(engine.db, endpoint_id=endpoint.id, limit=10)
    assert attempts and attempts[0].status_code is None
    assert "Connect" in (attempts[0].error or "")
    assert (await engine.outbox_status())["pending"] == 1

    await receiver.start(port)
    try:
        status = await drain(engine)
    finally:
        await receiver.stop()
    assert status["pending"] == 0
    assert [m["data"]["slug"] for m in award_messages(receiver)] == ["first-lesson"]


async def test_a_slow_receiver_times_out_and_is_retried(
    engine: Engine, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUESTLINE_WEBHOOKS_TIMEOUT", "0.3")
    endpoint = await subscribe(engine, receiver)
    receiver.script.append(Answer(200, delay=2.0))
    await complete_first_lesson(engine, 103)

    assert (await drain(engine))["pending"] == 0

    attempts = await store.recent_deliveries(engine.db, endpoint_id=endpoint.id, limit=10)
    assert [a.error for a in reversed(attempts)] == ["timed out after 0.3s", None]
    assert len(receiver.received) == 2 and len(receiver.ids()) == 1


async def test_410_gone_disables_the_endpoint(engine: Engine, receiver: Receiver) -> None:
    endpoint = await subscribe(engine, receiver)
    receiver.script.append(Answer(410))
    await complete_first_lesson(engine, 104)

    assert await drain(engine) == {"pending": 0, "done": 2, "dead": 0}
    disabled = await store.get_endpoint(engine.db, endpoint.id)
    assert not disabled.enabled
    assert disabled.disabled_reason == "the receiver answered 410 Gone"

    await complete_first_lesson(engine, 105)
    await drain(engine)
    assert len(receiver.received) == 1  # nothing more is sent to a disabled endpoint


async def test_an_endpoint_failing_again_and_again_is_disabled(
    engine: Engine, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUESTLINE_WEBHOOKS_MAX_FAILURES", "3")
    endpoint = await subscribe(engine, receiver)
    receiver.script.extend([Answer(503)] * 5)
    await complete_first_lesson(engine, 106)

    assert (await drain(engine))["pending"] == 0

    disabled = await store.get_endpoint(engine.db, endpoint.id)
    assert (disabled.enabled, disabled.failures) == (False, 3)
    assert disabled.disabled_reason == "3 failed deliveries in a row (last: HTTP 503)"
    assert len(receiver.received) == 3


async def test_an_endpoint_that_accepted_is_not_posted_again_when_another_fails(
    engine: Engine, receiver: Receiver
) -> None:
    flaky = Receiver()
    await flaky.start()
    try:
        await subscribe(engine, receiver)
        await subscribe(engine, flaky)
        flaky.script.append(Answer(500))
        await complete_first_lesson(engine, 107)
        assert (await drain(engine))["pending"] == 0
    finally:
        await flaky.stop()
    assert len(receiver.received) == 1
    assert len(flaky.received) == 2
    assert receiver.ids() == flaky.ids()


async def test_a_redelivery_is_a_replay_the_receiver_detects_by_webhook_id(
    engine: Engine, receiver: Receiver, cli_env: dict[str, str]
) -> None:
    endpoint = await subscribe(engine, receiver)
    await complete_first_lesson(engine, 108)
    await drain(engine)
    [first] = await store.recent_deliveries(engine.db, endpoint_id=endpoint.id, limit=10)

    code, out, err = await run_cli(cli_env, "webhooks", "redeliver", str(first.id))

    assert (code, err) == (0, "")
    assert out == f"delivery {first.id} sent again: HTTP 200\n"
    assert [(item.verified, item.replay) for item in receiver.received] == [
        (True, False),
        (True, True),
    ]
    assert receiver.received[0].message == receiver.received[1].message
    attempts = await store.recent_deliveries(engine.db, endpoint_id=endpoint.id, limit=10)
    assert [a.attempt for a in attempts] == [2, 1]


async def test_event_subscribers_get_every_recorded_event(
    engine: Engine, receiver: Receiver
) -> None:
    await subscribe(engine, receiver, "event.recorded")
    await complete_first_lesson(engine, 109)
    await drain(engine)

    [item] = receiver.received
    assert item.message["type"] == "event.recorded"
    assert item.message["data"]["event"]["type"] == "LESSON_COMPLETED"
    assert [award["slug"] for award in item.message["data"]["awards"]] == ["first-lesson"]
    learner = await engine.find_user(telegram_id=109)
    assert item.message["data"]["user_id"] == learner.id


async def test_the_secret_is_never_logged(
    engine: Engine, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    endpoint = await subscribe(engine, receiver)
    receiver.script.extend([Answer(500), Answer(410)])
    with caplog.at_level(logging.DEBUG):
        await complete_first_lesson(engine, 110)
        await drain(engine)
    assert "endpoint 1" in caplog.text or f"endpoint {endpoint.id}" in caplog.text
    assert endpoint.secret not in caplog.text
    assert endpoint.secret.removeprefix("whsec_") not in caplog.text


async def test_an_award_right_after_the_first_add_is_delivered(
    receiver: Receiver, tmp_path: Path
) -> None:
    """A dispatcher that found no tables remembered it for 10 s: an award recorded in that
    time after `webhooks add` created them was marked done unsent."""
    db = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")
    other = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")  # `webhooks add`
    await upgrade_database(db)
    engine = Engine(db, plugin_manager=build_plugin_manager(disabled={"telegram"}))
    try:
        await engine.load_content(SAMPLE_COURSE)
        await engine.load_rules([CATALOG_DIR])
        await engine.startup()
        await complete_first_lesson(engine, 201)
        assert await drain(engine) == {"pending": 0, "done": 2, "dead": 0}  # no tables: none
        await store.ensure_schema(other)
        receiver.secret = (await store.add_endpoint(other, receiver.url, ["award.granted"])).secret
        await complete_first_lesson(engine, 202)
        await drain(engine)
    finally:
        await engine.shutdown()
        await other.dispose()
    assert [m["data"]["telegram_id"] for m in award_messages(receiver)] == [202]


@pytest.mark.mysql_only
async def test_a_message_over_64_kib_is_posted_once(
    engine: Engine, receiver: Receiver, tmp_path: Path
) -> None:
    """MariaDB's TEXT took 65,535 bytes: the POST went, recording it failed, and the outbox
    posted it again at every attempt."""
    rule = {"type": "LESSON_COMPLETED", "title": "Long", "points": 1, "criteria": True}
    long = [{**rule, "slug": f"long-{n}", "description": "x" * 40_000} for n in range(2)]
    (tmp_path / "long.json").write_text(json.dumps(long))
    await engine.load_rules([tmp_path / "long.json"])
    endpoint = await subscribe(engine, receiver, "event.recorded")
    await complete_first_lesson(engine, 203)
    assert (await drain(engine))["dead"] == 0
    [message] = receiver.received
    assert len(json.dumps(message.message).encode()) > 65_535
    [attempt] = await store.recent_deliveries(engine.db, endpoint_id=endpoint.id, limit=10)
    assert attempt.ok


@pytest.mark.mysql_only
async def test_a_body_column_an_earlier_version_made_is_widened(engine: Engine) -> None:
    """By the delivering process too: only the `webhooks` commands widened it, and until one
    ran every attempt posted a large message again."""
    async with engine.db.begin() as connection:
        await connection.execute(text("ALTER TABLE webhook_deliveries MODIFY body TEXT NOT NULL"))
    store._present.discard(id(engine.db))
    assert await store.has_schema(engine.db)  # what a dispatcher asks, never ensure_schema
    async with engine.db.connect() as connection:
        kind = await connection.scalar(
            text(
                "SELECT data_type FROM information_schema.columns WHERE table_schema = "
                "DATABASE() AND table_name = 'webhook_deliveries' AND column_name = 'body'"
            )
        )
    assert kind == "mediumtext"
