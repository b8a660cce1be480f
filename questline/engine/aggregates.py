"""Per-learner aggregates: the running figures facts are built from, instead of the history.

Each learner has one ``learner_totals`` row (events by activity type, distinct lessons, the sum
of best scores, active days, streaks) and one ``learner_days`` row per local day with activity
(events by type that day). An event changes them in memory; the rows are written at the end of
the transaction. Days are local days in the engine's time zone, as ``date.toordinal()``.

Day rows are written as increments. A late event (dated before the learner's latest one) is
exact too: its day's row says whether the day was already active, and a new learning day
before the last one recomputes the streaks from the learning days within
``streak_longest + 1`` days of it (one bounded range query).

Streak freezes (``freeze_walk``) take part in the streaks: a learner who was ever given one
has their runs joined across covered days, and the covered days are written to
``streak_freeze_uses``. An in-order learning day costs the same as without freezes; a late
one, or a grant dated before the last learning day, walks again from its day (the learning
days within ``streak_longest + freezes_used + 1`` days before it, and those after it).

Everything here can be rebuilt from ``activity_log``, ``user_progress`` and the freeze grants
(``rebuild``), and so are the learners' week and month gains (``periods``) whenever their
figures are.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, delete, exists, func, insert, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from questline.engine import periods
from questline.engine.freeze_walk import Cursor, Ledger, cover, walk
from questline.engine.models import (
    ActivityLog,
    LearnerDay,
    LearnerTotals,
    ProgressStatus,
    StreakFreezeGrant,
    StreakFreezeUse,
    User,
    UserProgress,
)
from questline.engine.upserts import add_counts
from questline.engine.values import values_of
from questline.rules.vocabulary import ActivityType

COUNTER_OF: dict[ActivityType, str] = {
    ActivityType.LESSON_STARTED: "lesson_starts",
    ActivityType.LESSON_COMPLETED: "lesson_completions",
    ActivityType.CHALLENGE_ATTEMPTED: "challenge_attempts",
    ActivityType.CHALLENGE_SOLVED: "challenge_solves",
    ActivityType.LOGIN: "logins",
}
"""The counter each learner activity adds to (ACHIEVEMENT_EARNED is not a learner activity)."""

LEARNING = frozenset({ActivityType.LESSON_COMPLETED, ActivityType.CHALLENGE_SOLVED})
"""Activities that make a day count for streaks."""

_totals = LearnerTotals.__table__
_days = LearnerDay.__table__
_update_totals = update(_totals).where(_totals.c.user_id == bindparam("key_user_id"))
_grants = StreakFreezeGrant.__table__
_uses = StreakFreezeUse.__table__


def local_day(moment: datetime, zone: ZoneInfo) -> int:
    """The learner's calendar day of a UTC moment, as an ordinal (DST-safe)."""
    return moment.astimezone(zone).date().toordinal()


@dataclass
class Day:
    """One learner's events on one local day."""

    activities: int = 0
    lesson_starts: int = 0
    lesson_completions: int = 0
    challenge_attempts: int = 0
    challenge_solves: int = 0
    logins: int = 0

    @property
    def learning(self) -> bool:
        return self.lesson_completions + self.challenge_solves > 0


@dataclass
class Totals:
    """One learner's running figures (the columns of ``learner_totals``)."""

    zone: str
    lesson_starts: int = 0
    lesson_completions: int = 0
    challenge_attempts: int = 0
    challenge_solves: int = 0
    logins: int = 0
    lessons_started: int = 0
    lessons_completed: int = 0
    challenges_solved: int = 0
    lesson_score: int = 0
    days_active: int = 0
    streak_current: int = 0
    streak_longest: int = 0
    last_learning_day: int | None = None
    last_active_day: int | None = None
    last_event_at: datetime | None = None
    freezes_granted: int = 0
    freezes_used: int = 0

    @property
    def freezes_held(self) -> int:
        """Freezes given and not used yet."""
        return self.freezes_granted - self.freezes_used


_DAY_FIELDS = tuple(f.name for f in fields(Day))
DAY_KEYS = ("user_id", "day")
TOTALS_FIELDS = tuple(f.name for f in fields(Totals))


