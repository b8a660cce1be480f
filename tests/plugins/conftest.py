"""Engines for plugin tests: the sample course, the default rules and a plugin manager of choice."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine import Engine, UserProfile
from questline.engine.views import LessonView, UserView
from questline.plugins.manager import PluginManager
from questline.rules.loading import CATALOG_DIR

SAMPLE_COURSE = Path(__file__).parents[2] / "questline" / "engine" / "sample" / "course.yaml"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def course_engine(db: AsyncEngine, manager: PluginManager) -> Engine:
    """An engine on `db` with the sample course and the default rule catalog loaded."""
    engine = Engine(bind=db, plugin_manager=manager)
    await engine.load_content(SAMPLE_COURSE)
    await engine.load_rules([CATALOG_DIR])
    return engine


async def first_lesson(engine: Engine) -> LessonView:
    return (await engine.modules())[0].lessons[0]


async def register(engine: Engine, telegram_id: int = 4242) -> UserView:
    return await engine.register_user(UserProfile(telegram_id=telegram_id, first_name="Grace"))
