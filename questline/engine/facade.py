"""The Engine: the one API adapters use to feed events in and read progress, awards and ranks."""

from __future__ import annotations

import asyncio
import difflib
import logging
import os
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, time
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from questline.engine import (
    aggregates,
    api_keys,
    calendar,
    catalogue,
    closing,
    conversations,
    freezes,
    goals,
    history,
    leaderboard,
    outbox,
    reminders,
)
from questline.engine.api_keys import ApiKeyView, IssuedKey
from questline.engine.content import ContentReport, load_course, read_course
from questline.engine.conversations import Conversation
from questline.engine.course import Course, normalise_answer
from questline.engine.db import (
    BoundedSessions,
    answering,
    create_engine,
    database_timeout,
    reading,
    retryable,
)
from questline.engine.dispatcher import Dispatcher, DispatchSettings
from questline.engine.errors import (
    NoChallenge,
    QuestlineError,
    RulesError,
    UnknownUser,
)
from questline.engine.events import Event, UserProfile
from questline.engine.facts import FactContext, FactsBuilder, builtin
from questline.engine.group_commit import GroupCommit
from questline.engine.idempotency import challenge_keys
from questline.engine.learner import Learners, LearnerState, Recorded, load_learner
from questline.engine.models import (
    Achievement,
    AchievementTranslation,
    ActivityLog,
    Lesson,
    Module,
    User,
    UserAchievement,
)
from questline.engine.period_closer import CloserSettings, PeriodCloser
from questline.engine.periods import (
    Period,
    last_finished,
    moment_at,
    period_named,
    period_of,
)
from questline.engine.recorder import HOLDERS, Awarding, Recorder
from questline.engine.reminder_times import ReminderPolicy, parse_zone
from questline.engine.reminders import KEEP, Keep
from questline.engine.reports import (
    PROGRESS_FACTS,
    earned_statuses,
    locked_statuses,
    progress_report,
)
from questline.engine.rule_store import RuleChange, RulesReport, diff_rules, store_rules
from questline.engine.rulebook import ActiveRule, RuleBook
from questline.engine.timestamps import utcnow
from questline.engine.translations import stored
from questline.engine.views import (
    AchievementStatus,
    ActivityCalendar,
    AwardView,
    ChallengeOutcome,
    ClosedPeriod,
    DailyGoal,
    FreezeReport,
    JudgedAnswer,
    LeaderboardEntry,
    LessonView,
    ModuleView,
    ProgressReport,
    RecordResult,
    ReminderClaim,
    ReminderSettingsView,
    UserView,
)
from questline.plain_errors import shortened
from questline.plugins.manager import PluginManager, build_plugin_manager
from questline.rules import (
    DEFAULT_OPS_BUDGET,
    OperatorRegistry,
    Problem,
    RuleDocument,
    RuleEvaluator,
    validate_document,
)
from questline.rules.evaluation import applies
from questline.rules.loading import RuleLoadError, load_rules
from questline.rules.vocabulary import ActivityType

log = logging.getLogger(__name__)

T = TypeVar("T")
DEFAULT_CHUNK = 500
DEFAULT_GROUP = 256
MAX_REMINDER_BATCH = 1000
WRITE_ATTEMPTS = 4
BUILTIN_FACTS_PLUGIN = "questline.facts"


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


@dataclass(frozen=True)
class BackfillReport:
    users: int
    awards: tuple[AwardView, ...]


