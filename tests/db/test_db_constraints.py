"""NOT NULL, UNIQUE and FOREIGN KEY constraints hold in the database itself."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from questline.engine.models import (
    Achievement,
    AchievementType,
    ActivityLog,
    ActivityType,
    LeaderboardCache,
    Lesson,
    LessonChallenge,
    Module,
    ProgressStatus,
    User,
    UserAchievement,
    UserProgress,
)


async def _seed(session: AsyncSession) -> tuple[User, Lesson, Achievement]:
    user = User(telegram_id=1001, username="ada")
    module = Module(title="Basics", order=1)
    lesson = Lesson(module=module, title="Hello", order=1)
    achievement = Achievement(type=AchievementType.MILESTONE, title="First")
    session.add_all([user, module, lesson, achievement])
    await session.commit()
    return user, lesson, achievement


async def _expect_integrity_error(session: AsyncSession, *objects: object) -> None:
    session.add_all(objects)
    with pytest.raises(IntegrityError):
        await session.commit()
    await session.rollback()


async def test_duplicate_telegram_id(session: AsyncSession) -> None:
    session.add(User(telegram_id=42))
    await session.commit()
    await _expect_integrity_error(session, User(telegram_id=42))
    count = (await session.execute(select(User).where(User.telegram_id == 42))).all()
    assert len(count) == 1


async def test_duplicate_progress_for_user_and_lesson(session: AsyncSession) -> None:
    user, lesson, _ = await _seed(session)
    session.add(UserProgress(user_id=user.id, lesson_id=lesson.id, status=ProgressStatus.COMPLETED))
    await session.commit()
    await _expect_integrity_error(
        session,
        UserProgress(user_id=user.id, lesson_id=lesson.id, status=ProgressStatus.IN_PROGRESS),
    )


async def test_duplicate_award(session: AsyncSession) -> None:
    user, _, achievement = await _seed(session)
    session.add(UserAchievement(user_id=user.id, achievement_id=achievement.id))
    await session.commit()
    await _expect_integrity_error(
        session, UserAchievement(user_id=user.id, achievement_id=achievement.id)
    )


async def test_duplicate_leaderboard_row(session: AsyncSession) -> None:
    user, _, _ = await _seed(session)
    session.add(LeaderboardCache(user_id=user.id, rank=1))
    await session.commit()
    await _expect_integrity_error(session, LeaderboardCache(user_id=user.id, rank=2))


@pytest.mark.parametrize(
    ("model", "values"),
    [
        (User, {"telegram_id": None}),
        (Module, {"title": None, "order": 1}),
        (Module, {"title": "t", "order": None}),
        (Achievement, {"type": None, "title": "t"}),
        (Achievement, {"type": AchievementType.STREAK, "title": None}),
    ],
)
async def test_not_null(session: AsyncSession, model: type, values: dict) -> None:
    await _expect_integrity_error(session, model(**values))


async def test_not_null_via_core_insert(db: AsyncEngine) -> None:
    # An explicit NULL: MySQL reports an omitted NOT NULL column without default as
    # OperationalError 1364 (strict mode) rather than IntegrityError.
    async with db.connect() as connection:
        with pytest.raises(IntegrityError):
            await connection.execute(insert(Lesson).values(module_id=None, title="x", order=1))


@pytest.mark.parametrize(
    "make",
    [
        lambda: Lesson(module_id=999_999, title="x", order=1),
        lambda: UserProgress(user_id=999_999, lesson_id=999_999, status=ProgressStatus.COMPLETED),
        lambda: UserAchievement(user_id=999_999, achievement_id=999_999),
        lambda: LeaderboardCache(user_id=999_999, rank=1),
        lambda: ActivityLog(user_id=999_999, activity_type=ActivityType.LOGIN),
        lambda: LessonChallenge(lesson_id=999_999, question="?", answers="[]"),
    ],
)
async def test_foreign_keys_are_enforced(session: AsyncSession, make) -> None:
    await _expect_integrity_error(session, make())


async def test_deleting_a_referenced_user_fails(session: AsyncSession) -> None:
    user, _, _ = await _seed(session)
    session.add(ActivityLog(user_id=user.id, activity_type=ActivityType.LOGIN))
    await session.commit()
    with pytest.raises(IntegrityError):
        await session.execute(delete(User).where(User.id == user.id))
    await session.rollback()


# --- extensions -------------------------------------------------------------------------


async def test_achievement_slug_is_unique(session: AsyncSession) -> None:
    session.add(Achievement(type=AchievementType.STREAK, title="a", slug="streak-3"))
    await session.commit()
    await _expect_integrity_error(
        session, Achievement(type=AchievementType.STREAK, title="b", slug="streak-3")
    )
    # NULL slugs do not collide
    session.add_all([Achievement(type=AchievementType.STREAK, title=f"n{i}") for i in range(2)])
    await session.commit()


async def test_idempotency_key_unique_per_user(session: AsyncSession) -> None:
    user, _, _ = await _seed(session)
    other = User(telegram_id=2002)
    session.add(other)
    await session.commit()
    login = ActivityType.LOGIN
    session.add_all(
        [
            ActivityLog(user_id=user.id, activity_type=login, idempotency_key="k1"),
            ActivityLog(user_id=other.id, activity_type=login, idempotency_key="k1"),
            ActivityLog(user_id=user.id, activity_type=login),
            ActivityLog(user_id=user.id, activity_type=login),
        ]
    )
    await session.commit()
    user_id = user.id
    await _expect_integrity_error(
        session, ActivityLog(user_id=user_id, activity_type=login, idempotency_key="k1")
    )
    # keys are compared exactly, also on MySQL/MariaDB (binary collation)
    session.add(ActivityLog(user_id=user_id, activity_type=login, idempotency_key="K1"))
    await session.commit()


async def test_module_and_lesson_slugs(session: AsyncSession) -> None:
    m1 = Module(title="A", order=1, slug="a")
    m2 = Module(title="B", order=2, slug="b")
    session.add_all(
        [
            m1,
            m2,
            Lesson(module=m1, title="x", order=1, slug="intro"),
            Lesson(module=m2, title="y", order=1, slug="intro"),
        ]
    )
    await session.commit()
    m1_id = m1.id
    await _expect_integrity_error(session, Module(title="C", order=3, slug="a"))
    await _expect_integrity_error(
        session, Lesson(module_id=m1_id, title="z", order=2, slug="intro")
    )


async def test_award_activity_is_set_null_when_activity_deleted(session: AsyncSession) -> None:
    user, _, achievement = await _seed(session)
    activity = ActivityLog(user_id=user.id, activity_type=ActivityType.LESSON_COMPLETED)
    session.add(activity)
    await session.flush()
    award = UserAchievement(user_id=user.id, achievement_id=achievement.id, activity_id=activity.id)
    session.add(award)
    await session.commit()
    await session.execute(delete(ActivityLog).where(ActivityLog.id == activity.id))
    await session.commit()
    activity_id = await session.scalar(
        select(UserAchievement.activity_id).where(UserAchievement.id == award.id)
    )
    assert activity_id is None


async def test_one_challenge_per_lesson_and_cascade(session: AsyncSession) -> None:
    _, lesson, _ = await _seed(session)
    lesson_id = lesson.id
    session.add(LessonChallenge(lesson_id=lesson_id, question="2+2?", answers='["4"]', points=5))
    await session.commit()
    await _expect_integrity_error(
        session, LessonChallenge(lesson_id=lesson_id, question="again?", answers="[]")
    )
    session.expunge_all()
    await session.execute(delete(Lesson).where(Lesson.id == lesson_id))
    await session.commit()
    assert (await session.execute(select(LessonChallenge))).first() is None
