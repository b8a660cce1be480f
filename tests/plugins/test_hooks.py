"""How the engine calls plugin hooks: awaited, isolated from failures, only after a commit.

Notifications leave through the outbox: an engine running a dispatcher delivers the entries it
commits right after the commit (tests/engine/test_outbox.py covers retries and crashes).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine import Engine, Event
from questline.engine.errors import UnknownLesson
from questline.engine.facade import EventRejected
from questline.engine.models import ActivityLog
from questline.engine.views import AwardView, RecordResult
from questline.plugins import hookimpl
from questline.plugins.manager import PluginManager, build_plugin_manager
from questline.rules.vocabulary import ActivityType

from .conftest import T0, course_engine, first_lesson, register


class AsyncRecorder:
    """Implements every engine hook as a coroutine and notes what it was told, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    @hookimpl
    async def questline_startup(self, engine: Engine) -> None:
        await asyncio.sleep(0)
        self.calls.append(("startup",))

    @hookimpl
    async def questline_shutdown(self, engine: Engine) -> None:
        await asyncio.sleep(0)
        self.calls.append(("shutdown",))

    @hookimpl
    async def questline_event_recorded(
        self, engine: Engine, event: Event, result: RecordResult
    ) -> None:
        await asyncio.sleep(0)
        self.calls.append(("event", event.type, result.activity_id, result.user_id))

    @hookimpl
    async def questline_award_granted(self, engine: Engine, award: AwardView) -> None:
        await asyncio.sleep(0)
        self.calls.append(("award", award.slug))


class Broken:
    """A plugin whose award notification always fails."""

    @hookimpl
    def questline_award_granted(self, engine: Engine, award: AwardView) -> None:
        raise RuntimeError("notification service is down")


@pytest.fixture
def recorder() -> AsyncRecorder:
    return AsyncRecorder()


@pytest.fixture
def manager(recorder: AsyncRecorder) -> PluginManager:
    manager = build_plugin_manager(load_entry_points=False, disabled=())
    manager.register(recorder, name="recorder")
    return manager


def at_nine(kind: ActivityType, user_id: int, **fields: Any) -> Event:
    """An event on a Monday at 09:00 UTC (no time-of-day achievement fires)."""
    return Event(type=kind, user_id=user_id, occurred_at=T0, **fields)


async def count_activities(db: AsyncEngine) -> int:
    async with db.connect() as connection:
        return (
            await connection.execute(select(func.count()).select_from(ActivityLog))
        ).scalar_one()


async def test_async_implementations_are_awaited_in_order(
    db: AsyncEngine, manager: PluginManager, recorder: AsyncRecorder
) -> None:
    engine = await course_engine(db, manager)
    await engine.startup()
    engine.start_dispatcher()
    user = await register(engine)
    lesson = await first_lesson(engine)

    result = await engine.record(
        at_nine(ActivityType.LESSON_COMPLETED, user.id, lesson_id=lesson.id, score=80)
    )
    await engine.shutdown()

    assert [award.slug for award in result.awards] == ["first-lesson"]
    assert recorder.calls == [
        ("startup",),
        ("event", ActivityType.LESSON_COMPLETED, result.activity_id, user.id),
        ("award", "first-lesson"),
        ("shutdown",),
    ]


async def test_record_many_notifies_every_event_after_its_chunk_commits(
    db: AsyncEngine, manager: PluginManager, recorder: AsyncRecorder
) -> None:
    engine = await course_engine(db, manager)
    engine.start_dispatcher()
    user = await register(engine)
    lesson = await first_lesson(engine)
    events = [  # a learner named by Telegram id: the hook learns their questline id
        Event(type=ActivityType.LOGIN, telegram_id=user.telegram_id, occurred_at=T0),
        at_nine(ActivityType.LESSON_COMPLETED, user.id, lesson_id=lesson.id, score=90),
    ]

    results = await engine.record_many(events, chunk_size=1)
    await engine.shutdown()

    assert recorder.calls == [
        ("event", ActivityType.LOGIN, results[0].activity_id, user.id),
        ("event", ActivityType.LESSON_COMPLETED, results[1].activity_id, user.id),
        ("award", "first-lesson"),
        ("shutdown",),
    ]


