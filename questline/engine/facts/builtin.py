"""The built-in fact providers (user, event, stats, streak, module, lesson, rule, goal, today,
week, month, leaderboard), as a plugin.

They compute everything from the learner state the engine already holds (lesson rows, awards
and the learner's aggregates): no queries, and nothing that grows with the learner's history.
The leaderboard facts (`standings`) are the exception: one ranked read of a finished board.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from questline.engine import goals
from questline.engine.aggregates import local_day
from questline.engine.facts.provider import FactContext, FactProvider
from questline.engine.facts.standings import LeaderboardFacts
from questline.engine.learner import LearnerState
from questline.engine.models import ProgressStatus
from questline.engine.periods import Period, next_start, start_of
from questline.engine.points import awarded_points
from questline.engine.writes import Pending
from questline.plugins import hookimpl
from questline.rules.facts import FactSpec, default_catalog


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


EVENT_FACTS = (
    "type",
    "entity_id",
    "entity_type",
    "score",
    "local_hour",
    "local_weekday",
    "local_date",
    "timestamp",
)


class EventFacts(_Builtin):
    namespace = "event"

    async def provide(self, context: FactContext, names: frozenset[str]) -> dict[str, Any]:
        if context.activity is None:  # no event (backfill, preview): no event facts
            return dict.fromkeys(EVENT_FACTS)
        local = context.moment.astimezone(context.zone)
        lesson = context.lesson
        return {
            "type": context.activity.value if context.activity else None,
            "entity_id": lesson.id if lesson else None,
            "entity_type": "lesson" if lesson else None,
            "score": context.score,
            "local_hour": local.hour,
            "local_weekday": local.isoweekday(),
            "local_date": local.date().isoformat(),
            "timestamp": int(context.moment.timestamp()),
        }


class StatsFacts(_Builtin):
    namespace = "stats"

    async def provide(self, context: FactContext, names: frozenset[str]) -> dict[str, Any]:
        learner = context.learner
        totals = learner.figures.totals
        completed = learner.completed_lessons()
        points = sum(learner.earned.values())
        done_modules = [
            module
            for module in context.course.published_modules()
            if module.lessons and all(lesson.id in completed for lesson in module.lessons)
        ]
        return {
            "lessons_started": totals.lessons_started,
            "lessons_completed": totals.lessons_completed,
            "modules_completed": len(done_modules),
            "completed_module_slugs": [module.slug for module in done_modules if module.slug],
            "challenges_attempted": totals.challenge_attempts,
            "challenges_solved": totals.challenges_solved,
            "total_score": totals.lesson_score + points,
            "achievements_count": len(learner.earned),
            "points": points,
            "logins": totals.logins,
            "days_active": totals.days_active,
        }


class StreakFacts(_Builtin):
    namespace = "streak"

    async def provide(self, context: FactContext, names: frozenset[str]) -> dict[str, Any]:
        """The streak as of the event's day: the run ending on the last learning day, or, for a
        late learning event or a day a freeze grant lengthened a run on, the run that holds
        that day (what in-order recording saw there); and the learner's freezes (held, and
        used on missed days)."""
        figures = context.learner.figures
        totals = figures.totals
        today = local_day(context.moment, context.zone)
        late = figures.late_run
        if late is None:
            late = await figures.streak_as_of(context.session, today)
        return {
            "current": late,
            "longest": totals.streak_longest,
            "freezes": totals.freezes_held,
            "freezes_used": totals.freezes_used,
        }


class ModuleFacts(_Builtin):
    namespace = "module"

    async def provide(self, context: FactContext, names: frozenset[str]) -> dict[str, Any] | None:
        module = context.module
        if module is None:
            return None
        learner = context.learner
        completed = learner.completed_lessons()
        done = sum(1 for lesson in module.lessons if lesson.id in completed)
        total = len(module.lessons)
        best = [_best_score(learner, lesson.id) for lesson in module.lessons]
        return {
            "id": module.id,
            "title": module.title,
            "slug": module.slug,
            "lowest_best_score": _lowest(best),
            "order": module.order,
            "lessons_total": total,
            "lessons_completed": done,
            "completed": total > 0 and done == total,
        }


def _best_score(learner: LearnerState, lesson_id: int) -> int | None:
    row = learner.progress.get(lesson_id)
    return row.score if row else None


def _lowest(scores: list[int | None]) -> int | None:
    """The lowest score, or None while any is missing (or there is none)."""
    known = [score for score in scores if score is not None]
    return min(known) if known and len(known) == len(scores) else None


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
            "slug": lesson.slug,
            "order": lesson.order,
            "status": (row.status if row else ProgressStatus.NOT_STARTED).value,
            "attempts": row.attempts if row else 0,
            "score": row.score if row else None,
            "estimated_duration": lesson.estimated_duration,
        }


class WindowFacts(_Builtin):
    """Counts within the calendar period (day, week from Monday, month) of the event's local
    day, as recorded so far: a late event's period counts its later days too, so a `>=` rule
    on them holds whichever of the period's events arrives last (outside an event: the
    period of today)."""

    def __init__(self, namespace: str, period: Period | None = None) -> None:
        """`period`: the week or month; None for the day."""
        self.namespace = namespace
        self.board = period

    def _span(self, day: date) -> tuple[date, date]:
        if self.board is None:
            return day, day
        first = start_of(self.board, day)
        return first, next_start(self.board, first) - timedelta(days=1)

    async def provide(self, context: FactContext, names: frozenset[str]) -> dict[str, Any]:
        first, last = self._span(context.moment.astimezone(context.zone).date())
        figures = context.learner.figures
        counts = await figures.window(context.session, first.toordinal(), last.toordinal())
        facts = {
            "lessons_completed": counts.lesson_completions,
            "challenges_solved": counts.challenge_solves,
            "activities": counts.activities,
        }
        pending = context.pending or Pending()
        if self.board is not None and "score" in names:
            facts["score"] = await pending.gains.score(
                context.session, context.user.id, self.board, context.moment, context.zone
            )
        if "points" in names:
            facts["points"] = await awarded_points(
                context.session, context.learner, pending, first, last, context.zone
            )
        return facts


class RuleFacts(_Builtin):
    """Facts about the achievement of the rule being evaluated: they differ from rule to rule,
    so the recorder gives each such rule its own (`recorder.count_holders`)."""

    namespace = "rule"

    async def provide(self, context: FactContext, names: frozenset[str]) -> dict[str, Any]:
        return {}


class GoalFacts(_Builtin):
    """The learner's daily goal and how they stand on the event's local day."""

    namespace = "goal"

    async def provide(self, context: FactContext, names: frozenset[str]) -> dict[str, Any]:
        learner = context.learner
        lessons = await goals.stored(context.session, learner.user.id)
        today = local_day(context.moment, context.zone)
        standing = await goals.standing(context.session, learner.figures, lessons, today)
        return {
            "daily_lessons": lessons,
            "met_today": standing.met_today,
            "days_met_in_a_row": standing.days_met_in_a_row,
        }


@hookimpl
def questline_fact_providers() -> list[FactProvider]:
    return [
        UserFacts(),
        EventFacts(),
        StatsFacts(),
        StreakFacts(),
        ModuleFacts(),
        LessonFacts(),
        GoalFacts(),
        RuleFacts(),
        WindowFacts("today"),
        WindowFacts("week", Period.WEEK),
        WindowFacts("month", Period.MONTH),
        LeaderboardFacts(),
    ]
