"""The transactional outbox: notifications written in the transaction of the event they announce.

`stage` adds the entries of one recorded event to the recording session, so they commit or roll
back with it. The other functions are the dispatcher's and the command line's: claiming due
entries, settling them, counting, listing and retrying. Claims use ``FOR UPDATE SKIP LOCKED``
on MySQL/MariaDB; on SQLite every transaction begins with ``BEGIN IMMEDIATE``, so the claim's
select-then-update runs alone and two dispatchers never claim the same row (see
docs/decisions.md).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from questline.engine.errors import QuestlineError
from questline.engine.events import Event
from questline.engine.models import OutboxEntry, OutboxStatus
from questline.engine.values import values_of
from questline.engine.views import AwardView, RecordResult
from questline.engine.writes import ActivityRow

EVENT_RECORDED = "event.recorded"
AWARD_GRANTED = "award.granted"
TOPICS = (AWARD_GRANTED, EVENT_RECORDED)
HOOKS = {EVENT_RECORDED: "questline_event_recorded", AWARD_GRANTED: "questline_award_granted"}
_STAGED = "questline.outbox.staged"
# Session.info key: the plugin manager whose hooks decide which topics are written
LISTENERS = "questline.outbox.listeners"
ERROR_LIMIT = 1000


@dataclass(frozen=True)
class Delivery:
    """What a hook is told about the outbox entry it handles.

    `id` is stable: every delivery of the entry, after any retry or crash, carries the same id.
    """

    id: str
    topic: str
    attempt: int
    created_at: datetime


@dataclass(frozen=True)
class OutboxView:
    """One outbox entry, as `questline outbox list` shows it."""

    id: int
    dedupe_id: str
    topic: str
    status: str
    attempts: int
    user_id: int | None
    created_at: datetime
    available_at: datetime
    delivered_at: datetime | None
    last_error: str | None


def plugin_names(delivered_to: str | None) -> set[str]:
    """The plugins an entry's `delivered_to` column names."""
    return set(delivered_to.split(",")) if delivered_to else set()


def _delivered_to(names: Iterable[str]) -> str | None:
    """The `delivered_to` column for these plugin names."""
    return ",".join(sorted(names)) or None


def award_data(award: AwardView) -> dict[str, Any]:
    """An award as JSON data."""
    data = values_of(award)
    data["earned_at"] = award.earned_at.isoformat()
    return data


def award_from(data: dict[str, Any]) -> AwardView:
    return AwardView(**{**data, "earned_at": datetime.fromisoformat(data["earned_at"])})


def stage(
    session: AsyncSession, event: Event, activity: ActivityRow, awards: Sequence[AwardView]
) -> None:
    """Add the entries announcing a recorded event: `event.recorded`, then one per award.

    A topic is written only if a plugin implements its hook (the session's LISTENERS); an
    event that grants nothing and that nobody listens to costs nothing here.
    """
    entries = []
    if _listened(session, EVENT_RECORDED):
        awards_data = [award_data(award) for award in awards]
        payload = {"event": event.model_dump(mode="json"), "awards": awards_data}
        entries.append(_entry(EVENT_RECORDED, activity, payload))
    if awards and _listened(session, AWARD_GRANTED):
        entries += [_entry(AWARD_GRANTED, activity, award_data(award)) for award in awards]
    session.info.setdefault(_STAGED, []).extend(entries)


def stage_awards(session: AsyncSession, user_id: int, awards: Sequence[AwardView]) -> None:
    """Add the entries announcing awards that no event granted (a period's close)."""
    if awards and _listened(session, AWARD_GRANTED):
        session.info.setdefault(_STAGED, []).extend(
            (_new_entry(AWARD_GRANTED, user_id, award_data(award)), None) for award in awards
        )


def _listened(session: AsyncSession, topic: str) -> bool:
    listeners = session.info.get(LISTENERS)
    return listeners is None or bool(getattr(listeners.hook, HOOKS[topic]).get_hookimpls())


def _entry(
    topic: str, activity: ActivityRow, data: dict[str, Any]
) -> tuple[OutboxEntry, ActivityRow]:
    return _new_entry(topic, activity.values["user_id"], data), activity


def _new_entry(topic: str, user_id: int, data: dict[str, Any]) -> OutboxEntry:
    return OutboxEntry(
        dedupe_id=str(uuid.uuid4()),
        topic=topic,
        user_id=user_id,
        payload=json.dumps(data, ensure_ascii=False, sort_keys=True),
    )


async def write_staged(
    session: AsyncSession, *, available_at: datetime | None = None
) -> dict[int | None, list[int]]:
    """Insert the entries staged in `session`, once their events' rows have ids (at the end
    of the transaction's work); returns the entries' ids by the id of the event's activity row
    (None for entries of no event, such as a period close's awards).

    `available_at` holds the entries back from background passes until then (the committing
    process hands them to its own dispatcher first, see `claim`).
    """
    staged: list[tuple[OutboxEntry, ActivityRow | None]] = session.info.pop(_STAGED, [])
    if not staged:
        return {}
    for entry, activity in staged:
        entry.activity_id = activity.id if activity is not None else None
        if available_at is not None:
            entry.available_at = available_at
    session.add_all(entry for entry, _ in staged)
    await session.flush()
    by_activity: dict[int | None, list[int]] = {}
    for entry, activity in staged:
        by_activity.setdefault(None if activity is None else activity.id, []).append(entry.id)
    return by_activity


