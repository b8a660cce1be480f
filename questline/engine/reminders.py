"""Reminders in the database: each learner's choices and schedule, and reminders claimed once.

A learner's ``reminder_settings`` row holds, per kind, the next UTC moment the reminder is due
(indexed), so finding due reminders reads only the learners who are due. Claiming one moves
the row to its next occurrence and, if the reminder is still worth sending, inserts a
``reminder_sends`` row, unique per (learner, local day, kind), in the same transaction: the
settings row is locked (``FOR UPDATE SKIP LOCKED`` on MySQL/MariaDB, ``BEGIN IMMEDIATE`` on
SQLite), so concurrent schedulers take different learners, and the unique key is the last
guard. A claim is "sending" with a lease; the sender settles it (sent, blocked, failed, or
due again later). A claim whose lease ran out unsettled is taken again by any scheduler.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import Enum, StrEnum
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from questline.engine.aggregates import LEARNING, TOTALS_FIELDS, Aggregates, Totals, local_day
from questline.engine.errors import InvalidReminder
from questline.engine.models import (
    ActivityLog,
    LearnerTotals,
    ReminderSend,
    ReminderSettings,
    User,
)
from questline.engine.reminder_times import (
    ReminderPolicy,
    minute_of,
    next_due,
    time_of,
    zone_of,
)
from questline.engine.views import ReminderClaim, ReminderSettingsView

ERROR_LIMIT = 255


class Kind(StrEnum):
    DAILY = "daily"
    STREAK = "streak"


class Status(StrEnum):
    SENDING = "sending"
    SENT = "sent"
    BLOCKED = "blocked"
    FAILED = "failed"
    EXPIRED = "expired"


class Keep(Enum):
    """A setting left as it is."""

    KEEP = "keep"


KEEP = Keep.KEEP
DUE = {Kind.DAILY: ReminderSettings.daily_due_at, Kind.STREAK: ReminderSettings.streak_due_at}


@dataclass(frozen=True)
class Changes:
    """What a learner changes in their reminders (None or KEEP: unchanged)."""

    time_zone: str | None = None
    daily_at: int | Literal[Keep.KEEP] | None = KEEP
    streak_nudge: bool | None = None
    stopped: bool | None = None


@dataclass(frozen=True)
class Learning:
    """What a reminder needs to know of the learner: their streak on the engine's day, and
    whether they learned on the reminder's own (local) day."""

    learned_today: bool
    """On the engine's day: the day that breaks the streak."""
    streak: int
    learned_that_day: bool = False
    """On the learner's local day the reminder is for."""

    def worth(self, kind: Kind) -> bool:
        """The daily reminder is for a learner who has not learned on their day; the nudge is
        for a streak to keep, not yet kept on the engine's day."""
        if kind is Kind.DAILY:
            return not self.learned_that_day
        return not self.learned_today and self.streak >= 1


def view(row: ReminderSettings | None, policy: ReminderPolicy) -> ReminderSettingsView:
    return ReminderSettingsView(
        time_zone=row.time_zone if row else None,
        daily_at=time_of(row.daily_at) if row and row.daily_at is not None else None,
        streak_nudge=row.streak_nudge if row else False,
        stopped=row.stopped if row else False,
        blocked=row is not None and row.blocked_at is not None,
        quiet_start=policy.quiet_start,
        quiet_end=policy.quiet_end,
        nudge_at=policy.nudge_at,
    )


def schedule(row: ReminderSettings, policy: ReminderPolicy, now: datetime) -> None:
    """Set when each kind is next due after `now` (nothing while stopped or blocked)."""
    zone = zone_of(row.time_zone)
    active = not row.stopped and row.blocked_at is None
    row.daily_due_at = (
        next_due(row.daily_at, zone, now) if active and row.daily_at is not None else None
    )
    nudge = minute_of(policy.nudge_at)
    row.streak_due_at = next_due(nudge, zone, now) if active and row.streak_nudge else None


async def stored(session: AsyncSession, user_id: int) -> ReminderSettings | None:
    return await session.get(ReminderSettings, user_id)


async def change(
    session: AsyncSession,
    user_id: int,
    changes: Changes,
    policy: ReminderPolicy,
    now: datetime,
) -> ReminderSettingsView:
    """Apply `changes` and reschedule; a learner's first change must name their time zone."""
    row = await session.get(ReminderSettings, user_id, with_for_update=True)
    if row is None:
        if changes.time_zone is None:
            raise InvalidReminder(
                "choose your time zone first: reminders are sent in your local time"
            )
        row = ReminderSettings(user_id=user_id, streak_nudge=True, stopped=False)
        session.add(row)
    if changes.time_zone is not None:
        row.time_zone = changes.time_zone
    if changes.daily_at is not KEEP:
        row.daily_at = changes.daily_at
    if changes.streak_nudge is not None:
        row.streak_nudge = changes.streak_nudge
    if changes.stopped is not None:
        row.stopped = changes.stopped
    schedule(row, policy, now)
    await session.flush()
    return view(row, policy)


