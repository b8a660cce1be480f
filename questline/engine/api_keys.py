"""API keys for the HTTP adapter: issued once, stored as a SHA-256 digest, scoped, revocable.

A key reads ``ql_<prefix>_<secret>``: the prefix (8 hex digits) is public and names the key in
listings, the secret is 32 random bytes. Keys are random, not passwords, so a plain SHA-256 is
enough to make a stolen table useless (no salt or slow hash needed).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from questline.engine.errors import ApiKeyError
from questline.engine.models import ApiKey
from questline.engine.timestamps import utcnow

KEY_PREFIX = "ql_"
MAX_NAME_LENGTH = 100
MAX_ID_DIGITS = 9


class Scope(StrEnum):
    """What a key may do; `admin` may do everything."""

    EVENTS_WRITE = "events:write"
    READ = "read"
    ADMIN = "admin"


@dataclass(frozen=True)
class ApiKeyView:
    id: int
    name: str
    prefix: str
    scopes: frozenset[Scope]
    created_at: datetime
    revoked_at: datetime | None

    def allows(self, scope: Scope) -> bool:
        """Whether this key may act in `scope` (admin keys may act in every scope)."""
        return self.revoked_at is None and (scope in self.scopes or Scope.ADMIN in self.scopes)


@dataclass(frozen=True)
class IssuedKey:
    """A new key: `secret` is the full key, shown once and never stored."""

    key: ApiKeyView
    secret: str


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def parse_scopes(names: Iterable[str]) -> frozenset[Scope]:
    """Scopes by name; an unknown name is an ApiKeyError listing the known ones."""
    scopes = set()
    for name in names:
        try:
            scopes.add(Scope(name))
        except ValueError:
            known = ", ".join(scope.value for scope in Scope)
            raise ApiKeyError(f'unknown scope "{name}" (known: {known})') from None
    if not scopes:
        raise ApiKeyError("give at least one scope")
    return frozenset(scopes)


def _view(row: ApiKey) -> ApiKeyView:
    return ApiKeyView(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        scopes=frozenset(Scope(name) for name in row.scopes.split()),
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


async def issue(session: AsyncSession, name: str, scopes: frozenset[Scope]) -> IssuedKey:
    """Store a new key's digest and return the key itself (the only time it is seen)."""
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise ApiKeyError(f"a key's name must be 1 to {MAX_NAME_LENGTH} characters")
    prefix = secrets.token_hex(4)
    secret = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey(
        name=name,
        prefix=prefix,
        secret_hash=digest(secret),
        scopes=" ".join(sorted(scope.value for scope in scopes)),
    )
    session.add(row)
    await session.flush()
    return IssuedKey(_view(row), secret)


async def listing(session: AsyncSession) -> list[ApiKeyView]:
    return [_view(row) for row in await session.scalars(select(ApiKey).order_by(ApiKey.id))]


async def revoke(session: AsyncSession, ref: str) -> ApiKeyView:
    """Revoke the key with prefix or id `ref`; revoking twice keeps the first revocation."""
    row = await session.scalar(select(ApiKey).where(ApiKey.prefix == ref))
    if row is None and ref.isdigit() and len(ref) <= MAX_ID_DIGITS:
        row = await session.get(ApiKey, int(ref))
    if row is None:
        raise ApiKeyError(f'no API key with id or prefix "{ref}"')
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        await session.flush()
    return _view(row)


async def find(session: AsyncSession, secret: str) -> ApiKeyView | None:
    """The key `secret` is, revoked or not; None when it was never issued."""
    row = await session.scalar(select(ApiKey).where(ApiKey.secret_hash == digest(secret)))
    return None if row is None else _view(row)
