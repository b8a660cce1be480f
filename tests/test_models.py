"""The seed's model tests: structure, constraints, indexes and foreign keys.

Run as the schema document says, on SQLite by default or on MariaDB/MySQL:
``DATABASE_URL=mysql+aiomysql://… poetry run pytest tests/test_models.py tests/test_migrations.py``.
The expected schema is restated independently in ``tests/db/schema_spec.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import (
    BigInteger,
    Boolean,
    Enum,
    Integer,
    String,
    Text,
    delete,
    insert,
    inspect,
    select,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import configure_mappers
from sqlalchemy.types import DateTime

from questline.engine import models
from questline.engine.db import is_mysql
from questline.engine.idempotency import IdempotencyKey
from questline.engine.models import (
    Achievement,
    AchievementType,
    ActivityLog,
    ActivityType,
    ApiKey,
    Base,
    LeaderboardCache,
    LearnerDay,
    LearnerTotals,
    Lesson,
    LessonChallenge,
    Module,
    OutboxEntry,
    ProgressStatus,
    User,
    UserAchievement,
    UserProgress,
)
from questline.engine.timestamps import UTCDateTime
from tests.db import schema_spec as spec

# --- Structure: tables, columns, defaults, enums, naming and relationships (the models) ---


def _model_kind(type_: Any) -> tuple[str, int | None]:
    if isinstance(type_, Enum):
        return "enum", None
    if isinstance(type_, Boolean):
        return "bool", None
    if isinstance(type_, BigInteger):
        return "bigint", None
    if isinstance(type_, Integer):
        return "int", None
    if isinstance(type_, UTCDateTime):
        return "datetime", None
    if isinstance(type_, IdempotencyKey):
        return "key", type_.impl_instance.length
    if isinstance(type_, Text | mysql.MEDIUMTEXT):  # MySQL's MEDIUMTEXT is not a Text
        return "text", None
    if isinstance(type_, String):
        return "str", type_.length
    return type(type_).__name__, None


def test_table_names() -> None:
    assert set(Base.metadata.tables) == set(spec.SEED_COLUMNS) | spec.EXTENSION_TABLES
    classes = {
        User: "users",
        Module: "modules",
        Lesson: "lessons",
        UserProgress: "user_progress",
        Achievement: "achievements",
        UserAchievement: "user_achievements",
        LeaderboardCache: "leaderboard_cache",
        ActivityLog: "activity_log",
        LessonChallenge: "lesson_challenges",
        OutboxEntry: "outbox",
        LearnerTotals: "learner_totals",
        LearnerDay: "learner_days",
        ApiKey: "api_keys",
    }
    for cls, table in classes.items():
        assert cls.__tablename__ == table


@pytest.mark.parametrize("table", sorted(spec.all_columns()))
def test_columns(table: str) -> None:
    expected = spec.all_columns()[table]
    columns = Base.metadata.tables[table].columns
    assert set(columns.keys()) == set(expected)
    for name, (kind, length, nullable) in expected.items():
        column = columns[name]
        assert _model_kind(column.type) == (kind, length), (table, name)
        assert column.nullable is nullable, (table, name)
        if (table, name) in spec.ENUM_COLUMNS:
            assert column.type.enum_class is spec.ENUM_COLUMNS[(table, name)]
    pk = [c.name for c in Base.metadata.tables[table].primary_key.columns]
    assert pk == spec.primary_key(table)


def test_python_and_server_defaults() -> None:
    for (table, name), server_default in spec.SERVER_DEFAULTS.items():
        column = Base.metadata.tables[table].columns[name]
        assert column.server_default is not None
        assert str(column.server_default.arg) == server_default
        python_default = column.default.arg
        if isinstance(column.type, Boolean):
            expected: Any = bool(int(server_default))
        elif isinstance(column.type, Integer):
            expected = int(server_default)
        else:
            expected = server_default
        assert python_default == expected, (table, name)


def test_timestamp_columns_default_and_onupdate() -> None:
    for table in Base.metadata.tables.values():
        for column in table.columns:
            if column.name in ("created_at", "earned_at"):
                assert column.default is not None and column.onupdate is None, column
            if column.name == "updated_at":
                assert column.default is not None and column.onupdate is not None, column
            if column.name in ("started_at", "completed_at"):
                assert column.default is None and column.onupdate is None, column


def test_progress_status_enum() -> None:
    assert [m.value for m in models.ProgressStatus] == ["NOT_STARTED", "IN_PROGRESS", "COMPLETED"]


def test_naming_convention_names_everything() -> None:
    for table in Base.metadata.tables.values():
        for index in table.indexes:
            assert index.name.startswith(f"ix_{table.name}_"), index.name
        for constraint in table.constraints:
            assert constraint.name is not None, constraint
            assert len(constraint.name) <= 64


RELATIONSHIPS = {
    (User, "progress"): (UserProgress, True, "user"),
    (User, "achievements"): (UserAchievement, True, "user"),
    (User, "activities"): (ActivityLog, True, "user"),
    (User, "leaderboard_entry"): (LeaderboardCache, False, "user"),
    (Module, "lessons"): (Lesson, True, "module"),
    (Lesson, "module"): (Module, False, "lessons"),
    (Lesson, "progress"): (UserProgress, True, "lesson"),
    (Lesson, "challenge"): (LessonChallenge, False, "lesson"),
    (UserProgress, "user"): (User, False, "progress"),
    (UserProgress, "lesson"): (Lesson, False, "progress"),
    (Achievement, "user_achievements"): (UserAchievement, True, "achievement"),
    (UserAchievement, "user"): (User, False, "achievements"),
    (UserAchievement, "achievement"): (Achievement, False, "user_achievements"),
    (ActivityLog, "user"): (User, False, "activities"),
    (LessonChallenge, "lesson"): (Lesson, False, "challenge"),
    (LeaderboardCache, "user"): (User, False, "leaderboard_entry"),
}


def test_relationships() -> None:
    configure_mappers()
    for (cls, name), (target, uselist, back) in RELATIONSHIPS.items():
        rel = inspect(cls).relationships[name]
        assert rel.mapper.class_ is target, (cls, name)
        assert rel.uselist is uselist, (cls, name)
        assert rel.back_populates == back, (cls, name)
        # Never an implicit lazy load with SQL under asyncio.
        assert rel.lazy in ("raise", "raise_on_sql", "selectin", "joined"), (cls, name)


def test_ordered_collections() -> None:
    lessons = inspect(Module).relationships["lessons"]
    assert [c.name for c in lessons.order_by] == ["order", "id"]
    activities = inspect(User).relationships["activities"]
    assert [c.name for c in activities.order_by] == ["created_at", "id"]


# --- The live database after migrating to head: columns, single and composite indexes,
# unique constraints and foreign keys ---


def _live_kind(type_: Any) -> tuple[str, int | None]:
    if isinstance(type_, Enum):
        return "enum", None
    if isinstance(type_, Boolean) or (
        isinstance(type_, mysql.TINYINT) and type_.display_width == 1
    ):
        return "bool", None
    if isinstance(type_, BigInteger):
        return "bigint", None
    if isinstance(type_, Integer):
        return "int", None
    if isinstance(type_, DateTime):
        return "datetime", None
    if isinstance(type_, Text | mysql.MEDIUMTEXT):  # MySQL's MEDIUMTEXT is not a Text
        return "text", None
    if isinstance(type_, String):
        return "str", type_.length
    if isinstance(type_, mysql.VARBINARY):
        return "VARBINARY", type_.length
    return type(type_).__name__, None


def _snapshot(connection: Connection) -> dict[str, Any]:
    inspector = inspect(connection)
    tables = {}
    for table in inspector.get_table_names():
        tables[table] = {
            "columns": inspector.get_columns(table),
            "indexes": inspector.get_indexes(table),
            "uniques": inspector.get_unique_constraints(table),
            "foreign_keys": inspector.get_foreign_keys(table),
            "pk": inspector.get_pk_constraint(table),
        }
    return tables


@pytest.fixture
async def live(db: AsyncEngine) -> dict[str, Any]:
    async with db.connect() as connection:
        return await connection.run_sync(_snapshot)


async def test_tables_are_exactly_the_seed_tables_plus_extensions(live: dict[str, Any]) -> None:
    expected = set(spec.SEED_COLUMNS) | spec.EXTENSION_TABLES | {"alembic_version"}
    assert set(live) == expected


@pytest.mark.parametrize("table", sorted(spec.all_columns()))
async def test_columns_types_lengths_nullability(
    live: dict[str, Any], table: str, db: AsyncEngine
) -> None:
    expected = spec.all_columns()[table]
    columns = {column["name"]: column for column in live[table]["columns"]}
    assert set(columns) == set(expected)
    for name, (kind, length, nullable) in expected.items():
        column = columns[name]
        actual_kind, actual_length = _live_kind(column["type"])
        if kind == "enum" and not is_mysql(db):
            # SQLite has no ENUM: a VARCHAR as long as the longest member name.
            enum_class = spec.ENUM_COLUMNS[(table, name)]
            assert actual_kind == "str", (table, name, column["type"])
            assert actual_length == max(len(member.name) for member in enum_class)
        elif kind == "key":
            # exact keys: the UTF-8 bytes of `length` characters on MySQL/MariaDB, text on SQLite
            binary = ("VARBINARY", 4 * length)
            text = ("str", length)
            assert (actual_kind, actual_length) == (binary if is_mysql(db) else text), name
        else:
            assert actual_kind == kind, (table, name, column["type"])
            assert actual_length == length, (table, name)
        assert column["nullable"] is nullable, (table, name)
        if kind == "datetime" and is_mysql(db):
            assert column["type"].fsp == 6, (table, name)


async def test_mysql_enums_list_every_member(live: dict[str, Any], db: AsyncEngine) -> None:
    if not is_mysql(db):
        pytest.skip("native ENUM exists on MySQL/MariaDB only")
    for (table, name), enum_class in spec.ENUM_COLUMNS.items():
        column = next(c for c in live[table]["columns"] if c["name"] == name)
        assert list(column["type"].enums) == [member.value for member in enum_class]


async def test_server_defaults(live: dict[str, Any]) -> None:
    for table, data in live.items():
        for column in data["columns"]:
            default = column["default"]
            expected = spec.SERVER_DEFAULTS.get((table, column["name"]))
            if expected is None:
                assert default is None, (table, column["name"], default)
            else:
                assert default is not None, (table, column["name"])
                assert default.strip("'\"") == expected, (table, column["name"], default)


async def test_primary_keys_are_id_autoincrement(live: dict[str, Any]) -> None:
    for table, data in live.items():
        if table == "alembic_version":
            continue
        assert data["pk"]["constrained_columns"] == spec.primary_key(table), table
        assert data["pk"]["name"] in (f"pk_{table}", None, "PRIMARY"), table


async def test_every_index_exists_with_column_order(live: dict[str, Any], db: AsyncEngine) -> None:
    expected = {**spec.SEED_INDEXES, **spec.EXTENSION_INDEXES}
    actual: dict[str, tuple[str, tuple[str, ...]]] = {}
    implicit: dict[str, tuple[str, tuple[str, ...]]] = {}
    for table, data in live.items():
        unique_names = {u["name"] for u in data["uniques"]}
        fk_names = {fk["name"] for fk in data["foreign_keys"]}
        for index in data["indexes"]:
            if index["unique"] or index["name"] in unique_names:
                continue
            entry = (table, tuple(index["column_names"]))
            if index["name"] in fk_names:
                implicit[index["name"]] = entry  # InnoDB's own index for a foreign key
            else:
                actual[index["name"]] = entry
    assert actual == expected
    if not is_mysql(db):
        assert implicit == {}


async def test_unique_constraints_and_unique_indexes(live: dict[str, Any]) -> None:
    expected = spec.merged(spec.SEED_UNIQUES, spec.EXTENSION_UNIQUES)
    actual: dict[str, set[tuple[str, ...]]] = {}
    for table, data in live.items():
        if table == "alembic_version":
            continue
        found = {tuple(u["column_names"]) for u in data["uniques"]}
        found |= {tuple(i["column_names"]) for i in data["indexes"] if i["unique"]}
        if found:
            actual[table] = found
    assert actual == expected


async def test_foreign_keys(live: dict[str, Any]) -> None:
    expected = spec.merged(spec.SEED_FOREIGN_KEYS, spec.EXTENSION_FOREIGN_KEYS)
    actual: dict[str, set[tuple[tuple[str, ...], str, tuple[str, ...], str | None]]] = {}
    for table, data in live.items():
        for fk in data["foreign_keys"]:
            ondelete = (fk.get("options") or {}).get("ondelete")
            if ondelete is not None and ondelete.upper() in ("RESTRICT", "NO ACTION"):
                ondelete = None
            actual.setdefault(table, set()).add(
                (
                    tuple(fk["constrained_columns"]),
                    fk["referred_table"],
                    tuple(fk["referred_columns"]),
                    ondelete.upper() if ondelete else None,
                )
            )
    assert actual == expected


async def test_constraint_and_index_names_fit_mysql_limit(live: dict[str, Any]) -> None:
    for data in live.values():
        names = [i["name"] for i in data["indexes"]]
        names += [u["name"] for u in data["uniques"]]
        names += [fk["name"] for fk in data["foreign_keys"]]
        for name in names:
            if name is not None:
                assert len(name) <= 64, name


# --- Constraints held by the database itself: NOT NULL, UNIQUE and FOREIGN KEY ---


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