async def unblock(
    session: AsyncSession, user_id: int, policy: ReminderPolicy, now: datetime
) -> bool:
    """Lift the hold a 403 put on the learner's reminders; False if there was none."""
    row = await session.get(ReminderSettings, user_id, with_for_update=True)
    if row is None or row.blocked_at is None:
        return False
    row.blocked_at = None
    schedule(row, policy, now)
    return True


async def learning(
    session: AsyncSession, days: Mapping[int, tuple[date, tzinfo]], today: int
) -> dict[int, Learning]:
    """Each learner's (of `days`: their reminder's local day and zone) streak facts on the
    engine's local day `today`, as `streak.current` has them (a run kept alive by freezes
    covering the days missed since is current), and whether they learned on their day."""
    user_ids = list(days)
    columns = [LearnerTotals.__table__.c[name] for name in TOTALS_FIELDS]
    rows = await session.execute(
        select(LearnerTotals.user_id, *columns).where(LearnerTotals.user_id.in_(user_ids))
    )
    streaks = {}
    for user_id, *values in rows:
        totals = Totals(**dict(zip(TOTALS_FIELDS, values, strict=True)))
        if totals.last_learning_day is not None:
            current = await Aggregates(user_id, totals, stored=True).streak_as_of(session, today)
            streaks[user_id] = (totals.last_learning_day >= today, current)
    learned = await _learned_on(session, days)
    return {
        user_id: Learning(*streaks.get(user_id, (False, 0)), user_id in learned)
        for user_id in user_ids
    }


async def _learned_on(session: AsyncSession, days: Mapping[int, tuple[date, tzinfo]]) -> set[int]:
    """The learners with a learning activity on their local day (one indexed read of the
    learners' learning activities over the span of those days)."""
    windows = {user_id: day_span(day, zone) for user_id, (day, zone) in days.items()}
    if not windows:
        return set()
    rows = await session.execute(
        select(ActivityLog.user_id, ActivityLog.created_at).where(
            ActivityLog.user_id.in_(list(windows)),
            ActivityLog.activity_type.in_(LEARNING),
            ActivityLog.created_at >= min(start for start, _ in windows.values()),
            ActivityLog.created_at < max(end for _, end in windows.values()),
        )
    )
    return {
        user_id for user_id, moment in rows if windows[user_id][0] <= moment < windows[user_id][1]
    }


def _zone(row: ReminderSettings | None) -> tzinfo:
    return zone_of(row.time_zone) if row is not None else UTC


