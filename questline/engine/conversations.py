"""Where an adapter's conversation with a learner stands: a state name and a JSON object.

Adapters keep their dialogue state here (the Telegram bot's FSM), so it survives restarts and
is shared by every process on the database. A conversation with no state and no data has no
row.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from questline.engine.errors import QuestlineError
from questline.engine.models import ConversationState

KEY_LENGTH = 255
STATE_LENGTH = 255


class _Keep(enum.Enum):
    KEEP = enum.auto()


KEEP: Final = _Keep.KEEP
"""Leave this part of the conversation as it is."""


@dataclass(frozen=True)
class Conversation:
    """A conversation's state (None: none) and data."""

    state: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


def _checked_key(key: str) -> str:
    if not key or len(key) > KEY_LENGTH:
        raise QuestlineError(f"a conversation key must have 1 to {KEY_LENGTH} characters")
    return key


def encode(data: Mapping[str, Any]) -> str | None:
    """`data` as stored: JSON, or None when empty; data that is not JSON is refused."""
    if not data:
        return None
    try:
        return json.dumps(dict(data), ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError) as error:
        raise QuestlineError(f"conversation data must be JSON: {error}") from None


async def read(session: AsyncSession, key: str) -> Conversation:
    row = await session.scalar(
        select(ConversationState).where(ConversationState.key == _checked_key(key))
    )
    if row is None:
        return Conversation()
    return Conversation(row.state, json.loads(row.data) if row.data else {})


async def write(
    session: AsyncSession,
    key: str,
    *,
    state: str | Literal[_Keep.KEEP] | None = KEEP,
    data: Mapping[str, Any] | Literal[_Keep.KEEP] = KEEP,
) -> None:
    """Set the state, the data, or both (KEEP leaves one as it is), in the caller's
    transaction; the row is locked while it changes, and removed once empty."""
    if isinstance(state, str) and len(state) > STATE_LENGTH:
        raise QuestlineError(f"a conversation state must have at most {STATE_LENGTH} characters")
    encoded = KEEP if data is KEEP else encode(data)
    row = await session.scalar(
        select(ConversationState)
        .where(ConversationState.key == _checked_key(key))
        .with_for_update()
    )
    if row is None:
        row = ConversationState(key=key)
        session.add(row)
    if state is not KEEP:
        row.state = state
    if encoded is not KEEP:
        row.data = encoded
    if row.state is None and row.data is None:
        if row in session.new:
            session.expunge(row)
        else:
            await session.delete(row)
    await session.flush()