@dataclass(frozen=True)
class ProgressChange:
    """What an event did to the learner's lesson rows, for the distinct-lesson figures."""

    new_lesson: bool = False
    newly_completed: bool = False
    newly_solved: bool = False
    score_gain: int = 0


@dataclass
class Aggregates:
    """One learner's figures in a transaction: loaded once, changed in memory, written at the end.

    Day rows are written as increments (`deltas`), so an event on a day the totals already
    describe needs no read: only a late event reads its day's row. `seen` holds, for the days
    looked at so far, whether the day is active and whether it is a learning day. With
    `replace`, the learner's stored rows are replaced (the figures were built from the log).
    """

    user_id: int
    totals: Totals
    stored: bool
    seen: dict[int, tuple[bool, bool]] = field(default_factory=dict)
    deltas: dict[int, Day] = field(default_factory=dict)
    dirty: bool = False
    replace: bool = False
    late_run: int | None = None
    """After a late learning event (dated before the last learning day): the length of the
    run of learning days that holds its day, which is its streak as of that day. While a
    grant's `regrown` day is judged: the run on that day."""
    regrown: list[tuple[int, int]] = field(default_factory=list)
    """After a grant dated before the last learning day: the learning days on which its walk
    made a run longer than any the learner had before, with that run, oldest first; the
    streak rules are judged there (`Recorder.award`), and the days are then forgotten."""
    ledger: Ledger | None = None
    """The learner's freeze grants and covered days, loaded when first needed."""
    frozen_added: set[int] = field(default_factory=set)
    frozen_removed: set[int] = field(default_factory=set)
    grants: list[dict[str, Any]] = field(default_factory=list)
    """Freeze grant rows to insert."""

    async def _status(self, session: AsyncSession, day: int) -> tuple[bool, bool]:
        """(active, learning) of `day` before this event."""
        known = self.seen.get(day)
        if known is not None:
            return known
        last = self.totals.last_active_day
        if last is None or day > last or self.replace:
            return False, False
        if day == last:
            return True, self.totals.last_learning_day == day
        row = (
            await session.execute(
                select(
                    _days.c.activities, _days.c.lesson_completions, _days.c.challenge_solves
                ).where(_days.c.user_id == self.user_id, _days.c.day == day)
            )
        ).one_or_none()
        if row is None:
            return False, False
        return row.activities > 0, row.lesson_completions + row.challenge_solves > 0

    async def apply(
        self,
        session: AsyncSession,
        kind: ActivityType,
        moment: datetime,
        zone: ZoneInfo,
        change: ProgressChange,
    ) -> None:
        """Count one learner activity at `moment` (in any arrival order)."""
        self.late_run = None
        totals = self.totals
        counter = COUNTER_OF[kind]
        setattr(totals, counter, getattr(totals, counter) + 1)
        totals.lessons_started += change.new_lesson
        totals.lessons_completed += change.newly_completed
        totals.challenges_solved += change.newly_solved
        totals.lesson_score += change.score_gain
        day = local_day(moment, zone)
        active, learning = await self._status(session, day)
        if not active:
            totals.days_active += 1
        self.seen[day] = (True, learning or kind in LEARNING)
        delta = self.deltas.setdefault(day, Day())
        delta.activities += 1
        setattr(delta, counter, getattr(delta, counter) + 1)
        if kind in LEARNING and not learning:
            await self._new_learning_day(session, day)
        totals.last_active_day = max(day, totals.last_active_day or day)
        totals.last_event_at = max(moment, totals.last_event_at or moment)
        self.dirty = True

    async def _new_learning_day(self, session: AsyncSession, day: int) -> None:
        totals = self.totals
        last = totals.last_learning_day
        if totals.freezes_granted:
            await self._new_learning_day_with_freezes(session, day)
        elif last is None or day > last:
            totals.streak_current = totals.streak_current + 1 if last == day - 1 else 1
            totals.last_learning_day = day
        else:
            # a late learning day: join the runs on either side of it
            reach = totals.streak_longest + 1
            learning = await self._learning_days(session, day - reach, day + reach)
            low = high = day
            while low - 1 in learning:
                low -= 1
            while high + 1 in learning:
                high += 1
            if high == last:
                totals.streak_current = high - low + 1
            totals.streak_longest = max(totals.streak_longest, high - low + 1)
            self.late_run = high - low + 1
        totals.streak_longest = max(totals.streak_longest, totals.streak_current)

    async def _new_learning_day_with_freezes(self, session: AsyncSession, day: int) -> None:
        totals = self.totals
        last = totals.last_learning_day
        if last is not None and day < last:
            await self._walk_again(session, day, late_day=day)
            return
        run = 1
        if last is not None:
            whole = day == last + 1
            if not whole and totals.freezes_held > 0:
                covered, whole = cover(
                    await self.load_ledger(session), last + 1, day - 1, totals.freezes_used
                )
                for missed in covered:
                    self._freeze(missed)
                totals.freezes_used += len(covered)
            run = totals.streak_current + 1 if whole else 1
        totals.streak_current = run
        totals.last_learning_day = day
        totals.streak_longest = max(totals.streak_longest, run)

    async def grant_freezes(
        self,
        session: AsyncSession,
        amount: int,
        moment: datetime,
        zone: ZoneInfo,
        *,
        reason: str | None = None,
        achievement_id: int | None = None,
    ) -> None:
        """Give the learner `amount` freezes at `moment`; a grant dated before the last
        learning day covers missed days after it at once."""
        ledger = await self.load_ledger(session)
        day = local_day(moment, zone)
        ledger.add(day, amount)
        self.grants.append(
            {
                "user_id": self.user_id,
                "amount": amount,
                "granted_at": moment,
                "reason": reason,
                "achievement_id": achievement_id,
            }
        )
        totals = self.totals
        totals.freezes_granted += amount
        last = totals.last_learning_day
        if last is not None and day + 1 < last:
            await self._walk_again(session, day + 1, late_day=None)
        self.dirty = True

    async def streak_as_of(self, session: AsyncSession, day: int) -> int:
        """The current streak as of `day`: the run ending on the last learning day, if that is
        `day` or later, or the day before (the learner has until the end of `day`), or if the
        learner's freezes cover every day missed since (a pending protection)."""
        totals = self.totals
        last = totals.last_learning_day
        if last is None:
            return 0
        if last >= day - 1:
            return totals.streak_current
        if totals.freezes_held <= 0:
            return 0
        ledger = await self.load_ledger(session)
        _, whole = cover(ledger, last + 1, day - 1, totals.freezes_used)
        return totals.streak_current if whole else 0

    async def load_ledger(self, session: AsyncSession) -> Ledger:
        """The learner's grants (days in their figures' zone) and covered days."""
        if self.ledger is None:
            zone = ZoneInfo(self.totals.zone)
            rows = await session.execute(
                select(_grants.c.granted_at, _grants.c.amount).where(
                    _grants.c.user_id == self.user_id
                )
            )
            frozen = await session.scalars(
                select(_uses.c.day).where(_uses.c.user_id == self.user_id)
            )
            grants = [(local_day(moment, zone), amount) for moment, amount in rows]
            self.ledger = Ledger(grants, set(frozen))
        return self.ledger

    async def _walk_again(self, session: AsyncSession, start: int, late_day: int | None) -> None:
        """Walk the freezes again from local day `start` on, after a change dated there (a
        late learning day, or a grant). The days before `start` are as they were, so the walk
        starts from the state at the end of `start - 1`; with an earlier learning day, runs
        can only grow, so the longest is the stored one or one the walk meets."""
        totals = self.totals
        ledger = await self.load_ledger(session)
        last = totals.last_learning_day
        assert last is not None
        longest = totals.streak_longest
        reach = totals.streak_longest + len(ledger.frozen) + 1
        learning = await self._learning_days(session, start - 1 - reach, last)
        cursor = await self._cursor(session, ledger, learning, start - 1)
        walked = walk(ledger, cursor, (day for day in learning if day >= start))
        for day in [day for day in ledger.frozen if day >= start]:
            self._unfreeze(day)
        for day in walked.frozen:
            self._freeze(day)
        totals.freezes_used = len(ledger.frozen)
        totals.streak_current = walked.cursor.run
        if cursor.started:
            totals.streak_longest = max(totals.streak_longest, walked.longest)
        else:
            totals.streak_longest = walked.longest
        if late_day is not None:
            self.late_run = walked.runs[late_day]
        else:
            self.regrown += [(day, run) for day, run in walked.peaks if run > longest]

    async def _cursor(
        self, session: AsyncSession, ledger: Ledger, learning: set[int], day: int
    ) -> Cursor:
        """The walk's state at the end of `day`, from the learning days read around it."""
        used = sum(1 for frozen in ledger.frozen if frozen <= day)
        run = 0
        back = day
        while back in learning or back in ledger.frozen:
            run += back in learning
            back -= 1
        started = run > 0 or any(d <= day for d in learning) or await self._learned_by(session, day)
        return Cursor(day, run, used, started)

    async def _learned_by(self, session: AsyncSession, day: int) -> bool:
        """Whether the learner has a learning day on or before `day`."""
        if any(d <= day and learning for d, (_, learning) in self.seen.items()):
            return True
        if self.replace:
            return False
        found = await session.scalar(
            select(_days.c.day)
            .where(
                _days.c.user_id == self.user_id,
                _days.c.day <= day,
                _days.c.lesson_completions + _days.c.challenge_solves > 0,
            )
            .limit(1)
        )
        return found is not None

    def _freeze(self, day: int) -> None:
        assert self.ledger is not None
        self.ledger.frozen.add(day)
        if day in self.frozen_removed:
            self.frozen_removed.discard(day)
        else:
            self.frozen_added.add(day)

    def _unfreeze(self, day: int) -> None:
        assert self.ledger is not None
        self.ledger.frozen.discard(day)
        if day in self.frozen_added:
            self.frozen_added.discard(day)
        else:
            self.frozen_removed.add(day)

    async def window(self, session: AsyncSession, low: int, high: int) -> Day:
        """The learner's events on the local days [low, high], by type: the stored rows (one
        range sum) and this transaction's."""
        total = Day()
        if not self.replace:
            sums = (
                await session.execute(
                    select(
                        *(func.coalesce(func.sum(_days.c[name]), 0) for name in _DAY_FIELDS)
                    ).where(_days.c.user_id == self.user_id, _days.c.day.between(low, high))
                )
            ).one()
            for name, value in zip(_DAY_FIELDS, sums, strict=True):
                setattr(total, name, int(value))
        for day, delta in self.deltas.items():
            if low <= day <= high:
                for name in _DAY_FIELDS:
                    setattr(total, name, getattr(total, name) + getattr(delta, name))
        return total

    async def completions_by_day(
        self, session: AsyncSession, low: int, high: int
    ) -> dict[int, int]:
        """Lesson completions on each local day in [low, high] that has any: the stored rows
        and this transaction's."""
        counts: dict[int, int] = {}
        if not self.replace:
            rows = await session.execute(
                select(_days.c.day, _days.c.lesson_completions).where(
                    _days.c.user_id == self.user_id,
                    _days.c.day.between(low, high),
                    _days.c.lesson_completions > 0,
                )
            )
            counts.update((day, completions) for day, completions in rows)
        for day, delta in self.deltas.items():
            if low <= day <= high and delta.lesson_completions:
                counts[day] = counts.get(day, 0) + delta.lesson_completions
        return counts

    async def _learning_days(self, session: AsyncSession, low: int, high: int) -> set[int]:
        """Learning days in [low, high]: the stored rows, overlaid with this transaction's."""
        found: set[int] = set()
        if not self.replace:
            rows = await session.execute(
                select(_days.c.day).where(
                    _days.c.user_id == self.user_id,
                    _days.c.day.between(low, high),
                    _days.c.lesson_completions + _days.c.challenge_solves > 0,
                )
            )
            found.update(rows.scalars())
        found.update(d for d, (_, learning) in self.seen.items() if low <= d <= high and learning)
        return found