def day_span(day: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """Local `day` in `zone` as UTC moments [start, end) (DST-safe: 23 or 25 hours long)."""
    start = datetime.combine(day, time(), zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC)
    return start, end


async def learners(session: AsyncSession, user_ids: Sequence[int]) -> dict[int, User]:
    rows = await session.scalars(select(User).where(User.id.in_(user_ids)))
    return {user.id: user for user in rows}


def sendable(
    row: ReminderSettings | None,
    user: User | None,
    day: date,
    now: datetime,
    policy: ReminderPolicy,
) -> bool:
    """Whether a reminder for local `day` may go out at `now`: reminders on, the learner
    active, still that day for them, and outside quiet hours."""
    if row is None or user is None or not user.is_active:
        return False
    if row.stopped or row.blocked_at is not None:
        return False
    local = now.astimezone(zone_of(row.time_zone))
    return local.date() == day and not policy.quiet(local.time())


def claim_view(send: ReminderSend, user: User) -> ReminderClaim:
    return ReminderClaim(
        id=send.id,
        attempt=send.attempts,
        kind=send.kind,
        user_id=user.id,
        telegram_id=user.telegram_id,
        first_name=user.first_name,
        language_code=user.language_code,
        day=date.fromordinal(send.day),
        streak=send.streak,
    )


async def claim_due(
    session: AsyncSession, now: datetime, limit: int, policy: ReminderPolicy, zone: ZoneInfo
) -> list[ReminderClaim]:
    """Claim up to `limit` reminders due at `now`: leased claims first, then new ones."""
    today = local_day(now, zone)
    claims = await _retake(session, now, limit, policy, today)
    for kind in Kind:
        if len(claims) < limit:
            claims += await _claim_new(session, kind, now, limit - len(claims), policy, today)
    return claims


async def _retake(
    session: AsyncSession, now: datetime, limit: int, policy: ReminderPolicy, today: int
) -> list[ReminderClaim]:
    """Claims whose lease ran out (a sender died, or asked to try later): claimed again if
    still sendable, else expired (or failed after `max_attempts`)."""
    sends = list(
        await session.scalars(
            select(ReminderSend)
            .where(ReminderSend.status == Status.SENDING, ReminderSend.lease_until <= now)
            .order_by(ReminderSend.lease_until, ReminderSend.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if not sends:
        return []
    rows = {send.user_id: await stored(session, send.user_id) for send in sends}
    days = {send.user_id: (date.fromordinal(send.day), _zone(rows[send.user_id])) for send in sends}
    users, facts = await learners(session, list(days)), await learning(session, days, today)
    claims = []
    for send in sends:
        row, user = rows[send.user_id], users.get(send.user_id)
        day = date.fromordinal(send.day)
        if send.attempts >= policy.max_attempts:
            _settle_row(send, Status.FAILED, now)
        elif not sendable(row, user, day, now, policy) or not facts[send.user_id].worth(
            Kind(send.kind)
        ):
            _settle_row(send, Status.EXPIRED, now)
        else:
            assert user is not None
            send.attempts += 1
            send.lease_until = now + policy.lease
            claims.append(claim_view(send, user))
    await session.flush()
    return claims


async def _claim_new(
    session: AsyncSession,
    kind: Kind,
    now: datetime,
    limit: int,
    policy: ReminderPolicy,
    today: int,
) -> list[ReminderClaim]:
    """Learners whose `kind` is due: each moves to its next occurrence, and is claimed if
    the reminder is still for today, outside quiet hours and worth sending."""
    due = DUE[kind]
    rows = list(
        await session.scalars(
            select(ReminderSettings)
            .where(due <= now)
            .order_by(due, ReminderSettings.user_id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if not rows:
        return []
    days = {}
    for row in rows:
        zone = _zone(row)
        days[row.user_id] = (getattr(row, due.key).astimezone(zone).date(), zone)
    users, facts = await learners(session, list(days)), await learning(session, days, today)
    wanted: dict[int, tuple[ReminderSettings, date]] = {}
    for row in rows:
        day = days[row.user_id][0]
        schedule(row, policy, now)
        if sendable(row, users.get(row.user_id), day, now, policy) and facts[row.user_id].worth(
            kind
        ):
            wanted[row.user_id] = (row, day)
    if wanted:
        taken = await session.execute(
            select(ReminderSend.user_id, ReminderSend.day).where(
                ReminderSend.kind == kind,
                ReminderSend.user_id.in_(list(wanted)),
                ReminderSend.day.in_({day.toordinal() for _, day in wanted.values()}),
            )
        )
        for user_id, day_number in taken:
            if user_id in wanted and wanted[user_id][1].toordinal() == day_number:
                del wanted[user_id]
    sends = [
        ReminderSend(
            user_id=user_id,
            day=day.toordinal(),
            kind=kind.value,
            status=Status.SENDING.value,
            attempts=1,
            streak=facts[user_id].streak,
            lease_until=now + policy.lease,
            claimed_at=now,
        )
        for user_id, (_, day) in wanted.items()
    ]
    session.add_all(sends)
    await session.flush()
    return [claim_view(send, users[send.user_id]) for send in sends]


def _settle_row(send: ReminderSend, status: Status, now: datetime) -> None:
    send.status = status.value
    send.settled_at = now


async def _update_claim(session: AsyncSession, claim: ReminderClaim, **values: object) -> bool:
    """Set `values` on the claim's row if it is still this claim (same attempt, still
    sending); False if it was retaken or settled meanwhile."""
    result = await session.execute(
        update(ReminderSend)
        .where(
            ReminderSend.id == claim.id,
            ReminderSend.attempts == claim.attempt,
            ReminderSend.status == Status.SENDING,
        )
        .values(**values)
    )
    return result.rowcount == 1


async def settle(
    session: AsyncSession,
    claim: ReminderClaim,
    status: Status,
    now: datetime,
    *,
    error: str | None = None,
) -> bool:
    """Record how the claim ended; False if it is no longer this claim (retaken or settled)."""
    return await _update_claim(
        session,
        claim,
        status=status.value,
        settled_at=now,
        last_error=error[:ERROR_LIMIT] if error else None,
    )


async def renew(
    session: AsyncSession, claim: ReminderClaim, now: datetime, policy: ReminderPolicy
) -> bool:
    """Start the claim's lease again from `now`, as its sender is about to send it; False if
    it is no longer this claim (retaken by another sender, or settled): then it must not go."""
    return await _update_claim(session, claim, lease_until=now + policy.lease)


async def postpone(
    session: AsyncSession, claim: ReminderClaim, retry_at: datetime, error: str
) -> bool:
    """Leave the claim "sending", to be taken again at `retry_at` (Telegram asked to wait)."""
    return await _update_claim(session, claim, lease_until=retry_at, last_error=error[:ERROR_LIMIT])


async def block(session: AsyncSession, claim: ReminderClaim, now: datetime) -> bool:
    """Settle the claim as blocked and hold the learner's reminders until they are back."""
    if not await settle(session, claim, Status.BLOCKED, now, error="blocked by the learner"):
        return False
    await hold(session, claim.user_id, now)
    return True


async def hold(session: AsyncSession, user_id: int, now: datetime) -> bool:
    """Hold the learner's reminders (they blocked the bot) until they are back; False if
    they have no reminder settings or the hold is already on."""
    row = await session.get(ReminderSettings, user_id, with_for_update=True)
    if row is None or row.blocked_at is not None:
        return False
    row.blocked_at = now
    row.daily_due_at = row.streak_due_at = None
    return True
