"""The moments at which a rule is judged after the fact (backfill, preview).

A rule about the learner (`stats.*`, `streak.*`, …) is judged once, as of now. A rule that
reads a fact of the event (`event.*`, `lesson.*`, `module.*`) is judged against each stored
event that could have fired it, in the order they happened, never against an empty event.
The event's own facts are those of the stored event; facts about the learner are as of now.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from questline.engine.course import Course
from questline.engine.facts import FactContext
from questline.engine.learner import LearnerState
from questline.engine.models import ActivityLog
from questline.engine.timestamps import utcnow
from questline.engine.writes import ActivityRow
from questline.rules.evaluation import CompiledRule
from questline.rules.vocabulary import ActivityType


@dataclass(frozen=True)
class Moment:
    """A context to judge a rule in, and the stored activity it came from (None: now); an
    award granted there links to that activity."""

    context: FactContext
    activity: ActivityRow | None


def now(session: AsyncSession, course: Course, learner: LearnerState, zone: ZoneInfo) -> Moment:
    """Facts about the learner as of now, outside any event."""
    context = FactContext(
        session=session, learner=learner, course=course, zone=zone, moment=utcnow()
    )
    return Moment(context, None)


async def moments(
    session: AsyncSession,
    course: Course,
    learner: LearnerState,
    zone: ZoneInfo,
    rule: CompiledRule,
) -> AsyncIterator[Moment]:
    """Where `rule` is judged for `learner`: now, or at each stored event it could fire on."""
    if not rule.event_reads:
        yield now(session, course, learner, zone)
        return
    kinds = rule.affected_by - {ActivityType.ACHIEVEMENT_EARNED}
    rows = await session.execute(
        select(
            ActivityLog.id,
            ActivityLog.activity_type,
            ActivityLog.entity_id,
            ActivityLog.details,
            ActivityLog.created_at,
        )
        .where(ActivityLog.user_id == learner.user.id, ActivityLog.activity_type.in_(kinds))
        .order_by(ActivityLog.created_at, ActivityLog.id)
    )
    for activity_id, kind, entity_id, details, created_at in rows:
        yield Moment(
            _event_context(session, course, learner, zone, kind, entity_id, details, created_at),
            ActivityRow({}, id=activity_id),
        )


def _event_context(
    session: AsyncSession,
    course: Course,
    learner: LearnerState,
    zone: ZoneInfo,
    kind: ActivityType,
    entity_id: int | None,
    details: str | None,
    created_at: datetime,
) -> FactContext:
    """The facts context of a stored event; a lesson no longer in the course gives none."""
    lesson = course.lessons.get(entity_id) if entity_id is not None else None
    stored = json.loads(details) if details else None
    score = stored.get("score") if isinstance(stored, dict) else None
    return FactContext(
        session=session,
        learner=learner,
        course=course,
        zone=zone,
        moment=created_at,
        activity=kind,
        lesson=lesson,
        module=course.published_module_of(lesson) if lesson else None,
        score=score,
    )
