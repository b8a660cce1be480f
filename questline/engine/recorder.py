"""Recording one event inside a transaction: progress, activity log, rules, awards, leaderboards."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from questline.engine import outbox
from questline.engine.aggregates import LEARNING, ProgressChange, local_day
from questline.engine.course import Course, scored_by_course
from questline.engine.errors import IdempotencyKeyReused
from questline.engine.events import LESSON_ACTIVITIES, SCORED_ACTIVITIES, Event
from questline.engine.facts import FactContext, FactsBuilder
from questline.engine.learner import Learners, LearnerState, Recorded
from questline.engine.models import Achievement, ActivityLog, User, UserAchievement
from questline.engine.progress import apply_progress, solved_before
from questline.engine.rulebook import ActiveRule, RuleBook, document_of
from questline.engine.views import AwardView
from questline.engine.writes import ActivityRow, AwardRow, Pending
from questline.rules.document import RuleDocument
from questline.rules.vocabulary import ActivityType


@dataclass(frozen=True)
class Awarding:
    """Everything needed to evaluate rules for one learner at one moment."""

    context: FactContext
    activity: ActivityRow | None

    @property
    def learner(self) -> LearnerState:
        return self.context.learner


async def awards_of_activity(
    session: AsyncSession, user: User, activity_id: int
) -> list[AwardView]:
    """The awards that recording the activity `activity_id` granted."""
    rows = await session.scalars(
        select(UserAchievement)
        .where(UserAchievement.activity_id == activity_id)
        .order_by(UserAchievement.id)
    )
    return [award_view(user, document_of(row.achievement), row.earned_at) for row in rows]


def award_view(user: User, rule: RuleDocument, earned_at: datetime) -> AwardView:
    """What the learner is told about an award of the rule `rule`."""
    return AwardView(
        slug=rule.slug,
        title=rule.title_in(),
        description=rule.description_in(),
        icon=rule.icon,
        points=rule.points,
        earned_at=earned_at,
        user_id=user.id,
        telegram_id=user.telegram_id,
    )


async def first_learning_at(
    session: AsyncSession, pending: Pending, learner: LearnerState, day: int, zone: ZoneInfo
) -> datetime:
    """The time of the learner's first learning activity on local `day`, stored or of this
    transaction; the day's start if it has none."""
    start = datetime.combine(date.fromordinal(day), time(), zone).astimezone(UTC)
    stored = await session.scalars(
        select(ActivityLog.created_at).where(
            ActivityLog.user_id == learner.user.id,
            ActivityLog.activity_type.in_(LEARNING),
            ActivityLog.created_at.between(start - timedelta(days=1), start + timedelta(days=2)),
        )
    )
    ours = (
        row.values["created_at"]
        for row in pending.activities
        if row.values["user_id"] == learner.user.id and row.values["activity_type"] in LEARNING
    )
    return min(
        (moment for moment in (*stored, *ours) if local_day(moment, zone) == day), default=start
    )


HOLDERS = "rule.holders"


async def stored_holders(session: AsyncSession, rules: Iterable[ActiveRule]) -> dict[int, int]:
    """How many learners hold each achievement a rule reading `rule.holders` awards, by
    achievement id, as stored (for reading: no lock, nothing of a transaction's own)."""
    wanted = {rule.achievement_id for rule in rules if HOLDERS in rule.compiled.reads}
    if not wanted:
        return {}
    rows = await session.execute(
        select(UserAchievement.achievement_id, func.count())
        .where(UserAchievement.achievement_id.in_(wanted))
        .group_by(UserAchievement.achievement_id)
    )
    return dict.fromkeys(wanted, 0) | {achievement: int(held) for achievement, held in rows}


async def count_holders(
    session: AsyncSession, pending: Pending, rules: list[ActiveRule]
) -> dict[int, int]:
    """How many learners hold each achievement a rule reading `rule.holders` awards, by
    achievement id: the stored awards and this transaction's. The achievement row is locked
    first, so concurrent transactions count one after another and "the first 100" stays 100."""
    counted: dict[int, int] = {}
    for rule in rules:
        if HOLDERS not in rule.compiled.reads or rule.achievement_id in counted:
            continue
        achievement = rule.achievement_id
        await session.execute(
            select(Achievement.id).where(Achievement.id == achievement).with_for_update()
        )
        stored = await session.scalar(
            select(func.count()).where(UserAchievement.achievement_id == achievement)
        )
        ours = sum(1 for award in pending.awards if award.achievement_id == achievement)
        counted[achievement] = (stored or 0) + ours
    return counted