def figures_from_log(
    zone: ZoneInfo,
    activities: Iterable[tuple[ActivityType, datetime, int | None]],
    progress: Iterable[tuple[ProgressStatus, int | None]],
    grants: Iterable[tuple[datetime, int]] = (),
) -> tuple[Totals, dict[int, Day], Ledger]:
    """A learner's figures computed from scratch: their learner activities (type, time,
    lesson), their lesson rows (status, best score) and their freeze grants (time, amount)."""
    totals = Totals(zone=zone.key)
    days: dict[int, Day] = {}
    solved: set[int | None] = set()
    for kind, moment, entity_id in activities:
        counter = COUNTER_OF[kind]
        setattr(totals, counter, getattr(totals, counter) + 1)
        day = days.setdefault(local_day(moment, zone), Day())
        day.activities += 1
        setattr(day, counter, getattr(day, counter) + 1)
        if kind is ActivityType.CHALLENGE_SOLVED:
            solved.add(entity_id)
        totals.last_event_at = max(moment, totals.last_event_at or moment)
    for status, score in progress:
        totals.lessons_started += 1
        totals.lessons_completed += status is ProgressStatus.COMPLETED
        totals.lesson_score += score or 0
    totals.challenges_solved = len(solved)
    totals.days_active = len(days)
    totals.last_active_day = max(days, default=None)
    ledger = Ledger([(local_day(moment, zone), amount) for moment, amount in grants])
    walked = walk(ledger, Cursor(0, 0, 0, False), (d for d, row in days.items() if row.learning))
    if walked.cursor.started:
        totals.streak_current, totals.streak_longest = walked.cursor.run, walked.longest
        totals.last_learning_day = walked.cursor.day
    ledger.frozen.update(walked.frozen)
    totals.freezes_granted = sum(amount for _, amount in ledger.grants)
    totals.freezes_used = len(walked.frozen)
    return totals, days, ledger


