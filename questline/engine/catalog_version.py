"""The catalogue's version: moved by every change of the rules or the course, so that an
engine in another process (a server, the bot, a worker) sees the change within
`CHECK_SECONDS`, and reloads."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from questline.engine.models import CatalogVersion
from questline.engine.upserts import add_counts

T = TypeVar("T")
CATALOG = "catalog"
CHECK_SECONDS = 2.0
"""How long an engine trusts its rules and course before it reads the version again."""


async def bump(session: AsyncSession) -> None:
    """Move the version, in the transaction that changes the rules or the course (writing
    the row if it is not there)."""
    table = CatalogVersion.__table__
    upsert = add_counts(table, ("name",), ("version",), session.get_bind().dialect.name)
    await session.execute(upsert, [{"name": CATALOG, "version": 1}])


async def current(session: AsyncSession) -> int:
    """The version the database holds."""
    version = await session.scalar(
        select(CatalogVersion.version).where(CatalogVersion.name == CATALOG)
    )
    return version or 0


def catalog_change(
    work: Callable[[AsyncSession], Awaitable[T]],
) -> Callable[[AsyncSession], Awaitable[T]]:
    """`work`, a change of the rules or the course, moving the version in its transaction."""

    async def changing(session: AsyncSession) -> T:
        result = await work(session)
        await bump(session)
        return result

    return changing
