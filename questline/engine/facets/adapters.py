"""What adapters keep in the engine: their conversations and the HTTP API's keys."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from questline.engine import api_keys, conversations
from questline.engine.api_keys import ApiKeyView, IssuedKey
from questline.engine.conversations import Conversation
from questline.engine.facets.base import EngineBase


class AdapterState(EngineBase):
    """Adapters' conversation state and API keys."""

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
