"""The Engine: the one API adapters use to feed events in and read progress, awards and ranks."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from questline.engine import aggregates, catalogue, freezes, goals
from questline.engine.course import normalise_answer
from questline.engine.errors import CallerLeft, NoChallenge, QuestlineError
from questline.engine.events import Event, UserProfile
from questline.engine.facets.adapters import AdapterState
from questline.engine.facets.base import DEFAULT_CHUNK
from questline.engine.facets.boards import Boards
from questline.engine.facets.outbox import OutboxControl
from questline.engine.facets.reading import Reading
from questline.engine.facets.reminders import Reminders
from questline.engine.facets.rules import Rules
from questline.engine.group_commit import GroupCommit
from questline.engine.idempotency import challenge_keys
from questline.engine.learner import Learners, Recorded, load_learner
from questline.engine.models import ActivityLog, User
from questline.engine.timestamps import utcnow
from questline.engine.views import (
    ChallengeOutcome,
    DailyGoal,
    FreezeReport,
    JudgedAnswer,
    RecordResult,
    UserView,
)
from questline.rules.vocabulary import ActivityType

log = logging.getLogger(__name__)

T = TypeVar("T")


class EventRejected(QuestlineError):
    """An event of a batch was refused; nothing of its chunk was written."""

    def __init__(self, index: int, error: Exception) -> None:
        self.index = index
        self.error = error
        super().__init__(f"event {index + 1}: {error}")


@dataclass(frozen=True)
class Committed:
    """A recorded event and the outbox entries its transaction committed for it."""

    result: RecordResult
    outbox_ids: list[int]

    @classmethod
    def of(cls, result: RecordResult, entries: Mapping[int | None, list[int]]) -> Committed:
        """`result` with its own entries (a replay has none: the first recording had them)."""
        return cls(result, [] if result.replayed else entries.get(result.activity_id, []))


def _chunks(items: Iterable[T], size: int) -> Iterable[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


class Engine(Reminders, Rules, Reading, Boards, OutboxControl, AdapterState):
    """questline's core. Every write is one transaction; notifications leave by the outbox.

    Learners and events are here; the other areas of the API are the parts it joins
    (`questline.engine.facets`)."""

    # -- learners ----------------------------------------------------------------------------

    async def register_user(self, profile: UserProfile) -> UserView:
        """Create the learner, or update their profile if the Telegram id is known."""

        async def upsert(session: AsyncSession) -> UserView:
            user = await session.scalar(
                select(User).where(User.telegram_id == profile.telegram_id).with_for_update()
            )
            if user is None:
                user = User(telegram_id=profile.telegram_id)
                session.add(user)
            for name in ("username", "first_name", "last_name", "language_code"):
                if getattr(user, name) != getattr(profile, name):
                    setattr(user, name, getattr(profile, name))
            await session.flush()
            return catalogue.user_view(user)

        try:
            return await self._write(upsert)
        except IntegrityError:  # registered concurrently: now it is an update
            return await self._write(upsert)

    async def set_daily_goal(
        self,
        lessons: int | None,
        *,
        user_id: int | None = None,
        telegram_id: int | None = None,
    ) -> DailyGoal:
        """Set the learner's daily goal of lessons (1 to 20; None clears it); returns where
        they stand today."""
        goals.checked(lessons)

        async def work(session: AsyncSession) -> DailyGoal:
            learner = await load_learner(
                session, self.zone, user_id=user_id, telegram_id=telegram_id, lock=True
            )
            await goals.save(session, learner.user.id, lessons)
            today = aggregates.local_day(utcnow(), self.zone)
            return await goals.standing(session, learner.figures, lessons, today)

        return await self._write(work)

    async def daily_goal(
        self,
        *,
        user_id: int | None = None,
        telegram_id: int | None = None,
        at: datetime | None = None,
    ) -> DailyGoal:
        """The learner's daily goal and where they stand on the local day of `at` (now)."""
        async with self.sessions.reading() as session:
            learner = await load_learner(
                session, self.zone, user_id=user_id, telegram_id=telegram_id
            )
            lessons = await goals.stored(session, learner.user.id)
            today = goals.day_of(at or utcnow(), self.zone)
            return await goals.standing(session, learner.figures, lessons, today)

    async def grant_freezes(
        self,
        amount: int,
        *,
        reason: str,
        user_id: int | None = None,
        telegram_id: int | None = None,
        at: datetime | None = None,
    ) -> FreezeReport:
        """Give the learner `amount` streak freezes (1 to 100) for `reason`, dated `at` (now),
        with the streak awards that follow; returns their freezes after it. Nothing is written
        for a refused grant."""
        moment = at or utcnow()
        text = freezes.checked_grant(amount, reason, moment)
        course = await self.course()

        async def work(session: AsyncSession) -> None:
            learners = Learners(session, self.zone)
            learner = await learners.locked(user_id=user_id, telegram_id=telegram_id)
            await freezes.grant(self.recorder, course, learners, learner, amount, moment, text)
            await learners.settle()

        await self._write(work)
        return await self.freezes(user_id=user_id, telegram_id=telegram_id)

    async def freezes(
        self, *, user_id: int | None = None, telegram_id: int | None = None
    ) -> FreezeReport:
        """The learner's streak freezes: held, given, used, every grant and the covered days."""
        async with self.sessions.reading() as session:
            learner = await load_learner(
                session, self.zone, user_id=user_id, telegram_id=telegram_id
            )
            return await freezes.report(session, learner)

    # -- events ------------------------------------------------------------------------------

    async def record(self, event: Event) -> RecordResult:
        """Record one event; see docs for the exact semantics.

        With group commit (the default) it may share its transaction with concurrent calls;
        its notifications are handed over in the caller's task either way.
        """
        if self._group_options is None:
            committed = await self._record_alone(event)
        else:
            committed = await self._group().submit(event)
        await self._hand_over(committed.outbox_ids)
        return committed.result

    def _group(self) -> GroupCommit[Event, Committed]:
        """This event loop's group committer (an engine may serve several loops in turn)."""
        assert self._group_options is not None
        loop = asyncio.get_running_loop()
        group = self._groups.get(loop)
        if group is None:
            for stale in [known for known in self._groups if known.is_closed()]:
                del self._groups[stale]
            linger, size = self._group_options
            group = self._groups[loop] = GroupCommit(
                self._record_group, linger=linger, max_events=size
            )
        return group

    async def _record_alone(
        self, event: Event, wanted: Callable[[], bool] | None = None
    ) -> Committed:
        """Record one event in a transaction of its own; with `wanted`, only if its caller
        still waits when the transaction is about to commit (else CallerLeft, rolled back)."""
        course = await self.course()

        async def work(session: AsyncSession) -> RecordResult:
            learners = Learners(session, self.zone)
            recorded = await self.recorder.record(session, course, learners, event)
            await learners.settle()
            if wanted is not None and not wanted():
                raise CallerLeft("the caller stopped waiting before the event was recorded")
            return recorded.result()

        result, entries = await self._transact(work, retry_conflicts=True)
        return Committed.of(result, entries)

    async def _record_group(
        self, events: list[Event], wanted: Callable[[int], bool]
    ) -> list[Committed | BaseException]:
        """Record `events` in one transaction, in order; a refused event is its own outcome.

        A refused event raises before anything of it is gathered, so the others are written
        as if it had not been sent. An event whose caller has stopped waiting (`wanted(i)` is
        false: an HTTP request that timed out while the group waited for the database) is not
        recorded: if that is seen only once the group is written, the group runs again without
        it. If the group's transaction fails as a whole, each event is recorded alone, so that
        only the event at fault fails. Runs in the group's drain task: nothing here may call
        hooks (they belong to each caller's task).
        """
        if len(events) == 1:
            try:
                return [await self._record_alone(events[0], lambda: wanted(0))]
            except Exception as error:
                return [error]
        course = await self.course()

        async def work(session: AsyncSession) -> list[Recorded | QuestlineError]:
            learners = Learners(session, self.zone)
            await learners.preload(events)
            outcomes: list[Recorded | QuestlineError] = []
            for index, event in enumerate(events):
                try:
                    if not wanted(index):
                        raise CallerLeft("the caller stopped waiting")
                    outcomes.append(await self.recorder.record(session, course, learners, event))
                except QuestlineError as error:
                    outcomes.append(error)
            await learners.settle()
            left = [
                index
                for index, outcome in enumerate(outcomes)
                if not isinstance(outcome, QuestlineError) and not wanted(index)
            ]
            if left:
                raise CallerLeft(f"{len(left)} caller(s) stopped waiting; the group runs again")
            return outcomes

        try:
            while True:
                try:
                    outcomes, entries = await self._transact(work, retry_conflicts=True)
                    break
                except CallerLeft:
                    continue  # rolled back; the callers that left are skipped this time
        except Exception:
            log.warning("a group of %d events failed; recording each alone", len(events))
            alone: list[Committed | BaseException] = []
            for index, event in enumerate(events):
                try:
                    alone.append(await self._record_alone(event, partial(wanted, index)))
                except Exception as error:
                    alone.append(error)
            return alone
        committed: list[Committed | BaseException] = []
        for outcome in outcomes:
            if isinstance(outcome, QuestlineError):
                committed.append(outcome)
            else:
                committed.append(Committed.of(outcome.result(), entries))
        return committed

    async def record_many(
        self, events: Iterable[Event], *, chunk_size: int = DEFAULT_CHUNK
    ) -> list[RecordResult]:
        """Record a stream of events, one transaction per chunk; equivalent to one-by-one.

        A rejected event raises EventRejected (its index in the stream); the chunk holding it
        is rolled back, earlier chunks stay committed.
        """
        course = await self.course()
        results: list[RecordResult] = []
        for chunk in _chunks(events, chunk_size):
            offset = len(results)

            async def work(
                session: AsyncSession, chunk: list[Event] = chunk, offset: int = offset
            ) -> list[RecordResult]:
                recorded = []
                learners = Learners(session, self.zone)
                await learners.preload(chunk)
                for index, event in enumerate(chunk):
                    try:
                        recorded.append(
                            await self.recorder.record(session, course, learners, event)
                        )
                    except QuestlineError as error:
                        raise EventRejected(offset + index, error) from error
                await learners.settle()
                return [item.result() for item in recorded]

            results.extend(await self._write(work, retry_conflicts=True))
        return results

    async def answer_challenge(
        self,
        *,
        lesson_id: int,
        answer: str,
        user_id: int | None = None,
        telegram_id: int | None = None,
        occurred_at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> ChallengeOutcome:
        """Record an attempt at the lesson's challenge and, when the answer is right, the solve.

        The score is the challenge's points, decided here, never by the caller. A right answer
        to a challenge the learner has solved before is `already_solved`: the attempt is
        recorded, no second solve, no score. With an idempotency key, the same answer sent
        again is a replay: nothing more is recorded and the first outcome is answered.
        """
        events, solved, points = await self._challenge_events(
            lesson_id, answer, user_id, telegram_id, occurred_at, idempotency_key
        )
        results = await self.record_many(events)
        awards = tuple(award for result in results for award in result.awards)
        again = solved and results[-1].already_solved
        return ChallengeOutcome(
            solved=solved,
            score=points if solved and not again else None,
            awards=awards,
            already_solved=again,
        )

    async def judge_answer(
        self,
        *,
        lesson_id: int,
        answer: str,
        telegram_id: int,
        occurred_at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> JudgedAnswer:
        """What `answer_challenge` would record and answer, without recording: for an adapter
        that hands the events to others to record (NATS workers). `awards` are left empty."""
        events, solved, points = await self._challenge_events(
            lesson_id, answer, None, telegram_id, occurred_at, idempotency_key
        )
        report = await self.progress(telegram_id=telegram_id)
        again = solved and any(
            item.solved
            for module in report.modules
            for item in module.lessons
            if item.lesson.id == lesson_id
        )
        outcome = ChallengeOutcome(
            solved=solved,
            score=points if solved and not again else None,
            awards=(),
            already_solved=again,
        )
        return JudgedAnswer(tuple(events), outcome)

    async def _challenge_events(
        self,
        lesson_id: int,
        answer: str,
        user_id: int | None,
        telegram_id: int | None,
        occurred_at: datetime | None,
        idempotency_key: str | None,
    ) -> tuple[list[Event], bool, int]:
        """The attempt and, for a right answer, the solve (scored by the course); whether it
        is right; the challenge's points. The attempt carries `idempotency_key`, the solve
        the key followed by `idempotency.SOLVE_KEY_SUFFIX`."""
        attempt_key, solve_key = challenge_keys(idempotency_key)
        course = await self.course()
        lesson = course.published_lesson(lesson_id)
        if lesson.challenge is None:
            raise NoChallenge(f'lesson {lesson_id} ("{lesson.title}") has no challenge')
        points = lesson.challenge.points
        who: dict[str, Any] = {"user_id": user_id, "telegram_id": telegram_id}
        if occurred_at is not None:
            who["occurred_at"] = occurred_at
        solved = normalise_answer(answer) in course.answers[lesson_id]
        events = [
            Event(
                type=ActivityType.CHALLENGE_ATTEMPTED,
                lesson_id=lesson_id,
                idempotency_key=attempt_key,
                **who,
            )
        ]
        if solved:
            events.append(
                Event(
                    type=ActivityType.CHALLENGE_SOLVED,
                    lesson_id=lesson_id,
                    score=points,
                    idempotency_key=solve_key,
                    **who,
                )
            )
        return events, solved, points

    async def recorded(self, *, telegram_id: int, idempotency_key: str) -> bool:
        """Whether the learner's event with this idempotency key has been recorded (by this
        process or another, e.g. a NATS worker)."""
        async with self.sessions.reading() as session:
            found = await session.scalar(
                select(ActivityLog.id)
                .join(User, User.id == ActivityLog.user_id)
                .where(
                    User.telegram_id == telegram_id, ActivityLog.idempotency_key == idempotency_key
                )
                .limit(1)
            )
        return found is not None
