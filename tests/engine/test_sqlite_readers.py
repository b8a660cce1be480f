"""On SQLite, what only reads never waits for another process's write transaction.

WAL lets readers read a snapshot while a writer works; the engine's reads start with a
deferred BEGIN, its writes with BEGIN IMMEDIATE (they still queue behind the writer).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine import Engine, Event, UserProfile
from questline.engine.db import create_engine, is_sqlite
from questline.engine.views import LessonView, UserView
from questline.rules.vocabulary import ActivityType as A
from tests.engine.conftest import T0, make_engine

BUSY_TIMEOUT_MS = 2_000
"""Long enough to tell waiting from not; a read that waited fails with "database is locked"."""


@pytest.fixture
def database_file(database_url: str) -> str:
    if not is_sqlite(database_url):
        pytest.skip("SQLite's write lock")
    return make_url(database_url).database or ""


@pytest.fixture
def another_writer(database_file: str) -> Iterator[sqlite3.Connection]:
    """Another process's write transaction, open (and holding the write lock) meanwhile."""
    holder = sqlite3.connect(database_file, isolation_level=None)
    try:
        yield holder
    finally:
        holder.close()


async def test_reads_answer_while_another_process_writes(
    db: AsyncEngine,
    database_url: str,
    another_writer: sqlite3.Connection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    setup = await make_engine(db)
    ada = await setup.register_user(UserProfile(telegram_id=1001, first_name="Ada"))
    lessons = [lesson for module in await setup.modules() for lesson in module.lessons]
    await _learn(setup, ada, lessons[0])
    counts = await setup.stats()
    await setup.shutdown()

    monkeypatch.setattr("questline.engine.db.SQLITE_BUSY_TIMEOUT_MS", BUSY_TIMEOUT_MS)
    bound = create_engine(database_url)
    engine = await make_engine(bound)
    try:
        another_writer.execute("BEGIN IMMEDIATE")
        another_writer.execute("DELETE FROM leaderboard_cache")  # not committed: not seen
        [entry] = await engine.top(3)
        assert entry.user_id == ada.id and entry.total_score > 0
        assert [e.user_id for e in await engine.around(user_id=ada.id)] == [ada.id]
        report = await engine.progress(user_id=ada.id)
        assert report.lessons_completed == 1
        assert any(status.earned_at for status in await engine.achievements(user_id=ada.id))
        assert await engine.stats() == counts
        assert await engine.find_user(telegram_id=ada.telegram_id) is not None
        assert await engine.recorded(telegram_id=ada.telegram_id, idempotency_key="start")
        assert (await engine.outbox_status())["pending"] >= 0
        await engine.activity_calendar(user_id=ada.id, at=T0)
        await engine.freezes(user_id=ada.id)
        await engine.daily_goal(user_id=ada.id, at=T0)
        await engine.reminder_settings(user_id=ada.id)
        await engine.conversation("telegram:1")
        await engine.reload()
    finally:
        another_writer.execute("ROLLBACK")
        await engine.shutdown()
        await bound.dispose()


async def _learn(engine: Engine, learner: UserView, lesson: LessonView) -> None:
    for key, kind, score in (
        ("start", A.LESSON_STARTED, None),
        ("done", A.LESSON_COMPLETED, 90),
    ):
        await engine.record(
            Event(
                type=kind,
                user_id=learner.id,
                lesson_id=lesson.id,
                score=score,
                occurred_at=T0,
                idempotency_key=key,
            )
        )
    await engine.record(Event(type=A.LOGIN, user_id=learner.id, occurred_at=T0))
