"""GET /v1/awards/stream delivers awards as Server-Sent Events, fed by the award hook."""

from __future__ import annotations

import asyncio
import json

from httpx import AsyncClient

from questline.adapters.http.plugin import plugin
from questline.engine import Engine
from questline.engine.views import LessonView
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
    for _ in range(500):
        if streams.subscribers >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{streams.subscribers} of {count} streams subscribed")


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

    plugin.streams(engine).close()  # what a stopping server does
    response, filtered = await asyncio.wait_for(asyncio.gather(everyone, someone_else), 5)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response.text)
    assert [item["event"] for item in events] == ["award"] * len(awarded)
    first = json.loads(events[0]["data"])
    assert first["slug"] == awarded[0] and first["telegram_id"] == learner
    assert events[0]["id"] == f"{first['user_id']}:{first['slug']}"
    assert sse_events(filtered.text) == []
