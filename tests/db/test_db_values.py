"""Values survive the round trip: enums, UTC timestamps, defaults (ORM and Core)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import InvalidRequestError, StatementError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import selectinload

from questline.engine.db import session_factory
from questline.engine.models import (
    Achievement,
    AchievementType,
    ActivityLog,
    ActivityType,
    Lesson,
    LessonChallenge,
    Module,
    ProgressStatus,
    User,
    UserAchievement,
    UserProgress,
)
from questline.engine.timestamps import NaiveDatetimeError


async def _user(session: AsyncSession, telegram_id: int = 1) -> User:
    user = User(telegram_id=telegram_id)
    session.add(user)
    await session.commit()
    return user


async def test_every_progress_status_round_trips(db: AsyncEngine) -> None:
    async with session_factory(db)() as session:
        user = await _user(session)
        module = Module(title="m", order=1)
        session.add(module)
        for i, status in enumerate(ProgressStatus):
            lesson = Lesson(module=module, title=f"l{i}", order=i)
            session.add(UserProgress(user=user, lesson=lesson, status=status))
        await session.commit()
    async with session_factory(db)() as session:
        rows = (await session.scalars(select(UserProgress).order_by(UserProgress.id))).all()
        assert [row.status for row in rows] == list(ProgressStatus)
        assert all(type(row.status) is ProgressStatus for row in rows)


async def test_every_achievement_type_round_trips(db: AsyncEngine) -> None:
    async with session_factory(db)() as session:
        session.add_all([Achievement(type=kind, title=kind.value) for kind in AchievementType])
        await session.commit()
    async with db.connect() as connection:
        raw = (await connection.execute(text("SELECT type FROM achievements ORDER BY id"))).all()
    assert [row[0] for row in raw] == [kind.value for kind in AchievementType]
    async with session_factory(db)() as session:
        kinds = (await session.scalars(select(Achievement.type).order_by(Achievement.id))).all()
    assert kinds == list(AchievementType)


async def test_every_activity_type_round_trips(db: AsyncEngine) -> None:
    async with session_factory(db)() as session:
        user = await _user(session)
        session.add_all([ActivityLog(user_id=user.id, activity_type=kind) for kind in ActivityType])
        await session.commit()
        kinds = (
            await session.scalars(select(ActivityLog.activity_type).order_by(ActivityLog.id))
        ).all()
    assert kinds == list(ActivityType)


async def test_unknown_enum_value_is_refused(session: AsyncSession) -> None:
    session.add(Achievement(type="NOT_A_TYPE", title="x"))
    with pytest.raises(StatementError):
        await session.commit()
    await session.rollback()


async def test_timestamps_set_on_insert_and_changed_on_update(session: AsyncSession) -> None:
    before = datetime.now(UTC)
    user = await _user(session)
    assert user.created_at.tzinfo is not None
    assert before - timedelta(seconds=1) <= user.created_at <= datetime.now(UTC)
    assert user.updated_at >= user.created_at
    created, updated = user.created_at, user.updated_at

    await asyncio.sleep(0.01)
    user.username = "renamed"
    await session.commit()
    await session.refresh(user)
    assert user.created_at == created
    assert user.updated_at > updated


async def test_core_insert_and_update_apply_python_defaults(db: AsyncEngine) -> None:
    async with db.begin() as connection:
        await connection.execute(insert(User), [{"telegram_id": 10}, {"telegram_id": 11}])
        await connection.execute(insert(Module).values(title="m", order=1))
        rows = (await connection.execute(select(User).order_by(User.telegram_id))).all()
        for row in rows:
            assert row.created_at is not None and row.created_at.tzinfo is not None
            assert row.is_active is True
        module = (await connection.execute(select(Module))).one()
        assert module.is_published is False
        first_update = rows[0].updated_at
        await asyncio.sleep(0.01)
        await connection.execute(update(User).where(User.telegram_id == 10).values(username="u"))
        changed = (await connection.execute(select(User).where(User.telegram_id == 10))).one()
        assert changed.updated_at > first_update


async def test_server_defaults_apply_to_raw_sql(db: AsyncEngine) -> None:
    now = datetime(2025, 1, 1, 12, 0, 0)
    async with db.begin() as connection:
        await connection.execute(
            text("INSERT INTO users (telegram_id, created_at, updated_at) VALUES (5, :t, :t)"),
            {"t": now},
        )
        await connection.execute(
            text("INSERT INTO achievements (type, title, created_at) VALUES ('STREAK', 'raw', :t)"),
            {"t": now},
        )
    async with session_factory(db)() as session:
        user = await session.scalar(select(User).where(User.telegram_id == 5))
        assert user.is_active is True
        achievement = await session.scalar(select(Achievement))
        assert achievement.points == 0 and achievement.enabled is True


async def test_utc_round_trip_converts_other_zones(session: AsyncSession) -> None:
    user = await _user(session)
    plus3 = timezone(timedelta(hours=3))
    moment = datetime(2024, 3, 31, 1, 30, 15, 123456, tzinfo=plus3)
    session.add(
        UserProgress(
            user=user,
            lesson=Lesson(module=Module(title="m", order=1), title="l", order=1),
            status=ProgressStatus.COMPLETED,
            started_at=moment,
            completed_at=moment + timedelta(minutes=5),
        )
    )
    await session.commit()
    session.expunge_all()
    row = await session.scalar(select(UserProgress))
    assert row.started_at == moment
    assert row.started_at.tzinfo == UTC
    assert row.started_at.hour == 22 and row.started_at.day == 30  # 01:30+03:00 = 22:30Z
    assert row.started_at.microsecond == 123456
    await session.commit()  # release SQLite's write lock before another connection reads
    async with session.bind.connect() as connection:
        raw = await connection.scalar(text("SELECT started_at FROM user_progress"))
    if isinstance(raw, str):  # SQLite stores text
        raw = datetime.fromisoformat(raw)
    assert raw.replace(tzinfo=None) == datetime(2024, 3, 30, 22, 30, 15, 123456)


async def test_naive_datetimes_are_refused(session: AsyncSession) -> None:
    user = await _user(session)
    session.add(
        ActivityLog(user_id=user.id, activity_type=ActivityType.LOGIN, created_at=datetime.now())
    )
    with pytest.raises(StatementError) as info:
        await session.commit()
    assert isinstance(info.value.orig, NaiveDatetimeError)
    await session.rollback()


async def test_relationship_loading(session: AsyncSession) -> None:
    user = await _user(session)
    module = Module(title="m", order=1)
    second = Lesson(module=module, title="second", order=2)
    first = Lesson(module=module, title="first", order=1)
    first.challenge = LessonChallenge(question="?", answers='["a"]')
    achievement = Achievement(type=AchievementType.MILESTONE, title="a")
    session.add_all([module, second, first, achievement])
    await session.flush()
    session.add(UserAchievement(user_id=user.id, achievement_id=achievement.id))
    await session.commit()
    session.expunge_all()

    loaded = await session.scalar(select(Module))
    assert [lesson.title for lesson in loaded.lessons] == ["first", "second"]  # selectin, ordered
    assert loaded.lessons[0].challenge.answers == '["a"]'
    assert loaded.lessons[1].challenge is None

    fresh = await session.scalar(select(User))
    with pytest.raises(InvalidRequestError, match=r"raise_on_sql|lazy"):
        _ = fresh.achievements  # no implicit lazy load under asyncio
    eager = await session.scalar(
        select(User)
        .options(selectinload(User.achievements))
        .execution_options(populate_existing=True)
    )
    assert [award.achievement.title for award in eager.achievements] == ["a"]