def hook_arguments(entry: OutboxEntry) -> dict[str, Any]:
    """The keyword arguments of the hook that `entry`'s topic calls (without `engine`)."""
    data = json.loads(entry.payload)
    delivery = Delivery(entry.dedupe_id, entry.topic, entry.attempts + 1, entry.created_at)
    if entry.topic == AWARD_GRANTED:
        return {"award": award_from(data), "delivery": delivery}
    awards = tuple(award_from(item) for item in data["awards"])
    result = RecordResult(
        entry.activity_id or 0, replayed=False, awards=awards, user_id=entry.user_id
    )
    return {"event": Event.model_validate(data["event"]), "result": result, "delivery": delivery}


async def claim(
    session: AsyncSession,
    *,
    now: datetime,
    lease: timedelta,
    limit: int,
    ids: Iterable[int] | None = None,
    exclude: Sequence[int] = (),
) -> list[OutboxEntry]:
    """Claim up to `limit` due pending entries (only among `ids` if given, never those in
    `exclude`) for `lease`.

    Commits. A claimed entry is invisible to other claims until its lease ends, so an entry
    whose dispatcher died is claimed again once the lease is over. Named `ids` may also be
    claimed before they are due if nobody has claimed them yet: the process that committed
    them hands them over this way while background passes wait for their `available_at`.
    """
    due_now = OutboxEntry.available_at <= now
    if ids is not None:
        never_claimed = and_(OutboxEntry.claim_token.is_(None), OutboxEntry.attempts == 0)
        due_now = or_(due_now, never_claimed)
    due = (
        select(OutboxEntry.id)
        .where(OutboxEntry.status == OutboxStatus.PENDING, due_now)
        .order_by(OutboxEntry.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if ids is not None:
        due = due.where(OutboxEntry.id.in_(list(ids)))
    if exclude:
        due = due.where(OutboxEntry.id.not_in(exclude))
    token = uuid.uuid4().hex
    async with session.begin():
        chosen = list(await session.scalars(due))
        if not chosen:
            return []
        await session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.id.in_(chosen))
            .values(claim_token=token, available_at=now + lease)
        )
        rows = await session.scalars(
            select(OutboxEntry).where(OutboxEntry.claim_token == token).order_by(OutboxEntry.id)
        )
        return list(rows)


async def renew(
    session: AsyncSession, entry: OutboxEntry, *, now: datetime, lease: timedelta
) -> bool:
    """Start the claim's lease again from `now`; False if the entry is no longer this claim's
    (its lease ran out and another dispatcher took it, or it was settled)."""
    async with session.begin():
        renewed = await session.execute(
            update(OutboxEntry)
            .where(
                OutboxEntry.id == entry.id,
                OutboxEntry.claim_token == entry.claim_token,
                OutboxEntry.status == OutboxStatus.PENDING,
            )
            .values(available_at=now + lease)
        )
    return renewed.rowcount == 1  # type: ignore[attr-defined,no-any-return]


async def mark_done(session: AsyncSession, ids: Sequence[int], *, now: datetime) -> None:
    async with session.begin():
        await session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.id.in_(ids), OutboxEntry.status == OutboxStatus.PENDING)
            .values(status=OutboxStatus.DONE, delivered_at=now, claim_token=None)
        )


async def defer(
    session: AsyncSession, entry: OutboxEntry, *, delivered_to: Iterable[str], until: datetime
) -> None:
    """Release a claimed entry that is left to another process, due again `until`; the plugins
    that took it here are remembered, and no attempt counts."""
    async with session.begin():
        await session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.id == entry.id, OutboxEntry.status == OutboxStatus.PENDING)
            .values(
                available_at=until,
                claim_token=None,
                delivered_to=_delivered_to(delivered_to),
            )
        )


async def hold(
    session: AsyncSession, entry: OutboxEntry, *, delivered_to: Iterable[str], until: datetime
) -> None:
    """Keep a claimed entry claimed until `until`, for a plugin that delivers it later in this
    process (`DeliveryHeld`); the plugins that took it are remembered, and no attempt counts."""
    async with session.begin():
        await session.execute(
            update(OutboxEntry)
            .where(
                OutboxEntry.id == entry.id,
                OutboxEntry.status == OutboxStatus.PENDING,
                OutboxEntry.claim_token == entry.claim_token,
            )
            .values(available_at=until, delivered_to=_delivered_to(delivered_to))
        )