async def test_a_failing_notification_is_logged_and_the_award_stands(
    db: AsyncEngine,
    manager: PluginManager,
    recorder: AsyncRecorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    manager.register(Broken(), name="broken")
    engine = await course_engine(db, manager)
    engine.start_dispatcher()
    user = await register(engine)
    lesson = await first_lesson(engine)

    with caplog.at_level(logging.WARNING, logger="questline.engine.dispatcher"):
        result = await engine.record(
            at_nine(ActivityType.LESSON_COMPLETED, user.id, lesson_id=lesson.id)
        )
    await engine.shutdown()

    assert [award.slug for award in result.awards] == ["first-lesson"]
    assert ("award", "first-lesson") in recorder.calls  # the other plugin was still told
    assert "failed in plugin broken, attempt 1: notification service is down" in caplog.text
    assert await engine.outbox_status() == {"pending": 1, "done": 1, "dead": 0}
    earned = {
        status.slug for status in await engine.achievements(user_id=user.id) if status.earned_at
    }
    assert earned == {"first-lesson"}


async def test_replays_are_not_notified(
    db: AsyncEngine, manager: PluginManager, recorder: AsyncRecorder
) -> None:
    engine = await course_engine(db, manager)
    engine.start_dispatcher()
    user = await register(engine)
    lesson = await first_lesson(engine)
    event = at_nine(
        ActivityType.LESSON_COMPLETED, user.id, lesson_id=lesson.id, idempotency_key="complete-1"
    )

    first = await engine.record(event)
    again = await engine.record(event)
    await engine.shutdown()

    assert again.replayed and again.awards == first.awards
    assert recorder.calls == [
        ("event", ActivityType.LESSON_COMPLETED, first.activity_id, user.id),
        ("award", "first-lesson"),
        ("shutdown",),
    ]


async def test_nothing_is_notified_when_the_transaction_rolls_back(
    db: AsyncEngine, manager: PluginManager, recorder: AsyncRecorder
) -> None:
    engine = await course_engine(db, manager)
    engine.start_dispatcher()
    user = await register(engine)
    lesson = await first_lesson(engine)
    before = await count_activities(db)

    with pytest.raises(UnknownLesson):
        await engine.record(at_nine(ActivityType.LESSON_COMPLETED, user.id, lesson_id=999_999))
    with pytest.raises(EventRejected) as rejected:
        await engine.record_many(
            [
                at_nine(ActivityType.LESSON_COMPLETED, user.id, lesson_id=lesson.id),
                at_nine(ActivityType.LESSON_STARTED, user.id, lesson_id=999_999),
            ]
        )

    await engine.shutdown()
    assert rejected.value.index == 1
    assert recorder.calls == [("shutdown",)]
    assert await engine.outbox_status() == {"pending": 0, "done": 0, "dead": 0}
    assert await count_activities(db) == before


async def test_notifications_follow_pluggy_order() -> None:
    heard: list[str] = []

    class Named:
        def __init__(self, name: str) -> None:
            self.name = name

        @hookimpl
        def questline_shutdown(self, engine: Engine) -> None:
            heard.append(self.name)

    class Eager:
        @hookimpl(tryfirst=True)
        def questline_shutdown(self, engine: Engine) -> None:
            heard.append("eager")

    manager = build_plugin_manager(load_entry_points=False, disabled=())
    for plugin, name in ((Eager(), "eager"), (Named("older"), "older"), (Named("newer"), "newer")):
        manager.register(plugin, name=name)

    manager.hook.questline_shutdown(engine=None)
    await manager.anotify("questline_shutdown", engine=None)

    assert heard == ["eager", "newer", "older"] * 2
