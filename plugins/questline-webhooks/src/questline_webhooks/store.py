"""The plugin's own tables: subscriber endpoints and the delivery attempts made to them.

They live in questline's database but belong to this distribution: the `questline webhooks`
commands create them (`ensure_schema`), and questline's migrations never see them. Until then
the delivery hooks find no table and deliver nothing, so installing the plugin changes no
database that does not use it.
"""

from __future__ import annotations

import base64
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine.db import retryable
from questline.engine.errors import QuestlineError
from questline.engine.models import LONG_TEXT
from questline.engine.timestamps import UTCDateTime, utcnow

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("url", String(2000), nullable=False),
    Column("secret", String(100), nullable=False),
    Column("events", String(200), nullable=False),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("failures", Integer, nullable=False, default=0),
    Column("disabled_reason", String(200), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False, default=utcnow),
)

deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("endpoint_id", ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), nullable=False),
    Column("message_id", String(36), nullable=False),
    Column("topic", String(50), nullable=False),
    Column("body", LONG_TEXT, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("error", String(500), nullable=True),
    Column("ok", Boolean, nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False, default=utcnow),
    Index(None, "endpoint_id", "message_id"),
)


class WebhooksError(QuestlineError):
    """A webhooks command was given something that does not exist or cannot be done."""


@dataclass(frozen=True)
class Endpoint:
    id: int
    url: str
    events: tuple[str, ...]
    enabled: bool
    failures: int
    disabled_reason: str | None
    created_at: datetime
    secret: str = field(repr=False)


@dataclass(frozen=True)
class DeliveryRecord:
    id: int
    endpoint_id: int
    message_id: str
    topic: str
    body: str
    attempt: int
    status_code: int | None
    error: str | None
    ok: bool
    duration_ms: int
    created_at: datetime


@dataclass(frozen=True)
class Outcome:
    """What one POST came to."""

    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    def describe(self) -> str:
        return f"HTTP {self.status_code}" if self.status_code is not None else str(self.error)


log = logging.getLogger(__name__)

RECORD_ATTEMPTS = 4
_present: set[int] = set()


async def ensure_schema(db: AsyncEngine) -> None:
    """Create the plugin's tables if they are missing, and widen a body column made TEXT by
    an earlier version on MySQL/MariaDB (once per engine and process)."""
    if id(db) in _present:
        return
    async with db.begin() as connection:
        await connection.run_sync(metadata.create_all)
        await connection.run_sync(_widen_bodies)
    _present.add(id(db))


def _widen_bodies(connection: Connection) -> None:
    """A message over TEXT's 65,535 bytes was posted, then failed to be recorded, and so was
    posted again at every attempt: MEDIUMTEXT holds it."""
    if connection.dialect.name not in ("mysql", "mariadb"):
        return
    [body] = [c for c in inspect(connection).get_columns(deliveries.name) if c["name"] == "body"]
    if isinstance(body["type"], mysql.TEXT):  # MEDIUMTEXT is not one
        connection.execute(text(f"ALTER TABLE {deliveries.name} MODIFY body MEDIUMTEXT NOT NULL"))


async def has_schema(db: AsyncEngine) -> bool:
    """Whether the plugin's tables exist. Their presence is remembered; an absence is looked
    at again every time: an award committed just after `webhooks add` created them must find
    them (remembered for a few seconds, such awards were marked done unsent). Found, they
    are brought up to date by `ensure_schema` (a body column an earlier version made too
    small is widened)."""
    if id(db) in _present:
        return True
    async with db.connect() as connection:
        found = await connection.run_sync(lambda sync: inspect(sync).has_table(endpoints.name))
    if found:
        await ensure_schema(db)
    return found


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _endpoint(row: RowMapping) -> Endpoint:
    return Endpoint(
        id=row["id"],
        url=row["url"],
        events=tuple(row["events"].split(",")),
        enabled=row["enabled"],
        failures=row["failures"],
        disabled_reason=row["disabled_reason"],
        created_at=row["created_at"],
        secret=row["secret"],
    )


def _delivery(row: RowMapping) -> DeliveryRecord:
    return DeliveryRecord(**{column.name: row[column.name] for column in deliveries.columns})


async def add_endpoint(db: AsyncEngine, url: str, events: Iterable[str]) -> Endpoint:
    values = {"url": url, "secret": new_secret(), "events": ",".join(sorted(set(events)))}
    async with db.begin() as connection:
        result = await connection.execute(insert(endpoints).values(**values))
        endpoint_id = result.inserted_primary_key[0]
    return await get_endpoint(db, endpoint_id)


async def get_endpoint(db: AsyncEngine, endpoint_id: int) -> Endpoint:
    async with db.connect() as connection:
        row = (
            (await connection.execute(select(endpoints).where(endpoints.c.id == endpoint_id)))
            .mappings()
            .first()
        )
    if row is None:
        raise WebhooksError(f"no webhook endpoint {endpoint_id}")
    return _endpoint(row)


async def list_endpoints(db: AsyncEngine) -> list[Endpoint]:
    async with db.connect() as connection:
        rows = await connection.execute(select(endpoints).order_by(endpoints.c.id))
        return [_endpoint(row) for row in rows.mappings()]