async def settle_held(
    session: AsyncSession,
    entry_id: int,
    *,
    token: str | None,
    holders: Sequence[str],
    delivered: bool,
    now: datetime,
) -> None:
    """What the `holders` of an entry made of it (see `hold`).

    `token` is the hold's claim, None when the entry was not held as a whole (another plugin
    failed or deferred it meanwhile, so it is pending for them). Delivered: the holders are
    remembered as done with it, and a held entry still under its claim is done. Not delivered:
    a held entry still under its claim is due again now, for the holders' usual path.
    """
    async with session.begin():
        row = (
            await session.execute(
                select(OutboxEntry.claim_token, OutboxEntry.delivered_to)
                .where(OutboxEntry.id == entry_id, OutboxEntry.status == OutboxStatus.PENDING)
                .with_for_update()
            )
        ).one_or_none()
        if row is None:
            return
        claimed = token is not None and row.claim_token == token
        if not delivered:
            values: dict[str, Any] = {"claim_token": None, "available_at": now} if claimed else {}
        elif claimed:
            values = {"status": OutboxStatus.DONE, "delivered_at": now, "claim_token": None}
        else:
            names = plugin_names(row.delivered_to).union(holders)
            values = {"delivered_to": _delivered_to(names)}
        if values:
            await session.execute(
                update(OutboxEntry).where(OutboxEntry.id == entry_id).values(**values)
            )


async def mark_failed(
    session: AsyncSession,
    entry: OutboxEntry,
    *,
    error: str,
    delivered_to: Iterable[str],
    retry_at: datetime | None,
) -> None:
    """Count a failed attempt: due again at `retry_at`, or dead-lettered when it is None."""
    async with session.begin():
        await session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.id == entry.id, OutboxEntry.status == OutboxStatus.PENDING)
            .values(
                attempts=OutboxEntry.attempts + 1,
                status=OutboxStatus.PENDING if retry_at else OutboxStatus.DEAD,
                available_at=retry_at or entry.available_at,
                claim_token=None,
                delivered_to=_delivered_to(delivered_to),
                last_error=error[:ERROR_LIMIT],
            )
        )


async def counts(session: AsyncSession) -> dict[str, int]:
    """Entries per status (every status present, zero included)."""
    rows = await session.execute(
        select(OutboxEntry.status, func.count()).group_by(OutboxEntry.status)
    )
    found = {status: int(count) for status, count in rows}
    return {status.value: found.get(status.value, 0) for status in OutboxStatus}


async def entries(session: AsyncSession, *, status: str | None, limit: int) -> list[OutboxView]:
    """The latest entries (of one status if given), newest first."""
    query = select(OutboxEntry).order_by(OutboxEntry.id.desc()).limit(limit)
    if status is not None:
        query = query.where(OutboxEntry.status == status)
    return [
        OutboxView(
            id=row.id,
            dedupe_id=row.dedupe_id,
            topic=row.topic,
            status=row.status,
            attempts=row.attempts,
            user_id=row.user_id,
            created_at=row.created_at,
            available_at=row.available_at,
            delivered_at=row.delivered_at,
            last_error=row.last_error,
        )
        for row in await session.scalars(query)
    ]


async def retry(session: AsyncSession, ids: Sequence[int] | None, *, now: datetime) -> int:
    """Make dead entries (those of `ids`, or all) pending again with a fresh attempt count."""
    query = (
        update(OutboxEntry)
        .where(OutboxEntry.status == OutboxStatus.DEAD)
        .values(status=OutboxStatus.PENDING, attempts=0, available_at=now, claim_token=None)
    )
    async with session.begin():
        if ids is not None:
            rows = await session.execute(
                select(OutboxEntry.id, OutboxEntry.status).where(OutboxEntry.id.in_(ids))
            )
            found = {entry_id: state for entry_id, state in rows}
            for entry_id in ids:
                if entry_id not in found:
                    raise QuestlineError(f"no outbox entry {entry_id}")
                if found[entry_id] != OutboxStatus.DEAD:
                    raise QuestlineError(
                        f"outbox entry {entry_id} is {found[entry_id]}, not dead: nothing to retry"
                    )
            query = query.where(OutboxEntry.id.in_(ids))
        return (await session.execute(query)).rowcount


async def last_id(session: AsyncSession) -> int:
    """The newest outbox entry's id (0 for none)."""
    return int(await session.scalar(select(func.coalesce(func.max(OutboxEntry.id), 0))))


async def written_since(
    session: AsyncSession, after: int, also: Iterable[int] = (), limit: int = 500
) -> list[tuple[int, AwardView | None]]:
    """Entries with ids above `after` (the first `limit`) and those of `also`, in id order:
    each id with its award for an `award.granted` entry, None for another topic (a reader
    keeping a cursor learns from it that the id is taken)."""
    wanted = OutboxEntry.id > after
    also = list(also)
    if also:
        wanted = or_(wanted, OutboxEntry.id.in_(also))
    rows = await session.execute(
        select(OutboxEntry.id, OutboxEntry.topic, OutboxEntry.payload)
        .where(wanted)
        .order_by(OutboxEntry.id)
        .limit(limit + len(also))
    )
    return [
        (id_, award_from(json.loads(payload)) if topic == AWARD_GRANTED else None)
        for id_, topic, payload in rows
    ]
