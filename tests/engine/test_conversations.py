"""Adapters' conversation states: kept in the database, cleared when empty, bad input refused."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine import Engine
from questline.engine.conversations import Conversation
from questline.engine.errors import QuestlineError
from questline.engine.models import ConversationState


async def rows(db: AsyncEngine) -> int:
    async with db.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(ConversationState)))


async def test_state_and_data_are_kept_apart_and_cleared(engine: Engine, db: AsyncEngine) -> None:
    key = "fsm:4242:77:77"
    assert await engine.conversation(key) == Conversation()
    await engine.set_conversation_state(key, "Challenge:answering")
    await engine.set_conversation_data(key, {"lesson_id": 3, "note": "ответ"})
    assert await engine.conversation(key) == Conversation(
        "Challenge:answering", {"lesson_id": 3, "note": "ответ"}
    )
    await engine.set_conversation_state(key, None)
    assert await engine.conversation(key) == Conversation(None, {"lesson_id": 3, "note": "ответ"})
    await engine.set_conversation_data(key, {})
    assert await engine.conversation(key) == Conversation()
    assert await rows(db) == 0

    # a second engine on the same database (another bot process) sees the same conversation
    await engine.set_conversation_state(key, "Challenge:answering")
    other = Engine(bind=db, plugin_manager=engine.plugins)
    assert (await other.conversation(key)).state == "Challenge:answering"


async def test_bad_conversations_are_refused_and_write_nothing(
    engine: Engine, db: AsyncEngine
) -> None:
    with pytest.raises(QuestlineError, match="conversation data must be JSON"):
        await engine.set_conversation_data("k", {"when": object()})
    with pytest.raises(QuestlineError, match="conversation key must have 1 to 255 characters"):
        await engine.set_conversation_state("k" * 256, "s")
    with pytest.raises(QuestlineError, match="conversation key must have 1 to 255 characters"):
        await engine.conversation("")
    with pytest.raises(QuestlineError, match="state must have at most 255 characters"):
        await engine.set_conversation_state("k", "s" * 256)
    assert await rows(db) == 0
