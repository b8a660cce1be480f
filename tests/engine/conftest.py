"""An Engine on the test database with the sample course and the default rule catalog."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine import Engine, UserProfile
from questline.engine.models import Base
from questline.engine.views import LessonView, UserView
from questline.plugins.manager import build_plugin_manager
from questline.rules.loading import CATALOG_DIR
from questline.rules.vocabulary import ActivityType as A

SAMPLE_COURSE = Path(__file__).parents[2] / "questline" / "engine" / "sample" / "course.yaml"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


async def make_engine(db: AsyncEngine, **options: object) -> Engine:
    engine = Engine(db, plugin_manager=build_plugin_manager(load_entry_points=False), **options)
    await engine.load_content(SAMPLE_COURSE)
    await engine.load_rules([CATALOG_DIR])
    await engine.startup()
    return engine


@pytest.fixture
async def engine(db: AsyncEngine) -> AsyncIterator[Engine]:
    engine = await make_engine(db)
    yield engine
    await engine.shutdown()


@pytest.fixture
async def learner(engine: Engine) -> UserView:
    return await engine.register_user(UserProfile(telegram_id=1001, first_name="Ada"))


@pytest.fixture
async def lessons(engine: Engine) -> list[LessonView]:
    """The published lessons of the sample course in course order."""
    return [lesson for module in await engine.modules() for lesson in module.lessons]


async def row_counts(db: AsyncEngine) -> dict[str, int]:
    """Rows per table: compare before and after to show that nothing was written."""
    async with db.connect() as connection:
        return {
            table.name: int(
                (await connection.execute(select(func.count()).select_from(table))).scalar_one()
            )
            for table in Base.metadata.sorted_tables
        }


CHALLENGE_KINDS = frozenset({A.CHALLENGE_ATTEMPTED, A.CHALLENGE_SOLVED})


def lesson_for(kind: A, index: int, lessons: list[LessonView]) -> LessonView:
    """The `index`-th lesson (wrapping) among those an event of `kind` can be about: a
    challenge event needs a lesson with a challenge."""
    fitting = [lesson for lesson in lessons if lesson.challenge or kind not in CHALLENGE_KINDS]
    return fitting[index % len(fitting)]


def caller_score(kind: A, score: int) -> int | None:
    """The score a caller sends: one for a completion; none for a solve (the course's points)."""
    return score if kind is A.LESSON_COMPLETED else None