class Recorder:
    """The write path of the engine; every method runs inside the caller's transaction."""

    def __init__(self, rulebook: RuleBook, facts: FactsBuilder, zone: ZoneInfo) -> None:
        self.rulebook = rulebook
        self.facts = facts
        self.zone = zone

    async def record(
        self, session: AsyncSession, course: Course, learners: Learners, event: Event
    ) -> Recorded:
        """Apply one event; a replay of an idempotency key returns the first result unchanged.

        Nothing is written here: the rows are gathered in `learners.pending` and a batch of
        events is written in a few statements when the work is settled. A refused event
        raises before anything of it is gathered.
        """
        learner = await learners.locked(user_id=event.user_id, telegram_id=event.telegram_id)
        if event.idempotency_key is not None:
            prior = await self._prior(session, learner, event)
            if prior is not None:
                return prior
        lesson = module = None
        change = ProgressChange()
        if event.type in LESSON_ACTIVITIES:
            assert event.lesson_id is not None
            lesson = course.published_lesson(event.lesson_id)
            module = course.published_module_of(lesson)
            event = scored_by_course(event, lesson)
            if solved_before(learner.progress, lesson.id, event):
                return self._first_solve(learners.pending, learner, lesson.id)
            row, change = apply_progress(learner.progress, learner.user.id, lesson.id, event)
            if row is not None:
                learners.pending.progress[(learner.user.id, lesson.id)] = row
            learners.pending.gains.add(
                learner.user.id,
                event.occurred_at,
                self.zone,
                score=change.score_gain,
                lessons=int(change.newly_completed),
            )
        details = dict(event.details)
        if event.score is not None:
            details["score"] = event.score
        activity = ActivityRow(
            {
                "user_id": learner.user.id,
                "activity_type": event.type,
                "entity_id": lesson.id if lesson else None,
                "entity_type": "lesson" if lesson else None,
                "details": json.dumps(details, ensure_ascii=False, sort_keys=True)
                if details
                else None,
                "created_at": event.occurred_at,
                "idempotency_key": event.idempotency_key,
            }
        )
        learners.pending.activities.append(activity)
        await learner.figures.apply(session, event.type, event.occurred_at, self.zone, change)
        context = FactContext(
            session=session,
            learner=learner,
            course=course,
            zone=self.zone,
            moment=event.occurred_at,
            activity=event.type,
            lesson=lesson,
            module=module,
            score=event.score,
            pending=learners.pending,
        )
        awards = await self.award(
            learners.pending,
            Awarding(context, activity),
            self.rulebook.candidates(event.type, learner.earned.keys()),
        )
        if awards or event.type in SCORED_ACTIVITIES:
            learners.totals_changed(learner)
        recorded = Recorded(activity, learner.user.id, tuple(awards))
        # outbox (issue 11): the event's notifications commit with it; keep on any new write path
        outbox.stage(session, event, activity, recorded.awards)
        if event.idempotency_key is not None:
            learner.recorded[event.idempotency_key] = recorded
        return recorded

    @staticmethod
    async def _prior(session: AsyncSession, learner: LearnerState, event: Event) -> Recorded | None:
        """The earlier recording of this event's idempotency key, as a replay, if any."""
        key = event.idempotency_key
        earlier = learner.recorded.get(key) if key is not None else None
        if earlier is not None:
            activity, awards = earlier.activity, earlier.awards
        else:
            row = (
                await session.execute(
                    select(ActivityLog.id, ActivityLog.activity_type, ActivityLog.entity_id).where(
                        ActivityLog.user_id == learner.user.id, ActivityLog.idempotency_key == key
                    )
                )
            ).one_or_none()
            if row is None:
                return None
            activity = ActivityRow(
                {"activity_type": row.activity_type, "entity_id": row.entity_id}, id=row.id
            )
            awards = tuple(await awards_of_activity(session, learner.user, row.id))
        kind, lesson = activity.values["activity_type"], activity.values["entity_id"]
        if kind != event.type or lesson != event.lesson_id:
            of_lesson = f" of lesson {lesson}" if lesson is not None else ""
            raise IdempotencyKeyReused(
                f'idempotency key "{key}" was already used for a {kind} event{of_lesson} of '
                "this learner"
            )
        return Recorded(activity, learner.user.id, awards, replayed=True)

    @staticmethod
    def _first_solve(pending: Pending, learner: LearnerState, lesson_id: int) -> Recorded:
        """A solve of a solved challenge: nothing is written; the answer is the first solve
        (maybe earlier in this very transaction, not yet written; if stored, its id is read
        with the transaction's other first solves when the rows are written)."""
        for activity in pending.activities:
            values = activity.values
            if (
                values["user_id"] == learner.user.id
                and values["activity_type"] is ActivityType.CHALLENGE_SOLVED
                and values["entity_id"] == lesson_id
            ):
                return Recorded(activity, learner.user.id, (), already_solved=True)
        stored = pending.first_solves.setdefault((learner.user.id, lesson_id), ActivityRow({}))
        return Recorded(stored, learner.user.id, (), already_solved=True)

    async def award(
        self, pending: Pending, awarding: Awarding, first_round: list[ActiveRule]
    ) -> list[AwardView]:
        """Evaluate `first_round` and grant what holds, then again until nothing new fires;
        then, if an award's freezes lengthened a run, the streak rules on its days.

        Awards change award counts, so rules reading them are evaluated again after each round.
        Rules the learner already holds are skipped. Granted awards are added to `pending`
        (written with the transaction's other rows; see `writes.insert_awards`).
        """
        granted = await self._rounds(pending, awarding, first_round)
        return granted + await self._regrown(pending, awarding)

    async def judge_grant(self, pending: Pending, context: FactContext) -> list[AwardView]:
        """After a freeze grant outside any event: the streak rules judged on each day the
        grant lengthened a run on, then as of `context.moment`, as an event then would be."""
        awarding = Awarding(context, None)
        granted = await self._regrown(pending, awarding)
        rules = self.rulebook.reading("streak", context.learner.earned.keys())
        return granted + await self.award(pending, awarding, rules)

    async def _regrown(self, pending: Pending, awarding: Awarding) -> list[AwardView]:
        """Judge the streak rules on the days a grant lengthened a run on (`figures.regrown`),
        each at that day's first learning activity, with the run there as `streak.current`:
        what recording in date order, with the grant first, judged them with."""
        learner = awarding.learner
        figures = learner.figures
        late = figures.late_run
        granted: list[AwardView] = []
        while figures.regrown:
            day, run = figures.regrown.pop(0)
            rules = self.rulebook.reading("streak", learner.earned.keys())
            if not rules:
                figures.regrown.clear()
                break
            figures.late_run = run
            session = awarding.context.session
            moment = await first_learning_at(session, pending, learner, day, self.zone)
            context = replace(
                awarding.context, moment=moment, activity=None, lesson=None, module=None, score=None
            )
            granted += await self._rounds(pending, Awarding(context, awarding.activity), rules)
        figures.late_run = late
        return granted

    async def _rounds(
        self, pending: Pending, awarding: Awarding, first_round: list[ActiveRule]
    ) -> list[AwardView]:
        """`award`'s rounds: `first_round`, then the rules reading awards, until none fires."""
        learner = awarding.learner
        earned = learner.earned.keys()
        granted: list[AwardView] = []
        candidates = [rule for rule in first_round if rule.achievement_id not in earned]
        moment = awarding.context.moment
        while candidates:
            facts = await self.facts.build(awarding.context, self.rulebook.reads(candidates))
            holders = await count_holders(awarding.context.session, pending, candidates)
            fired = self.rulebook.fired_with_holders(candidates, facts, holders)
            if not fired:
                break
            for rule in fired:
                learner.earned[rule.achievement_id] = rule.document.points
                pending.awards.append(
                    AwardRow(
                        learner.user.id, rule.achievement_id, rule.slug, moment, awarding.activity
                    )
                )
                granted.append(award_view(learner.user, rule.document, moment))
                if rule.document.streak_freezes:
                    await learner.figures.grant_freezes(
                        awarding.context.session,
                        rule.document.streak_freezes,
                        moment,
                        self.zone,
                        reason=f"achievement {rule.slug}",
                        achievement_id=rule.achievement_id,
                    )
                pending.gains.add(
                    learner.user.id, moment, self.zone, score=rule.document.points, achievements=1
                )
            candidates = self.rulebook.candidates(ActivityType.ACHIEVEMENT_EARNED, earned)
        return granted
