"""GET /v1/awards/stream delivers awards as Server-Sent Events, read from the outbox: those
this server grants, and those any other process on the database grants."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from httpx import AsyncClient
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from questline.adapters.http.plugin import plugin
from questline.adapters.http.streams import POLL_SECONDS
from questline.engine import Engine, Event
from questline.engine.models import OutboxEntry
from questline.engine.outbox import AWARD_GRANTED, award_data
from questline.engine.views import AwardView, LessonView
from questline.plugins import hookimpl
from questline.rules.vocabulary import ActivityType
from tests.engine.conftest import make_engine
from tests.http.conftest import Keys, bearer


def sse_events(text: str) -> list[dict[str, str]]:
    """The events of an SSE body (comment lines, such as keep-alives, are skipped)."""
    events = []
    for block in text.split("\n\n"):
        fields = {}
        for line in block.splitlines():
            if line and not line.startswith(":"):
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
        if fields:
            events.append(fields)
    return events


async def subscribed(engine: Engine, count: int) -> None:
    streams = plugin.streams(engine)
    await until(
        lambda: streams.subscribers >= count,
        lambda: f"{streams.subscribers} of {count} streams subscribed",
    )


async def read_up_to_now(engine: Engine) -> None:
    """Wait until the streams have read every outbox entry written so far."""
    await read_up_to(engine, await engine.outbox_last_id())


async def read_up_to(engine: Engine, entry: int) -> None:
    streams = plugin.streams(engine)
    await until(
        lambda: streams.cursor >= entry,
        lambda: f"the streams read up to entry {streams.cursor}, not {entry}",
    )


async def until(holds: Callable[[], bool], failure: Callable[[], str]) -> None:
    """Wait (up to 10 s) until `holds()`; fail with `failure()` otherwise."""
    for _ in range(1000):
        if holds():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(failure())


async def test_stream_delivers_an_award_then_ends_on_shutdown(
    client: AsyncClient, engine: Engine, keys: Keys, learner: int, lessons: list[LessonView]
) -> None:
    engine.start_dispatcher()  # as `questline serve` does: awards leave through the outbox
    everyone = asyncio.create_task(client.get("/v1/awards/stream", headers=bearer(keys.reader)))
    someone_else = asyncio.create_task(
        client.get("/v1/awards/stream?telegram_id=5", headers=bearer(keys.reader))
    )
    await subscribed(engine, 2)
    event = {"type": "LESSON_COMPLETED", "telegram_id": learner, "lesson_id": lessons[0].id}
    recorded = await client.post("/v1/events", json=event, headers=bearer(keys.writer))
    awarded = [award["slug"] for award in recorded.json()["awards"]]
    assert "first-lesson" in awarded

    await read_up_to_now(engine)
    plugin.streams(engine).close()  # what a stopping server does
    response, filtered = await asyncio.wait_for(asyncio.gather(everyone, someone_else), 5)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response.text)
    assert [item["event"] for item in events] == ["award"] * len(awarded), events
    first = json.loads(events[0]["data"])
    assert first["slug"] == awarded[0] and first["telegram_id"] == learner
    assert events[0]["id"] == f"{first['user_id']}:{first['slug']}"
    assert sse_events(filtered.text) == []


async def test_stream_shows_awards_another_process_grants(
    client: AsyncClient, engine: Engine, db: AsyncEngine, keys: Keys, learner: int
) -> None:
    """Another server, a NATS worker or the command line on the same database: its awards
    are delivered by its own dispatcher, never by this server's award hook (they were lost)."""
    other = await make_engine(db)
    other.plugins.register(WakesNobody())  # a plugin there listens: its awards are announced
    try:
        stream = asyncio.create_task(client.get("/v1/awards/stream", headers=bearer(keys.reader)))
        await subscribed(engine, 1)
        [lesson, *_] = [lesson for module in await other.modules() for lesson in module.lessons]
        result = await other.record(
            Event(type=ActivityType.LESSON_COMPLETED, telegram_id=learner, lesson_id=lesson.id)
        )
        assert result.awards
        await asyncio.sleep(2 * POLL_SECONDS)  # read on the feed's own schedule, unwoken
        await read_up_to_now(engine)
        plugin.streams(engine).close()
        response = await asyncio.wait_for(stream, 5)
    finally:
        await other.shutdown()
    shown = [json.loads(event["data"])["slug"] for event in sse_events(response.text)]
    assert shown == [award.slug for award in result.awards]


