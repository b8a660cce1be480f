"""Stored translations: the rows of a module, lesson or achievement in languages other than
its document's own, kept equal to what the document gives (a language it no longer gives loses
its row)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from questline.engine.models import AchievementTranslation, LessonTranslation, ModuleTranslation

Translation = ModuleTranslation | LessonTranslation | AchievementTranslation
TranslationModel = type[ModuleTranslation] | type[LessonTranslation] | type[AchievementTranslation]

OWNERS: dict[TranslationModel, str] = {
    ModuleTranslation: "module_id",
    LessonTranslation: "lesson_id",
    AchievementTranslation: "achievement_id",
}
"""The column naming what each kind of translation translates."""

Texts = Mapping[str, Mapping[str, Any]]
"""Per language, the translated columns and their values."""


async def stored(session: AsyncSession, model: TranslationModel) -> dict[int, dict[str, Any]]:
    """Every row of `model`, by the id of what it translates, then by language."""
    found: dict[int, dict[str, Any]] = defaultdict(dict)
    for row in await session.scalars(select(model)):
        found[getattr(row, OWNERS[model])][row.language] = row
    return found


def differs(rows: Mapping[str, Any], wanted: Texts) -> bool:
    """Whether the stored `rows` (by language) differ from `wanted`."""
    return set(rows) != set(wanted) or any(
        getattr(rows[language], name) != value
        for language, values in wanted.items()
        for name, value in values.items()
    )


async def replace(
    session: AsyncSession,
    model: TranslationModel,
    owner_id: int,
    rows: Mapping[str, Any],
    wanted: Texts,
) -> bool:
    """Make `owner_id`'s translations (`rows`, by language) equal `wanted`; True if any
    row was added, changed or deleted."""
    if not differs(rows, wanted):
        return False
    for language, row in rows.items():
        if language not in wanted:
            await session.delete(row)
    for language, values in wanted.items():
        row = rows.get(language)
        if row is None:
            session.add(model(**{OWNERS[model]: owner_id, "language": language, **values}))
            continue
        for name, value in values.items():
            setattr(row, name, value)
    return True
