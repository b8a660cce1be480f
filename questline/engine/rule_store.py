"""Storing rule documents as achievement rows, idempotently by slug."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from questline.engine.models import Achievement
from questline.rules.document import RuleDocument


@dataclass
class RulesReport:
    """What loading rule files changed, by slug."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


async def store_rules(session: AsyncSession, documents: Sequence[RuleDocument]) -> RulesReport:
    """Insert new rules and update changed ones; rules absent from `documents` are left alone."""
    report = RulesReport()
    existing = {
        row.slug: row
        for row in await session.scalars(
            select(Achievement).where(Achievement.slug.in_([d.slug for d in documents]))
        )
    }
    for document in documents:
        values = {
            "type": document.type,
            "title": document.title,
            "description": document.description,
            "icon": document.icon,
            "points": document.points,
            "criteria": json.dumps(document.criteria, ensure_ascii=False, sort_keys=True),
            "enabled": document.enabled,
        }
        row = existing.get(document.slug)
        if row is None:
            session.add(Achievement(slug=document.slug, **values))
            report.created.append(document.slug)
            continue
        changed = [name for name, value in values.items() if getattr(row, name) != value]
        for name in changed:
            setattr(row, name, values[name])
        (report.updated if changed else report.unchanged).append(document.slug)
    return report
