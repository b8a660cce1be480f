"""What learners read: the course, their progress, achievements and activity."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import func, select

from questline.engine import calendar, catalogue
from questline.engine.facets.base import EngineBase
from questline.engine.facts.builtin import StatsFacts, StreakFacts
from questline.engine.learner import load_learner
from questline.engine.models import Achievement, ActivityLog, Lesson, Module, User, UserAchievement
from questline.engine.recorder import stored_holders
from questline.engine.reports import (
    earned_statuses,
    locked_statuses,
    progress_report,
)
from questline.engine.timestamps import utcnow
from questline.engine.views import (
    AchievementStatus,
    ActivityCalendar,
    AwardView,
    LessonView,
    ModuleView,
    ProgressReport,
)


class Reading(EngineBase):
    """The course in a language, and one learner's progress, achievements and activity."""

    async def modules(
        self, *, published_only: bool = True, language: str | None = None
    ) -> list[ModuleView]:
        """Modules in course order; by default the published ones with their published lessons.

        `language` (a tag such as "ru" or "ru-RU") picks the texts of this and every reading
        below; a text the course does not give in it is in the course's own language."""
        course = (await self.course()).in_language(language)
        return course.published_modules() if published_only else list(course.modules)

    async def module(self, module_id: int, *, language: str | None = None) -> ModuleView:
        return (await self.course()).in_language(language).published_module(module_id)

    async def lesson(self, lesson_id: int, *, language: str | None = None) -> LessonView:
        return (await self.course()).in_language(language).published_lesson(lesson_id)

    async def progress(
        self,
        *,
        user_id: int | None = None,
        telegram_id: int | None = None,
        language: str | None = None,
    ) -> ProgressReport:
        """Per-module lesson statuses, totals and streaks of one learner."""
        course = await self.course()
        async with self.sessions.reading() as session:
            learner = await load_learner(
                session, self.zone, user_id=user_id, telegram_id=telegram_id
            )
            # the engine's own figures, whichever fact providers the plugins give rules
            context = self._context(session, course, learner)
            facts = {
                provider.namespace: await provider.provide(context, frozenset())
                for provider in (StatsFacts(), StreakFacts())
            }
            return progress_report(learner, course.in_language(language), facts)

    def award_in(self, award: AwardView, language: str | None) -> AwardView:
        """`award` with the achievement's title and description in `language` (a tag such as
        "ru-RU"; the rule's own language when it has no translation into it)."""
        rule = self.rulebook.rule(award.slug)
        if rule is None:
            return award
        texts = rule.texts(language)
        return replace(award, title=texts.title, description=texts.description)

    async def achievements(
        self,
        *,
        user_id: int | None = None,
        telegram_id: int | None = None,
        locale: str | None = None,
        language: str | None = None,
    ) -> list[AchievementStatus]:
        """Every achievement for one learner: earned ones with dates, locked ones with progress
        and what is missing, phrased for a learner in `locale`'s language when it is given;
        titles and descriptions in `language` (default: `locale`'s)."""
        course = await self.course()
        async with self.sessions.reading() as session:
            learner = await load_learner(
                session, self.zone, user_id=user_id, telegram_id=telegram_id
            )
            locked = [r for r in self.rulebook.rules if r.achievement_id not in learner.earned]
            facts = await self.facts.build(
                self._context(session, course, learner), self.rulebook.reads(locked)
            )
            holders = await stored_holders(session, locked)
            language = language or locale
            earned = await earned_statuses(session, learner, self.rulebook, language)
            return earned + locked_statuses(
                self.rulebook, learner, facts, locale, language, holders
            )

    async def activity_calendar(
        self,
        *,
        user_id: int | None = None,
        telegram_id: int | None = None,
        weeks: int = 12,
        at: datetime | None = None,
    ) -> ActivityCalendar:
        """The learner's activities per local day over the last `weeks` weeks (Monday-start
        weeks, the last one holding the day of `at`, default now), in the engine's zone."""
        first, last = calendar.window(at or utcnow(), self.zone, weeks)
        async with self.sessions.reading() as session:
            user = await catalogue.find_user(session, user_id=user_id, telegram_id=telegram_id)
            counts = await calendar.day_counts(session, user.id, self.zone, first, last)
            return ActivityCalendar(catalogue.user_view(user), first, last, counts)

    async def stats(self) -> dict[str, int]:
        """Counts of what the database holds, for administrators."""
        async with self.sessions.reading() as session:
            counts = {}
            for name, model in (
                ("users", User),
                ("modules", Module),
                ("lessons", Lesson),
                ("achievements", Achievement),
                ("awards", UserAchievement),
                ("events", ActivityLog),
            ):
                counts[name] = int(
                    await session.scalar(select(func.count()).select_from(model)) or 0
                )
            return counts
