"""The built-in fact providers (user, event, stats, streak, module, lesson), as a plugin."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import distinct, func, select

from questline.engine.facts.provider import FactContext, FactProvider
from questline.engine.models import (
    Achievement,
    ActivityLog,
    ProgressStatus,
    UserAchievement,
    UserProgress,
)
from questline.engine.streaks import local_dates, streak_on
from questline.plugins import hookimpl
from questline.rules.facts import FactSpec, default_catalog
from questline.rules.vocabulary import ActivityType

LEARNING_ACTIVITIES = frozenset({ActivityType.LESSON_COMPLETED, ActivityType.CHALLENGE_SOLVED})


@dataclass(frozen=True)
class LessonState:
    status: ProgressStatus
    score: int | None
    attempts: int


async def progress_rows(context: FactContext) -> dict[int, LessonState]:
    """The learner's user_progress rows by lesson id (one query per facts document)."""
    if "progress" not in context.memo:
        rows = await context.session.execute(
            select(
                UserProgress.lesson_id,
                UserProgress.status,
                UserProgress.score,
                UserProgress.attempts,
            ).where(UserProgress.user_id == context.user.id)
        )
        context.memo["progress"] = {
            lesson_id: LessonState(status, score, attempts)
            for lesson_id, status, score, attempts in rows
        }
    return context.memo["progress"]


async def activity_moments(context: FactContext) -> list[tuple[ActivityType, datetime]]:
    """(type, time) of the learner's activities up to the context's moment, awards excluded."""
    if "moments" not in context.memo:
        rows = await context.session.execute(
            select(ActivityLog.activity_type, ActivityLog.created_at).where(
                ActivityLog.user_id == context.user.id,
                ActivityLog.activity_type != ActivityType.ACHIEVEMENT_EARNED,
                ActivityLog.created_at <= context.moment,
            )
        )
        context.memo["moments"] = [(kind, moment) for kind, moment in rows]
    return context.memo["moments"]


def completed_lessons(rows: dict[int, LessonState]) -> set[int]:
    return {lesson_id for lesson_id, row in rows.items() if row.status is ProgressStatus.COMPLETED}


class _Builtin:
    """A provider whose catalog entries are the built-in ones of its namespace."""

    namespace: str

    def specs(self) -> Iterable[FactSpec]:
        return default_catalog().in_namespace(self.namespace)


class UserFacts(_Builtin):
    namespace = "user"

    async def provide(self, context: FactContext, names: frozenset[str]) -> dict[str, Any]:
        user = context.user
        return {
            "id": user.id,
            "telegram_id": user.telegram_id,
            "username": user.username,
            "language_code": user.language_code,
            "days_since_joined": max((context.moment - user.created_at).days, 0),
        }


class EventFacts(_Builtin):
    namespace = "event"

    async def provide(self, context: FactContext, names: frozenset[str]) -> dict[str, Any]:
        local = context.moment.astimezone(context.zone)
        lesson = context.lesson
        return {
            "type": context.activity.value if context.activity else None,
            "entity_id": lesson.id if lesson else None,
            "entity_type": "lesson" if lesson else None,
            "score": context.score,
            "local_hour": local.hour,
            "local_weekday": local.isoweekday(),
        }


class StatsFacts(_Builtin):
    namespace = "stats"

    async def provide(self, context: FactContext, names: frozenset[str]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        if names & {"lessons_started", "lessons_completed", "modules_completed", "total_score"}:
            rows = await progress_rows(context)
            completed = completed_lessons(rows)
            values["lessons_started"] = len(rows)
            values["lessons_completed"] = len(completed)
            values["modules_completed"] = sum(
                1
                for module in context.course.published_modules()
                if module.lessons and all(lesson.id in completed for lesson in module.lessons)
            )
            values["lesson_scores"] = sum(row.score or 0 for row in rows.values())
        if names & {"challenges_attempted", "challenges_solved", "logins"}:
            values.update(await self._activity_counts(context))
        if names & {"achievements_count", "points", "total_score"}:
            count, points = (
                await context.session.execute(
                    select(func.count(), func.coalesce(func.sum(Achievement.points), 0))
                    .select_from(UserAchievement)
                    .join(Achievement, Achievement.id == UserAchievement.achievement_id)
                    .where(UserAchievement.user_id == context.user.id)
                )
            ).one()
            values["achievements_count"], values["points"] = int(count), int(points)
        if "total_score" in names:
            values["total_score"] = values["lesson_scores"] + values["points"]
        values.pop("lesson_scores", None)
        if "days_active" in names:
            moments = [moment for _, moment in await activity_moments(context)]
            values["days_active"] = len(local_dates(moments, context.zone))
        return values

    @staticmethod
    async def _activity_counts(context: FactContext) -> dict[str, int]:
        rows = await context.session.execute(
            select(
                ActivityLog.activity_type, func.count(), func.count(distinct(ActivityLog.entity_id))
            )
            .where(
                ActivityLog.user_id == context.user.id,
                ActivityLog.activity_type.in_(
                    [
                        ActivityType.CHALLENGE_ATTEMPTED,
                        ActivityType.CHALLENGE_SOLVED,
                        ActivityType.LOGIN,
                    ]
                ),
            )
            .group_by(ActivityLog.activity_type)
        )
        counts = {kind: (total, distinct_entities) for kind, total, distinct_entities in rows}
        return {
            "challenges_attempted": counts.get(ActivityType.CHALLENGE_ATTEMPTED, (0, 0))[0],
            "challenges_solved": counts.get(ActivityType.CHALLENGE_SOLVED, (0, 0))[1],
            "logins": counts.get(ActivityType.LOGIN, (0, 0))[0],
        }


class StreakFacts(_Builtin):
    namespace = "streak"

    async def provide(self, context: FactContext, names: frozenset[str]) -> dict[str, Any]:
        moments = [m for kind, m in await activity_moments(context) if kind in LEARNING_ACTIVITIES]
        today = context.moment.astimezone(context.zone).date()
        streak = streak_on(local_dates(moments, context.zone), today)
        return {"current": streak.current, "longest": streak.longest}


class ModuleFacts(_Builtin):
    namespace = "module"

    async def provide(self, context: FactContext, names: frozenset[str]) -> dict[str, Any] | None:
        module = context.module
        if module is None:
            return None
        completed = completed_lessons(await progress_rows(context))
        done = sum(1 for lesson in module.lessons if lesson.id in completed)
        total = len(module.lessons)
        return {
            "id": module.id,
            "title": module.title,
            "order": module.order,
            "lessons_total": total,
            "lessons_completed": done,
            "completed": total > 0 and done == total,
        }


class LessonFacts(_Builtin):
    namespace = "lesson"

    async def provide(self, context: FactContext, names: frozenset[str]) -> dict[str, Any] | None:
        lesson = context.lesson
        if lesson is None:
            return None
        row = (await progress_rows(context)).get(lesson.id)
        return {
            "id": lesson.id,
            "title": lesson.title,
            "order": lesson.order,
            "status": (row.status if row else ProgressStatus.NOT_STARTED).value,
            "attempts": row.attempts if row else 0,
            "score": row.score if row else None,
            "estimated_duration": lesson.estimated_duration,
        }


@hookimpl
def questline_fact_providers() -> list[FactProvider]:
    return [UserFacts(), EventFacts(), StatsFacts(), StreakFacts(), ModuleFacts(), LessonFacts()]