class WakesNobody:
    @hookimpl
    def questline_award_granted(self) -> None:
        """Listens, as every process's plugins do, so the award is written to the outbox."""


@pytest.mark.mysql_only
async def test_an_award_committed_after_a_later_one_is_not_passed_over(
    client: AsyncClient, engine: Engine, db: AsyncEngine, keys: Keys
) -> None:
    """MariaDB: ids are taken at insert, so an entry can commit after one with a higher id
    that the stream has already read."""
    stream = asyncio.create_task(client.get("/v1/awards/stream", headers=bearer(keys.reader)))
    await subscribed(engine, 1)
    sessions = async_sessionmaker(db, expire_on_commit=False)
    async with sessions() as slow, sessions() as fast:
        slow.add(award_entry("slow"))
        await slow.flush()  # takes the lower id, not committed yet
        later = award_entry("fast")
        fast.add(later)
        await fast.commit()
        await read_up_to(engine, later.id)  # the stream read "fast", passing "slow"'s id
        await slow.commit()
    await asyncio.sleep(2 * POLL_SECONDS)
    await read_up_to_now(engine)
    plugin.streams(engine).close()
    response = await asyncio.wait_for(stream, 5)
    shown = [json.loads(event["data"])["slug"] for event in sse_events(response.text)]
    assert shown == ["fast", "slow"]


def award_entry(slug: str, telegram_id: int = 1) -> OutboxEntry:
    award = AwardView(slug, slug.title(), None, None, 1, datetime.now(UTC), 1, telegram_id)
    return OutboxEntry(
        dedupe_id=str(uuid.uuid4()),
        topic=AWARD_GRANTED,
        user_id=None,
        payload=json.dumps(award_data(award)),
    )


async def test_a_burst_of_awards_reaches_every_stream_whole(
    client: AsyncClient, engine: Engine, db: AsyncEngine, keys: Keys
) -> None:
    """More awards in one read than a stream's buffer held (256): every stream lost the
    oldest, however fast it read, and a filtered stream lost its learner's."""
    everyone = asyncio.create_task(client.get("/v1/awards/stream", headers=bearer(keys.reader)))
    one = asyncio.create_task(
        client.get("/v1/awards/stream?telegram_id=7", headers=bearer(keys.reader))
    )
    await subscribed(engine, 2)
    sessions = async_sessionmaker(db)
    async with sessions() as session:
        session.add_all(award_entry(f"award-{n}", telegram_id=n % 100) for n in range(600))
        await session.commit()
    await read_up_to_now(engine)
    plugin.streams(engine).close()
    shown, filtered = await asyncio.wait_for(asyncio.gather(everyone, one), 5)
    assert len(sse_events(shown.text)) == 600
    slugs = [json.loads(event["data"])["slug"] for event in sse_events(filtered.text)]
    assert slugs == [f"award-{n}" for n in range(7, 600, 100)]


async def test_a_stream_opened_while_the_database_is_away_is_a_503(
    client: AsyncClient, engine: Engine, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It was a 200 that ended at once, with a traceback in the log."""

    async def away() -> int:
        raise OperationalError("SELECT", {}, TimeoutError("gone"), connection_invalidated=True)

    monkeypatch.setattr(engine, "outbox_last_id", away)
    response = await client.get("/v1/awards/stream", headers=bearer(keys.reader))
    assert response.status_code == 503
    assert response.json()["type"].endswith("database-unavailable")
    assert plugin.streams(engine).subscribers == 0