_LEARNER_ACTIVITIES = list(COUNTER_OF)


async def with_history(session: AsyncSession, user_ids: Sequence[int]) -> set[int]:
    """Those of `user_ids` who have anything to build figures from: an activity or a freeze
    grant (an index probe each; a learner's first event needs nothing more)."""
    learner = User.id
    rows = await session.scalars(
        select(learner).where(
            learner.in_(user_ids),
            or_(
                exists().where(ActivityLog.user_id == learner),
                exists().where(_grants.c.user_id == learner),
            ),
        )
    )
    return set(rows)


def first_figures(user_id: int, zone: ZoneInfo) -> Aggregates:
    """The figures of a learner who has done nothing yet: all zero, written with the first
    event (what `build` gives for an empty log, without reading it)."""
    return Aggregates(user_id, Totals(zone=zone.key), stored=False, ledger=Ledger([]))


async def build(
    session: AsyncSession, user_ids: Sequence[int], zone: ZoneInfo
) -> dict[int, Aggregates]:
    """The learners' figures computed from the log, to replace whatever rows are stored (a
    learner with no activity has no rows: nothing is written for them). Two queries."""
    activities: dict[int, list[tuple[ActivityType, datetime, int | None]]] = defaultdict(list)
    progress: dict[int, list[tuple[ProgressStatus, int | None]]] = defaultdict(list)
    grants: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    if user_ids:
        for user_id, kind, moment, entity_id in await session.execute(
            select(
                ActivityLog.user_id,
                ActivityLog.activity_type,
                ActivityLog.created_at,
                ActivityLog.entity_id,
            ).where(
                ActivityLog.user_id.in_(user_ids),
                ActivityLog.activity_type.in_(_LEARNER_ACTIVITIES),
            )
        ):
            activities[user_id].append((kind, moment, entity_id))
        for user_id, status, score in await session.execute(
            select(UserProgress.user_id, UserProgress.status, UserProgress.score).where(
                UserProgress.user_id.in_(user_ids)
            )
        ):
            progress[user_id].append((status, score))
        for user_id, moment, amount in await session.execute(
            select(_grants.c.user_id, _grants.c.granted_at, _grants.c.amount).where(
                _grants.c.user_id.in_(user_ids)
            )
        ):
            grants[user_id].append((moment, amount))
    built = {}
    for user_id in user_ids:
        totals, days, ledger = figures_from_log(
            zone, activities[user_id], progress[user_id], grants[user_id]
        )
        empty = not days and totals == Totals(zone=zone.key)
        built[user_id] = Aggregates(
            user_id,
            totals,
            stored=False,
            seen={day: (True, row.learning) for day, row in days.items()},
            deltas=days,
            dirty=not empty,
            replace=True,
            ledger=ledger,
            frozen_added=set(ledger.frozen),
        )
    return built


