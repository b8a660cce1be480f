"""What every part of the Engine stands on: its database, rules, course and plugins, and
one transaction per write."""

from __future__ import annotations

import asyncio
import logging
import math
import os
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Self, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from questline.engine import catalog_version, catalogue, history, outbox
from questline.engine.course import Course
from questline.engine.db import BoundedSessions, create_engine, database_timeout, reading, retryable
from questline.engine.dispatcher import Dispatcher
from questline.engine.errors import QuestlineError, UnknownUser
from questline.engine.events import Event
from questline.engine.facts import FactContext, FactsBuilder, builtin
from questline.engine.group_commit import GroupCommit
from questline.engine.learner import LearnerState
from questline.engine.models import Achievement, AchievementTranslation
from questline.engine.period_closer import PeriodCloser
from questline.engine.recorder import Recorder
from questline.engine.reminder_times import ReminderPolicy
from questline.engine.rulebook import RuleBook
from questline.engine.timestamps import utcnow
from questline.engine.translations import stored
from questline.engine.views import RecordResult, UserView
from questline.plugins import DISABLE_ENV, PluginError
from questline.plugins.manager import BUILTIN_FACTS, PluginManager, build_plugin_manager
from questline.rules import DEFAULT_OPS_BUDGET, OperatorRegistry, RuleEvaluator

log = logging.getLogger(__name__)

T = TypeVar("T")
DEFAULT_CHUNK = 500
DEFAULT_GROUP = 256
WRITE_ATTEMPTS = 4


def zone_named(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise QuestlineError(
            f'unknown time zone "{name}" (use an IANA name such as "UTC")'
        ) from None


def plugin_operators(plugins: PluginManager) -> OperatorRegistry:
    """The custom operators every plugin gives; a plugin whose operators cannot be registered
    (not a mapping, a name already taken) is a PluginError naming it."""
    operators = OperatorRegistry()
    owners: dict[str, str] = {}
    for impl in reversed(plugins.hook.questline_operators.get_hookimpls()):
        try:
            for name, function in impl.function().items():
                if name in owners:
                    raise PluginError(
                        f'plugins "{owners[name]}" and "{impl.plugin_name}" both give the '
                        f'operator "{name}"; disable one with {DISABLE_ENV}'
                    )
                operators.register(name, function)
                owners[name] = impl.plugin_name
        except PluginError:
            raise
        except Exception as error:
            raise PluginError.failed(impl.plugin_name, "questline_operators", error) from error
    return operators


class EngineBase:
    """The engine's state and plumbing; the parts of its API (`questline.engine.facets`)
    build on it."""

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
        if self.plugins.get_plugin(BUILTIN_FACTS) is None:
            self.plugins.register(builtin, name=BUILTIN_FACTS)
        self.facts = FactsBuilder.from_plugins(self.plugins, trusted=BUILTIN_FACTS)
        self.operators = plugin_operators(self.plugins)
        self.rulebook = RuleBook(
            RuleEvaluator(self.facts.catalog, self.operators, ops_budget=ops_budget)
        )
        self.recorder = Recorder(self.rulebook, self.facts, self.zone)
        self.reminder_policy = reminder_policy or ReminderPolicy()
        self.dispatcher: Dispatcher | None = None
        self.closer: PeriodCloser | None = None
        self._course: Course | None = None
        self._catalog_seen = 0  # the catalogue's version the rules and course were read at
        self._catalog_read_at = -math.inf  # when (time.monotonic())
        self._group_options = (linger, group_size) if group_commit else None
        if group_commit and (linger < 0 or group_size < 1):
            raise QuestlineError("linger must be >= 0 seconds and group_size at least 1")
        self._groups: dict[asyncio.AbstractEventLoop, GroupCommit[Event, RecordResult]] = {}

    @classmethod
    def from_env(cls) -> Self:
        """An engine on DATABASE_URL in QUESTLINE_TIMEZONE (default UTC), with installed plugins."""
        return cls(timezone=os.environ.get("QUESTLINE_TIMEZONE", "UTC"))

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

        The engine keeps both in memory; rules or content loaded by another process are seen
        within `catalog_version.CHECK_SECONDS` (see `course`), or at once after a reload.
        """
        async with self.sessions.reading() as session:
            version = await catalog_version.current(session)
            rows = await session.scalars(select(Achievement).order_by(Achievement.id))
            self.rulebook.replace(rows, await stored(session, AchievementTranslation))
            self._course = await Course.load(session)
        self._catalog_seen, self._catalog_read_at = version, time.monotonic()

    async def course(self) -> Course:
        """The course snapshot in force, loaded on first use and again, with the rules, when
        another process has changed either (the catalogue's version is read at most every
        `catalog_version.CHECK_SECONDS`)."""
        if self._course is None or await self._catalog_moved():
            await self.reload()
        assert self._course is not None
        return self._course

    async def _catalog_moved(self) -> bool:
        if time.monotonic() - self._catalog_read_at < catalog_version.CHECK_SECONDS:
            return False
        self._catalog_read_at = time.monotonic()
        async with self.sessions.reading() as session:
            return await catalog_version.current(session) != self._catalog_seen

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
        """Deliver just-committed outbox entries in the caller's context (e.g. the bot's update
        in progress sees the hooks' calls), waiting a bounded time (`Dispatcher.hand_over`)."""
        if self.dispatcher is not None:
            await self.dispatcher.hand_over(entry_ids)

    async def find_user(
        self, *, user_id: int | None = None, telegram_id: int | None = None
    ) -> UserView | None:
        async with self.sessions.reading() as session:
            try:
                user = await catalogue.find_user(session, user_id=user_id, telegram_id=telegram_id)
            except UnknownUser:
                return None
            return catalogue.user_view(user)

    def _context(self, session: AsyncSession, course: Course, learner: LearnerState) -> FactContext:
        """Facts about the learner as of now, outside any event."""
        return history.now(session, course, learner, self.zone).context
