"""The built-in fact providers (user, event, stats, streak, module, lesson), as a plugin.

They compute everything from the learner state the engine already holds: no queries.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from questline.engine.facts.provider import FactContext, FactProvider
from questline.engine.models import ProgressStatus
from questline.engine.streaks import local_dates, streak_on
from questline.plugins import hookimpl
from questline.rules.facts import FactSpec, default_catalog
from questline.rules.vocabulary import ActivityType

LEARNING_ACTIVITIES = frozenset({ActivityType.LESSON_COMPLETED, ActivityType.CHALLENGE_SOLVED})


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
        learner = context.learner
        completed = learner.completed_lessons()
        history = learner.activities_until(context.moment)
        solved = {a.entity_id for a in history if a.type is ActivityType.CHALLENGE_SOLVED}
        points = sum(learner.earned.values())
        return {
            "lessons_started": len(learner.progress),
            "lessons_completed": len(completed),
            "modules_completed": sum(
                1
                for module in context.course.published_modules()
                if module.lessons and all(lesson.id in completed for lesson in module.lessons)
            ),
            "challenges_attempted": sum(
                1 for a in history if a.type is ActivityType.CHALLENGE_ATTEMPTED
            ),
            "challenges_solved": len(solved),
            "total_score": learner.lesson_scores() + points,
            "achievements_count": len(learner.earned),
            "points": points,
            "logins": sum(1 for a in history if a.type is ActivityType.LOGIN),
            "days_active": len(local_dates((a.at for a in history), context.zone)),
        }


class StreakFacts(_Builtin):
    namespace = "streak"

    async def provide(self, context: FactContext, names: frozenset[str]) -> dict[str, Any]:
        moments = (
            a.at
            for a in context.learner.activities_until(context.moment)
            if a.type in LEARNING_ACTIVITIES
        )
        today = context.moment.astimezone(context.zone).date()
        streak = streak_on(local_dates(moments, context.zone), today)
        return {"current": streak.current, "longest": streak.longest}


class ModuleFacts(_Builtin):
    namespace = "module"

    async def provide(self, context: FactContext, names: frozenset[str]) -> dict[str, Any] | None:
        module = context.module
        if module is None:
            return None
        completed = context.learner.completed_lessons()
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
        row = context.learner.progress.get(lesson.id)
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
