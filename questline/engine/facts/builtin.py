"""The built-in fact providers (user, event, stats, streak, module, lesson), as a plugin."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import distinct, func, select

from questline.engine.facts.provider import FactContext, FactProvider
from questline.engine.models import (
    Achievement,
    ActivityLog,
    Lesson,
    Module,
    ProgressStatus,
    UserAchievement,
    UserProgress,
)
from questline.engine.streaks import local_dates, streak_on
from questline.plugins import hookimpl
from questline.rules.facts import FactSpec, default_catalog
from questline.rules.vocabulary import ActivityType

LEARNING_ACTIVITIES = (ActivityType.LESSON_COMPLETED, ActivityType.CHALLENGE_SOLVED)
ACTIVE_DAY_ACTIVITIES = tuple(a for a in ActivityType if a is not ActivityType.ACHIEVEMENT_EARNED)


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


async def _count_activities(context: FactContext, activity: ActivityType) -> int:
    query = select(func.count()).where(
        ActivityLog.user_id == context.user.id, ActivityLog.activity_type == activity
    )
    return int(await context.session.scalar(query) or 0)


async def _activity_moments(context: FactContext, activities: Iterable[ActivityType]) -> list[Any]:
    query = select(ActivityLog.created_at).where(
        ActivityLog.user_id == context.user.id,
        ActivityLog.activity_type.in_(list(activities)),
        ActivityLog.created_at <= context.moment,
    )
    return list(await context.session.scalars(query))


async def _modules_completed(context: FactContext) -> int:
    published = (
        select(Lesson.module_id, func.count().label("total"))
        .join(Module, Module.id == Lesson.module_id)
        .where(Lesson.is_published, Module.is_published)
        .group_by(Lesson.module_id)
    )
    done = (
        select(Lesson.module_id, func.count().label("done"))
        .join(UserProgress, UserProgress.lesson_id == Lesson.id)
        .where(
            Lesson.is_published,
            UserProgress.user_id == context.user.id,
            UserProgress.status == ProgressStatus.COMPLETED,
        )
        .group_by(Lesson.module_id)
    )
    totals = dict((await context.session.execute(published)).all())
    completed = dict((await context.session.execute(done)).all())
    return sum(1 for module_id, total in totals.items() if completed.get(module_id) == total)


class StatsFacts(_Builtin):
    namespace = "stats"

    async def provide(self, context: FactContext, names: frozenset[str]) -> dict[str, Any]:
        session, user_id = context.session, context.user.id
        values: dict[str, Any] = {}
        if names & {"lessons_started", "lessons_completed"}:
            rows = await session.execute(
                select(UserProgress.status, func.count())
                .where(UserProgress.user_id == user_id)
                .group_by(UserProgress.status)
            )
            by_status = dict(rows.all())
            values["lessons_started"] = sum(by_status.values())
            values["lessons_completed"] = by_status.get(ProgressStatus.COMPLETED, 0)
        if "modules_completed" in names:
            values["modules_completed"] = await _modules_completed(context)
        if "challenges_attempted" in names:
            values["challenges_attempted"] = await _count_activities(
                context, ActivityType.CHALLENGE_ATTEMPTED
            )
        if "challenges_solved" in names:
            values["challenges_solved"] = int(
                await session.scalar(
                    select(func.count(distinct(ActivityLog.entity_id))).where(
                        ActivityLog.user_id == user_id,
                        ActivityLog.activity_type == ActivityType.CHALLENGE_SOLVED,
                    )
                )
                or 0
            )
        if "logins" in names:
            values["logins"] = await _count_activities(context, ActivityType.LOGIN)
        if names & {"achievements_count", "points", "total_score"}:
            count, points = (
                await session.execute(
                    select(func.count(), func.coalesce(func.sum(Achievement.points), 0))
                    .select_from(UserAchievement)
                    .join(Achievement, Achievement.id == UserAchievement.achievement_id)
                    .where(UserAchievement.user_id == user_id)
                )
            ).one()
            values["achievements_count"], values["points"] = int(count), int(points)
            if "total_score" in names:
                lesson_scores = await session.scalar(
                    select(func.coalesce(func.sum(UserProgress.score), 0)).where(
                        UserProgress.user_id == user_id
                    )
                )
                values["total_score"] = int(lesson_scores or 0) + int(points)
        if "days_active" in names:
            moments = await _activity_moments(context, ACTIVE_DAY_ACTIVITIES)
            values["days_active"] = len(local_dates(moments, context.zone))
        return values


class StreakFacts(_Builtin):
    namespace = "streak"

    async def provide(self, context: FactContext, names: frozenset[str]) -> dict[str, Any]:
        moments = await _activity_moments(context, LEARNING_ACTIVITIES)
        today = context.moment.astimezone(context.zone).date()
        streak = streak_on(local_dates(moments, context.zone), today)
        return {"current": streak.current, "longest": streak.longest}


async def _progress_of(context: FactContext, lesson: Lesson) -> UserProgress | None:
    return await context.session.scalar(
        select(UserProgress).where(
            UserProgress.user_id == context.user.id, UserProgress.lesson_id == lesson.id
        )
    )


class ModuleFacts(_Builtin):
    namespace = "module"

    async def provide(self, context: FactContext, names: frozenset[str]) -> dict[str, Any] | None:
        lesson = context.lesson
        if lesson is None:
            return None
        module = await context.session.get_one(Module, lesson.module_id)
        lesson_ids = [item.id for item in module.lessons if item.is_published]
        completed = int(
            await context.session.scalar(
                select(func.count()).where(
                    UserProgress.user_id == context.user.id,
                    UserProgress.lesson_id.in_(lesson_ids),
                    UserProgress.status == ProgressStatus.COMPLETED,
                )
            )
            or 0
        )
        return {
            "id": module.id,
            "title": module.title,
            "order": module.order,
            "lessons_total": len(lesson_ids),
            "lessons_completed": completed,
            "completed": bool(lesson_ids) and completed == len(lesson_ids),
        }


class LessonFacts(_Builtin):
    namespace = "lesson"

    async def provide(self, context: FactContext, names: frozenset[str]) -> dict[str, Any] | None:
        lesson = context.lesson
        if lesson is None:
            return None
        progress = await _progress_of(context, lesson)
        return {
            "id": lesson.id,
            "title": lesson.title,
            "order": lesson.order,
            "status": (progress.status if progress else ProgressStatus.NOT_STARTED).value,
            "attempts": progress.attempts if progress else 0,
            "score": progress.score if progress else None,
            "estimated_duration": lesson.estimated_duration,
        }


@hookimpl
def questline_fact_providers() -> list[FactProvider]:
    return [UserFacts(), EventFacts(), StatsFacts(), StreakFacts(), ModuleFacts(), LessonFacts()]
