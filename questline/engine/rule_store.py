"""Storing rule documents as achievement rows, idempotently by slug: the rule's own language in
the row, its other languages in ``achievement_translations``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from questline.engine.errors import RulesError
from questline.engine.models import Achievement, AchievementTranslation, UserAchievement
from questline.engine.translations import Texts, differs, replace, stored
from questline.rules.document import RuleDocument
from questline.rules.limits import MAX_POINTS_IN_ALL


@dataclass
class RulesReport:
    """What loading rule files changed, by slug."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    left_alone: list[str] = field(default_factory=list)
    """Enabled rules the files do not hold: still enabled, and still awarding."""


@dataclass(frozen=True)
class RulesDiff:
    """What loading rule files would change (`changes`, one per document), and the enabled
    rules they do not hold, which loading leaves alone (`left_alone`)."""

    changes: list[RuleChange]
    left_alone: list[str]


async def store_rules(session: AsyncSession, documents: Sequence[RuleDocument]) -> RulesReport:
    """Insert new rules and update changed ones; rules absent from `documents` are left alone."""
    await _points_fit(session, documents)
    report = RulesReport(left_alone=await _left_alone(session, documents))
    existing = await _existing(session, documents)
    translations = await stored(session, AchievementTranslation)
    for document in documents:
        values = _values(document)
        row = existing.get(document.slug)
        if row is None:
            row = Achievement(slug=document.slug, **values)
            session.add(row)
            await session.flush()
            await replace(session, AchievementTranslation, row.id, {}, _translations(document))
            report.created.append(document.slug)
            continue
        changed = [name for name, value in values.items() if getattr(row, name) != value]
        for name in changed:
            setattr(row, name, values[name])
        rows = translations.get(row.id, {})
        translated = await replace(
            session, AchievementTranslation, row.id, rows, _translations(document)
        )
        (report.updated if changed or translated else report.unchanged).append(document.slug)
    return report


async def _points_fit(session: AsyncSession, documents: Sequence[RuleDocument]) -> None:
    """RulesError if the stored rules, with `documents` replacing or joining them, would
    together give more than MAX_POINTS_IN_ALL points."""
    total = int(
        await session.scalar(
            select(func.coalesce(func.sum(Achievement.points), 0)).where(
                Achievement.slug.not_in([document.slug for document in documents])
            )
        )
    ) + sum(document.points for document in documents)
    if total > MAX_POINTS_IN_ALL:
        raise RulesError(
            f"the rules would give {total:,} points in all (every stored rule, disabled ones "
            f"too); the limit is {MAX_POINTS_IN_ALL:,}, so that a learner's total fits the "
            "32-bit score columns: lower some rules' points"
        )


@dataclass(frozen=True)
class RuleChange:
    """What loading one rule document would change, and for whom."""

    slug: str
    new: bool
    changed: tuple[str, ...]
    """The achievement's fields the document changes (none for a new or unchanged rule)."""
    holders: int
    """Learners who hold the achievement; they keep it whatever changes."""
    points_before: int | None
    points_after: int
    enabled: bool = True
    """Whether the document leaves the rule enabled (with `enabled` among `changed`: the
    rule is disabled, or enabled again)."""

    @property
    def points_per_holder(self) -> int:
        """How each holder's total moves (awards count at their achievement's points)."""
        return 0 if self.points_before is None else self.points_after - self.points_before


async def diff_rules(session: AsyncSession, documents: Sequence[RuleDocument]) -> RulesDiff:
    """What `store_rules(documents)` would change, writing nothing; RulesError if it would
    refuse them (their points with the stored rules' are over the limit)."""
    await _points_fit(session, documents)
    existing = await _existing(session, documents)
    translations = await stored(session, AchievementTranslation)
    holders = dict(
        (
            await session.execute(
                select(UserAchievement.achievement_id, func.count())
                .where(UserAchievement.achievement_id.in_([row.id for row in existing.values()]))
                .group_by(UserAchievement.achievement_id)
            )
        ).all()
    )
    changes = []
    for document in documents:
        row = existing.get(document.slug)
        if row is None:
            changes.append(
                RuleChange(document.slug, True, (), 0, None, document.points, document.enabled)
            )
            continue
        changed = tuple(
            name for name, value in _values(document).items() if getattr(row, name) != value
        )
        if differs(translations.get(row.id, {}), _translations(document)):
            changed += ("translations",)
        count = int(holders.get(row.id, 0))
        changes.append(
            RuleChange(
                document.slug, False, changed, count, row.points, document.points, document.enabled
            )
        )
    return RulesDiff(changes, await _left_alone(session, documents))


async def _left_alone(session: AsyncSession, documents: Sequence[RuleDocument]) -> list[str]:
    """The enabled stored rules `documents` do not hold, by slug."""
    slugs = await session.scalars(
        select(Achievement.slug)
        .where(Achievement.enabled.is_(True), Achievement.slug.not_in([d.slug for d in documents]))
        .order_by(Achievement.slug)
    )
    return [slug for slug in slugs if slug is not None]


async def _existing(
    session: AsyncSession, documents: Sequence[RuleDocument]
) -> dict[str, Achievement]:
    rows = await session.scalars(
        select(Achievement).where(Achievement.slug.in_([d.slug for d in documents]))
    )
    return {row.slug: row for row in rows if row.slug is not None}


def _translations(document: RuleDocument) -> Texts:
    """The achievement's texts in each language but the rule's own."""
    return {
        language: {
            "title": document.title_in(language),
            "description": document.description_in(language),
        }
        for language in document.languages[1:]
    }


def _values(document: RuleDocument) -> dict[str, object]:
    """The achievement row's fields a rule document sets (texts in the rule's own language)."""
    return {
        "type": document.type,
        "title": document.title_in(),
        "description": document.description_in(),
        "icon": document.icon,
        "points": document.points,
        "criteria": json.dumps(document.criteria, ensure_ascii=False, sort_keys=True),
        "enabled": document.enabled,
        "streak_freezes": document.streak_freezes,
    }
