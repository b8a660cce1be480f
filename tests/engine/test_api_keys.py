"""API keys in the engine: shown once, stored as a digest, scoped, revocable."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine import Engine
from questline.engine.api_keys import Scope, digest
from questline.engine.errors import ApiKeyError
from questline.engine.models import ApiKey

names = st.text(st.characters(exclude_categories=["Cs", "Cc"]), min_size=1, max_size=100).filter(
    str.strip
)
scope_sets = st.sets(st.sampled_from(list(Scope)), min_size=1)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=names, scopes=scope_sets, suffix=st.text(min_size=1, max_size=5))
async def test_a_key_authenticates_with_its_scopes_and_nothing_else_does(
    engine: Engine, db: AsyncEngine, name: str, scopes: set[Scope], suffix: str
) -> None:
    issued = await engine.create_api_key(name, [scope.value for scope in scopes])
    key = await engine.authenticate(issued.secret)
    assert key is not None
    assert (key.name, key.scopes) == (name.strip(), frozenset(scopes))
    for scope in Scope:
        assert key.allows(scope) == (scope in scopes or Scope.ADMIN in scopes)
    assert await engine.authenticate(issued.secret + suffix) is None
    assert await engine.authenticate(issued.secret[:-1]) is None
    async with db.connect() as connection:
        row = (await connection.execute(select(ApiKey).where(ApiKey.id == key.id))).one()
    assert issued.secret not in {row.name, row.prefix, row.secret_hash, row.scopes}
    assert row.secret_hash == digest(issued.secret)


async def test_revoked_keys_are_refused_and_listed_as_revoked(engine: Engine) -> None:
    issued = await engine.create_api_key("web", ["read"])
    again = await engine.revoke_api_key(issued.key.prefix)
    assert again.revoked_at is not None
    assert await engine.authenticate(issued.secret) is None
    first_revocation = again.revoked_at
    assert (await engine.revoke_api_key(str(issued.key.id))).revoked_at == first_revocation
    (listed,) = [key for key in await engine.list_api_keys() if key.id == issued.key.id]
    assert listed.revoked_at == first_revocation and not listed.allows(Scope.READ)


@pytest.mark.parametrize(
    ("name", "scopes", "message"),
    [
        ("web", ["write"], 'unknown scope "write" (known: events:write, read, admin)'),
        ("web", [], "give at least one scope"),
        ("", ["read"], "a key's name must be 1 to 100 characters"),
        ("x" * 101, ["read"], "a key's name must be 1 to 100 characters"),
    ],
)
async def test_bad_keys_are_refused(
    engine: Engine, name: str, scopes: list[str], message: str
) -> None:
    with pytest.raises(ApiKeyError) as caught:
        await engine.create_api_key(name, scopes)
    assert str(caught.value) == message
    assert await engine.list_api_keys() == []
