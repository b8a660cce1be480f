"""Idempotency keys compare exactly on every database (on MariaDB too: migration 0004)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine import Engine, Event
from questline.engine.models import ActivityLog
from questline.engine.views import UserView
from questline.rules.vocabulary import ActivityType as A

from .conftest import row_counts


async def stored_keys(db: AsyncEngine) -> list[str]:
    async with db.connect() as connection:
        rows = await connection.scalars(
            select(ActivityLog.idempotency_key)
            .where(ActivityLog.idempotency_key.is_not(None))
            .order_by(ActivityLog.id)
        )
        return list(rows)


def login(learner: UserView, key: str) -> Event:
    return Event(type=A.LOGIN, user_id=learner.id, idempotency_key=key)


async def test_a_trailing_space_makes_another_key(
    engine: Engine, db: AsyncEngine, learner: UserView
) -> None:
    """The issue's sequence: on a PAD SPACE collation the second LOGIN was a replay, and lost."""
    first = await engine.record(login(learner, "k1"))
    second = await engine.record(login(learner, "k1 "))
    assert not first.replayed and not second.replayed
    assert second.activity_id != first.activity_id
    assert await stored_keys(db) == ["k1", "k1 "]
    assert (await engine.record(login(learner, "k1 "))).replayed


async def test_both_keys_in_one_chunk_are_two_events(
    engine: Engine, db: AsyncEngine, learner: UserView
) -> None:
    """The issue's chunk: the unique constraint failed four times and the ingest stopped."""
    results = await engine.record_many([login(learner, "k3"), login(learner, "k3 ")])
    assert [result.replayed for result in results] == [False, False]
    assert await stored_keys(db) == ["k3", "k3 "]


async def test_case_leading_spaces_and_normalisation_are_significant(
    engine: Engine, db: AsyncEngine, learner: UserView
) -> None:
    keys = ["key", "KEY", " key", "k\u00e9y", "ke\u0301y", "ключ-🔑"]
    results = await engine.record_many([login(learner, key) for key in keys])
    assert not any(result.replayed for result in results)
    assert await stored_keys(db) == keys


async def test_the_longest_key_in_four_byte_characters_is_stored_whole(
    engine: Engine, db: AsyncEngine, learner: UserView
) -> None:
    key = "🔑" * 100  # 100 characters, 400 bytes of UTF-8
    await engine.record(login(learner, key))
    assert await stored_keys(db) == [key]
    assert (await engine.record(login(learner, key))).replayed


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "must be 1 to 100 characters long, not 0"),
        ("k" * 101, "must be 1 to 100 characters long, not 101"),
        ("k1\n", "must not contain a control character (U+000A at position 3)"),
        ("\tk1", "must not contain a control character (U+0009 at position 1)"),
        ("k\x00", "must not contain a control character (U+0000 at position 2)"),
        ("k\x85", "must not contain a control character (U+0085 at position 2)"),
        ("k\u2028", "must not contain a line separator (U+2028 at position 2)"),
        ("k\ud800", "must not contain a lone surrogate (U+D800 at position 2)"),
    ],
)
async def test_keys_outside_the_grammar_are_refused_before_the_database(
    db: AsyncEngine, key: str, message: str
) -> None:
    before = await row_counts(db)
    with pytest.raises(ValidationError) as caught:
        Event(type=A.LOGIN, user_id=1, idempotency_key=key)
    assert [error["msg"] for error in caught.value.errors()] == [f"Value error, {message}"]
    assert await row_counts(db) == before
