"""What a learner sees of themselves: per-module progress, and every achievement's status."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from questline.engine.catalogue import user_view
from questline.engine.course import Course
from questline.engine.learner import LearnerState
from questline.engine.models import ProgressStatus, UserAchievement
from questline.engine.progress import Progress
from questline.engine.rulebook import RuleBook, RuleTexts, document_of
from questline.engine.views import (
    AchievementStatus,
    LessonProgress,
    LessonView,
    ModuleProgress,
    ProgressReport,
)
from questline.rules.analysis import progress as rule_progress
from questline.rules.document import RuleDocument
from questline.rules.explain import Shortfall, explain
from questline.rules.phrases import at_an_event, met_not_earned

"""The facts `progress_report` needs from the facts builder."""


def progress_report(
    learner: LearnerState, course: Course, facts: Mapping[str, Any]
) -> ProgressReport:
    """Lesson statuses per published module, totals and streaks (`facts` holds the built-in
    `stats` and `streak` namespaces)."""
    modules = []
    for module in course.published_modules():
        lessons = tuple(
            _lesson_progress(lesson, learner.progress.get(lesson.id)) for lesson in module.lessons
        )
        done = sum(1 for item in lessons if item.status is ProgressStatus.COMPLETED)
        modules.append(ModuleProgress(module, lessons, done, len(lessons)))
    return ProgressReport(
        user=user_view(learner.user),
        modules=tuple(modules),
        lessons_completed=facts["stats"]["lessons_completed"],
        total_score=facts["stats"]["total_score"],
        points=facts["stats"]["points"],
        streak_current=facts["streak"]["current"],
        streak_longest=facts["streak"]["longest"],
        streak_freezes=facts["streak"]["freezes"],
    )


def _lesson_progress(lesson: LessonView, row: Progress | None) -> LessonProgress:
    if row is None:
        return LessonProgress(lesson, ProgressStatus.NOT_STARTED, None, 0)
    return LessonProgress(
        lesson, row.status, row.score, row.attempts, solved=row.solved_at is not None
    )


async def earned_statuses(
    session: AsyncSession, learner: LearnerState, rulebook: RuleBook, language: str | None = None
) -> list[AchievementStatus]:
    """The learner's achievements in the order they were earned, with the texts in `language`
    for those in force (an achievement no longer in force keeps its stored texts)."""
    rows = await session.scalars(
        select(UserAchievement)
        .where(UserAchievement.user_id == learner.user.id)
        .order_by(UserAchievement.earned_at, UserAchievement.id)
    )
    statuses = []
    for row in rows:
        document = document_of(row.achievement)
        rule = rulebook.rule(document.slug)
        if rule is None:
            texts = RuleTexts(document.title_in(), document.description_in())
        else:
            texts = rule.texts(language)
        statuses.append(_status(document, texts, earned_at=row.earned_at))
    return statuses


def locked_statuses(
    rulebook: RuleBook,
    learner: LearnerState,
    facts: Mapping[str, Any],
    locale: str | None = None,
    language: str | None = None,
    holders: Mapping[int, int] | None = None,
) -> list[AchievementStatus]:
    """The rules in force the learner has not earned, with progress and what is missing
    (phrased for `locale` when given), their texts in `language`; a rule reading
    `rule.holders` sees its own achievement's count in `holders` (by achievement id).

    Outside an event, a rule about an event (it reads a fact of the event) has no progress
    (an event's facts have no value between events): it is explained by what it misses of
    the learner's facts, then by its description (or a sentence saying it waits for an event).
    """
    evaluator = rulebook.evaluator
    holders = holders or {}
    statuses = []
    for rule in rulebook.rules:
        if rule.achievement_id in learner.earned:
            continue
        own = facts
        if rule.achievement_id in holders:
            own = {**facts, "rule": {"holders": holders[rule.achievement_id]}}
        event_facts = rule.compiled.event_reads
        explained = explain(rule.compiled, own, evaluator, locale=locale)
        shortfalls = tuple(
            shortfall
            for shortfall in explained.shortfalls
            # an event's facts have no value between events: what they ask is not "missing",
            # and an operator failing on their null is no error of the rule
            if not event_facts
            or (shortfall.kind != "error" and not _reads_any(shortfall, event_facts))
        )
        texts = rule.texts(language)
        explanation = [shortfall.text for shortfall in shortfalls]
        if event_facts:
            explanation.append(texts.description or at_an_event(locale))
        elif explained.satisfied:
            explanation.append(met_not_earned(locale))
        statuses.append(
            _status(
                rule.document,
                texts,
                earned_at=None,
                progress=None
                if event_facts
                else rule_progress(rule.compiled, own, evaluator.catalog),
                shortfalls=shortfalls,
                explanation="; ".join(explanation) or texts.description,
            )
        )
    return statuses


def _reads_any(shortfall: Shortfall, facts: frozenset[str]) -> bool:
    return shortfall.fact in facts or any(fact in facts for fact in shortfall.values)


def _status(document: RuleDocument, texts: RuleTexts, **state: Any) -> AchievementStatus:
    """An achievement as a learner sees it: the rule's presentation, in the language of
    `texts`, plus the learner's state."""
    return AchievementStatus(
        slug=document.slug,
        title=texts.title,
        description=texts.description,
        icon=document.icon,
        points=document.points,
        **state,
    )