def _chunks(items: Iterable[T], size: int) -> Iterable[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def zone_named(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise QuestlineError(
            f'unknown time zone "{name}" (use an IANA name such as "UTC")'
        ) from None


class Engine:
    """questline's core. Every write is one transaction; notifications leave by the outbox."""

    def __init__(
        self,
        bind: AsyncEngine | str | None = None,
        *,
        timezone: str = "UTC",
        plugin_manager: PluginManager | None = None,
        ops_budget: int | None = DEFAULT_OPS_BUDGET,
        group_commit: bool = True,
        linger: float = 0.0,
        group_size: int = DEFAULT_GROUP,
        reminder_policy: ReminderPolicy | None = None,
        timeout: float | None = None,
    ) -> None:
        """An engine on `bind` (an AsyncEngine or a URL; default DATABASE_URL).

        Every transaction, read and connection must end within `timeout` seconds (default
        QUESTLINE_DB_TIMEOUT, 60), else it fails as a lost connection does.

        With `group_commit`, concurrent `record()` calls share transactions: a group is what
        arrived while the previous group was written, up to `group_size` events, after
        waiting `linger` seconds for more (0: no wait). Each caller gets its own result or
        error, exactly as if the events had been recorded one by one in arrival order.
        `reminder_policy` sets quiet hours, the streak nudge's time and claim leases
        (default: `ReminderPolicy()`, docs/engine.md "Reminders").
        """
        self._owns_db = not isinstance(bind, AsyncEngine)
        self.db = bind if isinstance(bind, AsyncEngine) else create_engine(bind)
        self.sessions = BoundedSessions(self.db, database_timeout() if timeout is None else timeout)
        self.reader = reading(self.db)
        self.zone = zone_named(timezone)
        self.plugins = plugin_manager or build_plugin_manager()
        self.sessions.configure(info={outbox.LISTENERS: self.plugins})
        if self.plugins.get_plugin(BUILTIN_FACTS_PLUGIN) is None:
            self.plugins.register(builtin, name=BUILTIN_FACTS_PLUGIN)
        self.facts = FactsBuilder(
            provider for group in self.plugins.hook.questline_fact_providers() for provider in group
        )
        self.operators = OperatorRegistry()
        for group in self.plugins.hook.questline_operators():
            for name, function in group.items():
                self.operators.register(name, function)
        self.rulebook = RuleBook(
            RuleEvaluator(self.facts.catalog, self.operators, ops_budget=ops_budget)
        )
        self.recorder = Recorder(self.rulebook, self.facts, self.zone)
        self.reminder_policy = reminder_policy or ReminderPolicy()
        self.dispatcher: Dispatcher | None = None
        self.closer: PeriodCloser | None = None
        self._course: Course | None = None
        self._group_options = (linger, group_size) if group_commit else None
        if group_commit and (linger < 0 or group_size < 1):
            raise QuestlineError("linger must be >= 0 seconds and group_size at least 1")
        self._groups: dict[asyncio.AbstractEventLoop, GroupCommit[Event, RecordResult]] = {}

    @classmethod
    def from_env(cls) -> Engine:
        """An engine on DATABASE_URL in QUESTLINE_TIMEZONE (default UTC), with installed plugins."""
        return cls(timezone=os.environ.get("QUESTLINE_TIMEZONE", "UTC"))

    # -- lifecycle ---------------------------------------------------------------------------

    async def startup(self) -> None:
        """Load the rules and the course, and let plugins start (adapters start their tasks)."""
        await self.reload()
        await self.plugins.acall("questline_startup", engine=self)

    async def shutdown(self) -> None:
        """Stop the closer and the dispatcher, let plugins stop, then close the database
        connections this engine opened."""
        if self.closer is not None:
            await self.closer.stop()
            self.closer = None
        if self.dispatcher is not None:
            await self.dispatcher.stop()
            self.dispatcher = None
        await self.plugins.anotify("questline_shutdown", engine=self)
        if self._owns_db:
            await self.db.dispose()

    async def reload(self) -> None:
        """Recompile the enabled rules and re-read the course from the database.

        The engine keeps both in memory; content or rules changed by another process are
        seen after a reload (this engine's own load_content/load_rules reload by themselves).
        """
        async with self.sessions.reading() as session:
            rows = await session.scalars(select(Achievement).order_by(Achievement.id))
            self.rulebook.replace(rows, await stored(session, AchievementTranslation))
            self._course = await Course.load(session)

    async def course(self) -> Course:
        """The course snapshot in force (loaded on first use)."""
        if self._course is None:
            await self.reload()
        assert self._course is not None
        return self._course

    # -- plumbing ----------------------------------------------------------------------------

    async def _write(
        self, work: Callable[[AsyncSession], Awaitable[T]], *, retry_conflicts: bool = False
    ) -> T:
        """`_transact`, then the outbox entries it committed are handed to this process's
        dispatcher, if any, in the calling task."""
        result, entries = await self._transact(work, retry_conflicts=retry_conflicts)
        await self._hand_over(entry for ids in entries.values() for entry in ids)
        return result

    async def _transact(
        self, work: Callable[[AsyncSession], Awaitable[T]], *, retry_conflicts: bool = False
    ) -> tuple[T, dict[int | None, list[int]]]:
        """Run `work` in one transaction, again from scratch if the database asks to retry;
        returns its result and the ids of the outbox entries it committed, by activity row.

        With `retry_conflicts`, a unique-constraint conflict also runs it again (the record
        paths: their next run sees the conflicting row and does not write it twice).
        """
        hold_until = None
        if self.dispatcher is not None:
            hold_until = utcnow() + self.dispatcher.settings.handoff
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                async with self.sessions() as session:
                    async with session.begin():
                        result = await work(session)
                        entries = await outbox.write_staged(session, available_at=hold_until)
                    return result, entries
            except OperationalError as error:
                if attempt == WRITE_ATTEMPTS or not retryable(error):
                    raise
                log.warning("transaction retried after: %s", error.orig)
            except IntegrityError as error:
                # under the learner's lock, only a writer outside the engine can collide
                if attempt == WRITE_ATTEMPTS or not retry_conflicts:
                    raise
                log.warning("transaction retried after a conflict: %s", error.orig)
        raise AssertionError("unreachable")

    async def _hand_over(self, entry_ids: Iterable[int]) -> None:
        """Deliver just-committed outbox entries in the calling task (its context, e.g. the
        bot's update in progress, sees the hooks' calls); the rest is the background's."""
        if self.dispatcher is not None:
            await self.dispatcher.deliver(entry_ids)

    # -- the outbox ---------------------------------------------------------------------------

    def start_dispatcher(self, settings: DispatchSettings | None = None) -> Dispatcher:
        """Deliver the outbox from this process: entries this engine commits at once, and
        every due entry in a background task, until shutdown."""
        if self.dispatcher is None:
            self.dispatcher = Dispatcher(self, settings)
            self.dispatcher.start()
        return self.dispatcher

    async def settle_held(self, delivery_ids: Iterable[str], *, delivered: bool) -> None:
        """Report what became of outbox deliveries a plugin held (`DeliveryHeld`): delivered
        (the entry is done), or not (it is due again at once, for the hook's usual path)."""
        if self.dispatcher is not None:
            await self.dispatcher.settle_held(delivery_ids, delivered=delivered)

    def start_period_closer(
        self, settings: CloserSettings | None = None, *, clock: Callable[[], datetime] = utcnow
    ) -> PeriodCloser | None:
        """Close finished weeks and months from this process until shutdown (settings default
        to the environment's; None when QUESTLINE_CLOSE_PERIODS=0)."""
        settings = settings or CloserSettings.from_env()
        if self.closer is None and settings is not None:
            self.closer = PeriodCloser(self, settings, clock=clock)
            self.closer.start()
        return self.closer

    async def deliver_outbox(self, settings: DispatchSettings | None = None) -> int:
        """Deliver every due outbox entry once, in this task; returns how many were settled."""
        return await Dispatcher(self, settings).deliver_pending()

    async def outbox_status(self) -> dict[str, int]:
        """Outbox entries per status: pending, done, dead."""
        async with self.sessions.reading() as session:
            return await outbox.counts(session)

    async def outbox_entries(
        self, *, status: str | None = None, limit: int = 20
    ) -> list[outbox.OutboxView]:
        async with self.sessions.reading() as session:
            return await outbox.entries(session, status=status, limit=limit)

    async def retry_outbox(self, ids: Sequence[int] | None = None) -> int:
        """Make dead-lettered entries (`ids`, or all) pending again; returns how many."""
        async with self.sessions() as session:
            count = await outbox.retry(session, ids, now=utcnow())
        if self.dispatcher is not None:
            self.dispatcher.wake()
        return count

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

    # -- reminders ---------------------------------------------------------------------------

    async def reminder_settings(
        self, *, user_id: int | None = None, telegram_id: int | None = None
    ) -> ReminderSettingsView:
        """The learner's reminders (time zone None: never set up)."""
        async with self.sessions.reading() as session:
            user = await catalogue.find_user(session, user_id=user_id, telegram_id=telegram_id)
            return reminders.view(await reminders.stored(session, user.id), self.reminder_policy)

    async def set_reminders(
        self,
        *,
        user_id: int | None = None,
        telegram_id: int | None = None,
        time_zone: str | None = None,
        daily_at: time | Keep | None = KEEP,
        streak_nudge: bool | None = None,
        stopped: bool | None = None,
        at: datetime | None = None,
    ) -> ReminderSettingsView:
        """Change the learner's reminders as of `at` (now) and reschedule them.

        `time_zone` is an IANA name or a UTC offset ("+03:00"), required the first time;
        `daily_at` a local time outside quiet hours (None: no daily reminder); `stopped`
        pauses every reminder (True) or resumes them (False). Arguments left out keep their
        value.
        """
        policy = self.reminder_policy
        changes = reminders.Changes(
            time_zone=parse_zone(time_zone) if time_zone is not None else None,
            daily_at=daily_at
            if isinstance(daily_at, Keep) or daily_at is None
            else policy.checked_daily(daily_at),
            streak_nudge=streak_nudge,
            stopped=stopped,
        )
        now = moment_at(at)

        async def work(session: AsyncSession) -> ReminderSettingsView:
            user = await catalogue.find_user(session, user_id=user_id, telegram_id=telegram_id)
            return await reminders.change(session, user.id, changes, policy, now)

        return await self._write(work)

    async def reminders_back(
        self,
        *,
        user_id: int | None = None,
        telegram_id: int | None = None,
        at: datetime | None = None,
    ) -> bool:
        """The learner talks to the bot again: lift the hold a 403 (or `reminders_away`) put
        on their reminders. Returns whether there was one (an unknown learner has none)."""
        now = moment_at(at)
        async with self.sessions.reading() as session:
            try:
                user = await catalogue.find_user(session, user_id=user_id, telegram_id=telegram_id)
            except UnknownUser:
                return False
            row = await reminders.stored(session, user.id)
            if row is None or row.blocked_at is None:
                return False
            learner = user.id

        async def work(session: AsyncSession) -> bool:
            return await reminders.unblock(session, learner, self.reminder_policy, now)

        return await self._write(work)

    async def reminders_away(
        self,
        *,
        user_id: int | None = None,
        telegram_id: int | None = None,
        at: datetime | None = None,
    ) -> bool:
        """The learner blocked the bot (Telegram says so at once, before any 403): hold their
        reminders until `reminders_back`. Returns whether a hold began (an unknown learner,
        or one who never set up reminders, has none to hold)."""
        now = moment_at(at)

        async def work(session: AsyncSession) -> bool:
            try:
                user = await catalogue.find_user(session, user_id=user_id, telegram_id=telegram_id)
            except UnknownUser:
                return False
            return await reminders.hold(session, user.id, now)

        return await self._write(work)

    async def due_reminders(self, now: datetime, limit: int = 100) -> list[ReminderClaim]:
        """Claim up to `limit` reminders due at `now`, each for its sender alone: a reminder
        is claimed once per learner, local day and kind, whatever the number of callers.

        Settle each claim with `reminder_sent`, `reminder_blocked` or `reminder_failed`; a
        claim left unsettled is claimed again when its lease ends (docs/engine.md).
        """
        if not 1 <= limit <= MAX_REMINDER_BATCH:
            raise QuestlineError(f"limit must be 1 to {MAX_REMINDER_BATCH}, not {limit}")
        moment = moment_at(now)

        async def work(session: AsyncSession) -> list[ReminderClaim]:
            return await reminders.claim_due(
                session, moment, limit, self.reminder_policy, self.zone
            )

        return await self._write(work)

    async def reminder_sending(self, claim: ReminderClaim, *, at: datetime | None = None) -> bool:
        """About to send `claim`: its lease starts again from `at` (now), to cover this send;
        False if it was retaken or settled meanwhile (another sender has it: do not send)."""
        now = moment_at(at)

        async def work(session: AsyncSession) -> bool:
            return await reminders.renew(session, claim, now, self.reminder_policy)

        return await self._write(work)

    async def reminder_sent(self, claim: ReminderClaim, *, at: datetime | None = None) -> bool:
        """Telegram accepted the reminder; False if the claim had been retaken or settled."""
        now = moment_at(at)

        async def work(session: AsyncSession) -> bool:
            return await reminders.settle(session, claim, reminders.Status.SENT, now)

        return await self._write(work)

    async def reminder_blocked(self, claim: ReminderClaim, *, at: datetime | None = None) -> bool:
        """The learner blocked the bot (403): no reminders until `reminders_back`."""
        now = moment_at(at)

        async def work(session: AsyncSession) -> bool:
            return await reminders.block(session, claim, now)

        return await self._write(work)

    async def reminder_failed(
        self,
        claim: ReminderClaim,
        error: str,
        *,
        retry_at: datetime | None = None,
        at: datetime | None = None,
    ) -> bool:
        """Sending failed: tried again from `retry_at` (still that day, outside quiet hours,
        at most `max_attempts` in all), or given up when it is None."""
        now = moment_at(at)

        async def work(session: AsyncSession) -> bool:
            if retry_at is None:
                return await reminders.settle(
                    session, claim, reminders.Status.FAILED, now, error=error
                )
            return await reminders.postpone(session, claim, moment_at(retry_at), error)

        return await self._write(work)

    async def find_user(
        self, *, user_id: int | None = None, telegram_id: int | None = None
    ) -> UserView | None:
        async with self.sessions.reading() as session:
            try:
                user = await catalogue.find_user(session, user_id=user_id, telegram_id=telegram_id)
            except UnknownUser:
                return None
            return catalogue.user_view(user)

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

    async def _record_alone(self, event: Event) -> Committed:
        course = await self.course()

        async def work(session: AsyncSession) -> RecordResult:
            learners = Learners(session, self.zone)
            recorded = await self.recorder.record(session, course, learners, event)
            await learners.settle()
            return recorded.result()

        result, entries = await self._transact(work, retry_conflicts=True)
        return Committed.of(result, entries)

    async def _record_group(self, events: list[Event]) -> list[Committed | BaseException]:
        """Record `events` in one transaction, in order; a refused event is its own outcome.

        A refused event raises before anything of it is gathered, so the others are written
        as if it had not been sent. If the group's transaction fails as a whole, each event is
        recorded alone, so that only the event at fault fails. Runs in the group's drain task:
        nothing here may call hooks (they belong to each caller's task).
        """
        if len(events) == 1:
            try:
                return [await self._record_alone(events[0])]
            except Exception as error:
                return [error]
        course = await self.course()

        async def work(session: AsyncSession) -> list[Recorded | QuestlineError]:
            learners = Learners(session, self.zone)
            await learners.preload(events)
            outcomes: list[Recorded | QuestlineError] = []
            for event in events:
                try:
                    outcomes.append(await self.recorder.record(session, course, learners, event))
                except QuestlineError as error:
                    outcomes.append(error)
            await learners.settle()
            return outcomes

        try:
            outcomes, entries = await self._transact(work, retry_conflicts=True)
        except Exception:
            log.warning("a group of %d events failed; recording each alone", len(events))
            alone: list[Committed | BaseException] = []
            for event in events:
                try:
                    alone.append(await self._record_alone(event))
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

    # -- content and rules -------------------------------------------------------------------

    async def load_content(self, path: str | Path) -> ContentReport:
        """Load a course file (YAML or JSON); idempotent by module and lesson slug."""
        document = read_course(Path(path))
        report = await self._write(lambda session: load_course(session, document))
        await self.reload()
        return report

    def validate_rules(self, paths: Sequence[str | Path]) -> list[RuleDocument]:
        """Rule documents from files, validated against this engine's facts and operators."""
        try:
            return load_rules(paths, self.facts.catalog, self.operators)
        except RuleLoadError as error:
            raise RulesError(str(error)) from None

    async def load_rules(self, paths: Sequence[str | Path]) -> RulesReport:
        """Insert new rules and update changed ones, by slug; nothing loads if any file is bad."""
        documents = self.validate_rules(paths)
        report = await self._write(lambda session: store_rules(session, documents))
        await self.reload()
        return report

    async def diff_rules(self, paths: Sequence[str | Path]) -> list[RuleChange]:
        """What `load_rules(paths)` would change, rule by rule, and for how many holders;
        writes nothing (RulesError if a file is bad, as for loading)."""
        documents = self.validate_rules(paths)
        async with self.sessions.reading() as session:
            return await diff_rules(session, documents)

    def _rule_by_slug(self, slug: str) -> ActiveRule:
        slugs = {rule.slug: rule for rule in self.rulebook.rules}
        if slug in slugs:
            return slugs[slug]
        close = difflib.get_close_matches(slug, slugs, n=1, cutoff=0.6)
        hint = f' (did you mean "{close[0]}"?)' if close else ""
        raise RulesError(f'no enabled rule with slug "{shortened(slug)}"{hint}')

    async def backfill(self, slug: str, *, chunk_size: int = DEFAULT_CHUNK) -> BackfillReport:
        """Evaluate a loaded rule for every learner, in chunks, awarding idempotently.

        Backfilled awards are not announced: award_granted is not called for them, so learners
        are not flooded by notifications for history.
        """
        course = await self.course()
        rule = self._rule_by_slug(slug)
        granted: list[AwardView] = []
        users = 0
        last_id = 0
        while True:
            async with self.sessions() as session:
                ids = list(
                    await session.scalars(
                        select(User.id).where(User.id > last_id).order_by(User.id).limit(chunk_size)
                    )
                )
            if not ids:
                break
            last_id = ids[-1]
            users += len(ids)

            async def work(session: AsyncSession, ids: list[int] = ids) -> list[AwardView]:
                out: list[AwardView] = []
                learners = Learners(session, self.zone)
                await learners.lock_all(user_ids=ids)
                for user_id in ids:
                    learner = await learners.locked(user_id=user_id, telegram_id=None)
                    async for moment in history.moments(
                        session, course, learner, self.zone, rule.compiled
                    ):
                        awarding = Awarding(moment.context, moment.activity)
                        awards = await self.recorder.award(learners.pending, awarding, [rule])
                        if awards:
                            learners.totals_changed(learner)
                            out.extend(awards)
                            break
                await learners.settle()
                return out

            granted.extend(await self._write(work, retry_conflicts=True))
        return BackfillReport(users=users, awards=tuple(granted))

    async def rebuild_aggregates(
        self,
        *,
        chunk_size: int = DEFAULT_CHUNK,
        on_chunk: Callable[[int], None] | None = None,
    ) -> int:
        """Rebuild every learner's aggregates from the activity log, one transaction per chunk
        of learners (each locked meanwhile); returns the number of learners.

        `on_chunk(n)` is called after each chunk with the learners it rebuilt.
        """
        users = last_id = 0
        while True:
            async with self.sessions() as session:
                ids = list(
                    await session.scalars(
                        select(User.id).where(User.id > last_id).order_by(User.id).limit(chunk_size)
                    )
                )
            if not ids:
                return users

            async def work(session: AsyncSession, ids: list[int] = ids) -> None:
                await session.execute(
                    select(User.id).where(User.id.in_(ids)).order_by(User.id).with_for_update()
                )
                await aggregates.rebuild(session, ids, self.zone)

            await self._write(work)
            last_id = ids[-1]
            users += len(ids)
            if on_chunk is not None:
                on_chunk(len(ids))

    def _context(self, session: AsyncSession, course: Course, learner: LearnerState) -> FactContext:
        """Facts about the learner as of now, outside any event."""
        return history.now(session, course, learner, self.zone).context

    async def preview(self, document: RuleDocument) -> list[UserView]:
        """Learners who would qualify for `document` now; writes nothing."""
        compiled = self.rulebook.evaluator.compile(document)
        course = await self.course()
        qualifying = []
        async with self.sessions.reading() as session:
            holders = await session.scalar(
                select(func.count())
                .select_from(UserAchievement)
                .join(Achievement, Achievement.id == UserAchievement.achievement_id)
                .where(Achievement.slug == document.slug)
            )
            for user_id in list(await session.scalars(select(User.id).order_by(User.id))):
                learner = await load_learner(session, self.zone, user_id=user_id)
                async for moment in history.moments(session, course, learner, self.zone, compiled):
                    facts = await self.facts.build(moment.context, compiled.reads)
                    if HOLDERS in compiled.reads:
                        facts["rule"] = {"holders": holders}
                    if (
                        applies(compiled, facts)
                        and self.rulebook.evaluator.evaluate_many([compiled], facts)[compiled.slug]
                        is True
                    ):
                        qualifying.append(catalogue.user_view(learner.user))
                        break
        return qualifying

    # -- reading -----------------------------------------------------------------------------

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
            facts = await self.facts.build(self._context(session, course, learner), PROGRESS_FACTS)
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
            language = language or locale
            earned = await earned_statuses(session, learner, self.rulebook, language)
            return earned + locked_statuses(self.rulebook, learner, facts, locale, language)

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

    def _board(self, period: str, at: datetime | None) -> leaderboard.Standings:
        """The board of `period` ("all", "week" or "month"): for a week or month, the one
        holding `at` (default now) in the engine's time zone."""
        kind = period_named(period)
        if kind is Period.ALL:
            return leaderboard.ALL_TIME
        return leaderboard.period_board(kind, period_of(kind, moment_at(at), self.zone))

    async def top(
        self, limit: int = 10, *, period: str = "all", at: datetime | None = None
    ) -> list[LeaderboardEntry]:
        """The first `limit` entries of the board of `period` (see `_board`)."""
        board = self._board(period, at)
        async with answering(self.sessions.seconds), self.reader.connect() as connection:
            return await leaderboard.top(connection, limit, board)

    async def around(
        self,
        *,
        user_id: int | None = None,
        telegram_id: int | None = None,
        radius: int = 2,
        period: str = "all",
        at: datetime | None = None,
    ) -> list[LeaderboardEntry]:
        """The learner's entry on the board of `period` with `radius` entries either side
        (empty if they are not on it)."""
        board = self._board(period, at)
        async with answering(self.sessions.seconds), self.reader.connect() as connection:
            entries = await leaderboard.around(
                connection, radius, board, user_id=user_id, telegram_id=telegram_id
            )
        if not entries:  # not on the board, or no such learner (UnknownUser)
            async with self.sessions.reading() as session:
                await catalogue.find_user(session, user_id=user_id, telegram_id=telegram_id)
        return entries

    async def close_period(
        self, period: str = "week", *, at: datetime | None = None
    ) -> ClosedPeriod:
        """Close the last week or month finished at `at` (default now): evaluate the rules
        reading its leaderboard facts for every learner on its board and grant what holds,
        once, however many processes call this (a later call reports the first close).

        Awards are earned at `at` (so their points count in the period holding it) and are
        announced through the outbox like an event's.
        """
        kind = period_named(period)
        if kind is Period.ALL:
            raise QuestlineError('"all" never closes; close a week or a month')
        moment = moment_at(at)
        if moment > utcnow():
            raise QuestlineError(f"cannot close as of {moment.isoformat()}: it is in the future")
        start = last_finished(kind, moment, self.zone)
        course = await self.course()
        rules = closing.period_rules(self.rulebook.rules, kind)

        async def work(session: AsyncSession) -> ClosedPeriod:
            return await closing.close(session, self.recorder, course, rules, kind, start, moment)

        try:
            return await self._write(work)
        except IntegrityError:
            async with self.sessions() as session:
                row = await closing.find(session, kind, start)
            if row is None:
                raise
            return closing.closed_view(row, (), again=True)

    async def period_close(
        self, period: str = "week", *, at: datetime | None = None
    ) -> ClosedPeriod | None:
        """How the last week or month finished at `at` (default now) was closed; None while it
        is not closed yet."""
        kind = period_named(period)
        if kind is Period.ALL:
            raise QuestlineError('"all" never closes; ask about a week or a month')
        start = last_finished(kind, moment_at(at), self.zone)
        async with self.sessions() as session:
            row = await closing.find(session, kind, start)
        return None if row is None else closing.closed_view(row, (), again=True)

    async def rebuild_leaderboard(self) -> int:
        """Recompute every learner's all-time total from their lesson scores and the awards
        they hold, and store the ranks of the active ones; returns the rows ranked."""
        return await self._write(leaderboard.rebuild)

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

    # -- adapters' conversations -------------------------------------------------------------

    async def conversation(self, key: str) -> Conversation:
        """Where the conversation `key` of an adapter stands (no state, no data if unknown)."""
        async with self.sessions.reading() as session:
            return await conversations.read(session, key)

    async def set_conversation_state(self, key: str, state: str | None) -> None:
        """Set (None: clear) the conversation's state; its data stays."""
        await self._write(
            lambda session: conversations.write(session, key, state=state), retry_conflicts=True
        )

    async def set_conversation_data(self, key: str, data: Mapping[str, Any]) -> None:
        """Replace the conversation's data (a JSON object; empty: clear); its state stays."""
        await self._write(
            lambda session: conversations.write(session, key, data=data), retry_conflicts=True
        )

    def achievement_catalog(self) -> list[RuleDocument]:
        """The enabled achievements' rule documents, in catalogue order."""
        return [rule.document for rule in self.rulebook.rules]

    def check_rule(self, raw: Any, source: str = "rule") -> list[Problem]:
        """Every problem of one rule document given as data; empty when it is a valid rule."""
        return validate_document(
            raw, source, self.facts.catalog, self.operators, evaluator=self.rulebook.evaluator
        )

    # -- API keys (the HTTP adapter's credentials) ------------------------------------------

    async def create_api_key(self, name: str, scopes: Iterable[str]) -> IssuedKey:
        """A new key with `scopes`; its secret is in the result and nowhere else."""
        parsed = api_keys.parse_scopes(scopes)
        return await self._write(lambda session: api_keys.issue(session, name, parsed))

    async def list_api_keys(self) -> list[ApiKeyView]:
        async with self.sessions.reading() as session:
            return await api_keys.listing(session)

    async def revoke_api_key(self, ref: str) -> ApiKeyView:
        """Revoke a key by its prefix or id; it is refused from then on."""
        return await self._write(lambda session: api_keys.revoke(session, ref))

    async def authenticate(self, secret: str) -> ApiKeyView | None:
        """The live key whose secret this is, or None (never issued, or revoked)."""
        async with self.sessions.reading() as session:
            key = await api_keys.find(session, secret)
        return key if key is not None and key.revoked_at is None else None