async def write(session: AsyncSession, changed: Iterable[Aggregates]) -> None:
    """Write the changed figures: a few statements for any number of learners."""
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    days: list[dict[str, Any]] = []
    grants: list[dict[str, Any]] = []
    frozen: list[dict[str, Any]] = []
    thawed: list[tuple[int, int]] = []
    replaced: list[int] = []
    zone: ZoneInfo | None = None
    for aggregates in changed:
        if not aggregates.dirty:
            continue
        if aggregates.replace:
            replaced.append(aggregates.user_id)
            zone = ZoneInfo(aggregates.totals.zone)
        values = {"user_id": aggregates.user_id, **values_of(aggregates.totals)}
        (updates if aggregates.stored else inserts).append(values)
        days += (
            {"user_id": aggregates.user_id, "day": day, **values_of(delta)}
            for day, delta in sorted(aggregates.deltas.items())
        )
        grants += aggregates.grants
        frozen += ({"user_id": aggregates.user_id, "day": day} for day in aggregates.frozen_added)
        thawed += ((aggregates.user_id, day) for day in aggregates.frozen_removed)
        aggregates.grants = []
        aggregates.frozen_added = set()
        aggregates.frozen_removed = set()
        aggregates.stored = True
        aggregates.replace = False
        aggregates.deltas = {}
        aggregates.dirty = False
    if replaced:
        assert zone is not None
        await session.execute(delete(_days).where(_days.c.user_id.in_(replaced)))
        await session.execute(delete(_totals).where(_totals.c.user_id.in_(replaced)))
        await session.execute(delete(_uses).where(_uses.c.user_id.in_(replaced)))
        await periods.rebuild(session, replaced, zone)
    if inserts:
        await session.execute(insert(_totals), inserts)
    if updates:
        await session.execute(
            _update_totals, [{**values, "key_user_id": values.pop("user_id")} for values in updates]
        )
    if days:
        dialect = session.get_bind().dialect.name
        await session.execute(add_counts(_days, DAY_KEYS, _DAY_FIELDS, dialect), days)
    if grants:
        await session.execute(insert(_grants), grants)
    if thawed:
        await session.execute(delete(_uses).where(tuple_(_uses.c.user_id, _uses.c.day).in_(thawed)))
    if frozen:
        await session.execute(insert(_uses), frozen)


async def rebuild(session: AsyncSession, user_ids: Iterable[int], zone: ZoneInfo) -> None:
    """Replace the figures and the week and month gains of `user_ids` by figures built from
    the log, and set each lesson row's first-solve time from the log."""
    ids = list(user_ids)
    if not ids:
        return
    await session.execute(delete(_days).where(_days.c.user_id.in_(ids)))
    await session.execute(delete(_totals).where(_totals.c.user_id.in_(ids)))
    await session.execute(delete(_uses).where(_uses.c.user_id.in_(ids)))
    built = (await build(session, ids, zone)).values()
    for aggregates in built:
        aggregates.replace = False
    await write(session, built)
    await periods.rebuild(session, ids, zone)
    first_solve = (
        select(func.min(ActivityLog.created_at))
        .where(
            ActivityLog.user_id == UserProgress.user_id,
            ActivityLog.entity_id == UserProgress.lesson_id,
            ActivityLog.activity_type == ActivityType.CHALLENGE_SOLVED,
        )
        .scalar_subquery()
    )
    await session.execute(
        update(UserProgress)
        .where(UserProgress.user_id.in_(ids))
        .values(solved_at=first_solve, updated_at=UserProgress.updated_at)
        .execution_options(synchronize_session=False)
    )
