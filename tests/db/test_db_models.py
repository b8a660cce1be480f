"""The models' structure: tables, columns, defaults, enums and relationships."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import BigInteger, Boolean, Enum, Integer, String, Text, inspect
from sqlalchemy.orm import configure_mappers

from questline.engine import models
from questline.engine.models import (
    Achievement,
    ActivityLog,
    ApiKey,
    Base,
    LeaderboardCache,
    Lesson,
    LessonChallenge,
    Module,
    User,
    UserAchievement,
    UserProgress,
)
from questline.engine.timestamps import UTCDateTime
from tests.db import schema_spec as spec


def _kind(type_: Any) -> tuple[str, int | None]:
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
    if isinstance(type_, Text):
        return "text", None
    if isinstance(type_, String):
        return "str", type_.length
    return type(type_).__name__, None


def test_table_names() -> None:
    assert set(Base.metadata.tables) == set(spec.SEED_COLUMNS) | {"lesson_challenges", "api_keys"}
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
        assert _kind(column.type) == (kind, length), (table, name)
        assert column.nullable is nullable, (table, name)
        if (table, name) in spec.ENUM_COLUMNS:
            assert column.type.enum_class is spec.ENUM_COLUMNS[(table, name)]
    pk = [c.name for c in Base.metadata.tables[table].primary_key.columns]
    assert pk == ["id"]


def test_python_and_server_defaults() -> None:
    for (table, name), server_default in spec.SERVER_DEFAULTS.items():
        column = Base.metadata.tables[table].columns[name]
        assert column.server_default is not None
        assert str(column.server_default.arg) == server_default
        python_default = column.default.arg
        expected = bool(int(server_default)) if isinstance(column.type, Boolean) else 0
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