async def remove_endpoint(db: AsyncEngine, endpoint_id: int) -> None:
    async with db.begin() as connection:
        await connection.execute(delete(deliveries).where(deliveries.c.endpoint_id == endpoint_id))
        gone = await connection.execute(delete(endpoints).where(endpoints.c.id == endpoint_id))
        if gone.rowcount == 0:
            raise WebhooksError(f"no webhook endpoint {endpoint_id}")


async def enable_endpoint(db: AsyncEngine, endpoint_id: int) -> None:
    async with db.begin() as connection:
        done = await connection.execute(
            update(endpoints)
            .where(endpoints.c.id == endpoint_id)
            .values(enabled=True, failures=0, disabled_reason=None)
        )
        if done.rowcount == 0:
            raise WebhooksError(f"no webhook endpoint {endpoint_id}")


async def subscribers(db: AsyncEngine, topic: str) -> list[Endpoint]:
    """Enabled endpoints subscribed to `topic`."""
    return [e for e in await list_endpoints(db) if e.enabled and topic in e.events]


async def delivered(db: AsyncEngine, message_id: str) -> set[int]:
    """Endpoints that already accepted the message `message_id`."""
    async with db.connect() as connection:
        rows = await connection.scalars(
            select(deliveries.c.endpoint_id).where(
                deliveries.c.message_id == message_id, deliveries.c.ok.is_(True)
            )
        )
        return set(rows)


async def record_attempt(
    db: AsyncEngine,
    endpoint: Endpoint,
    *,
    message_id: str,
    topic: str,
    body: str,
    outcome: Outcome,
    max_failures: int,
) -> str | None:
    """Store an attempt and update the endpoint's failure count; returns why the endpoint
    was just disabled (410 Gone, or `max_failures` failures in a row), else None.

    One transaction, run again from scratch (up to RECORD_ATTEMPTS times) when the database
    answers a deadlock, a lock wait timeout or SQLite's "database is locked": the POST has
    been made, so its outcome must not be lost to a conflict between recorders."""
    for attempt in range(1, RECORD_ATTEMPTS + 1):
        try:
            return await _record_attempt(
                db,
                endpoint,
                message_id=message_id,
                topic=topic,
                body=body,
                outcome=outcome,
                max_failures=max_failures,
            )
        except OperationalError as error:
            if attempt == RECORD_ATTEMPTS or not retryable(error):
                raise
            log.warning("recording a webhook attempt retried after: %s", error.orig)
    raise AssertionError("unreachable")


async def _record_attempt(
    db: AsyncEngine,
    endpoint: Endpoint,
    *,
    message_id: str,
    topic: str,
    body: str,
    outcome: Outcome,
    max_failures: int,
) -> str | None:
    async with db.begin() as connection:
        # The endpoint's row is locked before anything else. Inserting the delivery row
        # share-locks it (MySQL/MariaDB check the foreign key that way), and updating it
        # needs the exclusive lock: when that came second, two recorders for one endpoint
        # each held the shared lock, waited for each other and one failed with a deadlock
        # (1213). Locked first, recorders queue; the failure count read here is then the
        # latest, and so is the attempt number below.
        previous = await connection.scalar(
            select(endpoints.c.failures).where(endpoints.c.id == endpoint.id).with_for_update()
        )
        if previous is None:
            return None  # removed while the POST was under way: nothing left to record it for
        earlier = await connection.scalar(
            select(func.count()).where(
                deliveries.c.endpoint_id == endpoint.id, deliveries.c.message_id == message_id
            )
        )
        await connection.execute(
            insert(deliveries).values(
                endpoint_id=endpoint.id,
                message_id=message_id,
                topic=topic,
                body=body,
                attempt=int(earlier or 0) + 1,
                status_code=outcome.status_code,
                error=outcome.error[:500] if outcome.error else None,
                ok=outcome.ok,
                duration_ms=outcome.duration_ms,
            )
        )
        if outcome.ok:
            if previous:
                await connection.execute(
                    update(endpoints).where(endpoints.c.id == endpoint.id).values(failures=0)
                )
            return None
        failures = int(previous) + 1
        reason = None
        if outcome.status_code == 410:
            reason = "the receiver answered 410 Gone"
        elif failures >= max_failures:
            reason = f"{failures} failed deliveries in a row (last: {outcome.describe()})"
        values: dict[str, object] = {"failures": failures}
        if reason is not None:
            values.update(enabled=False, disabled_reason=reason)
        await connection.execute(
            update(endpoints).where(endpoints.c.id == endpoint.id).values(**values)
        )
        return reason


async def recent_deliveries(
    db: AsyncEngine, *, endpoint_id: int | None, limit: int
) -> list[DeliveryRecord]:
    query = select(deliveries).order_by(deliveries.c.id.desc()).limit(limit)
    if endpoint_id is not None:
        query = query.where(deliveries.c.endpoint_id == endpoint_id)
    async with db.connect() as connection:
        return [_delivery(row) for row in (await connection.execute(query)).mappings()]


async def get_delivery(db: AsyncEngine, delivery_id: int) -> DeliveryRecord:
    async with db.connect() as connection:
        row = (
            (await connection.execute(select(deliveries).where(deliveries.c.id == delivery_id)))
            .mappings()
            .first()
        )
    if row is None:
        raise WebhooksError(f"no webhook delivery {delivery_id}")
    return _delivery(row)
