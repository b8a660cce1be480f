"""Where the bot keeps each conversation's FSM state, and the order updates are handled in.

By default state lives in the engine's database (`EngineStorage`, through the Engine API), so
it survives restarts and every bot process on the database shares it; with QUESTLINE_REDIS_URL
set, aiogram's `RedisStorage` keeps it instead. `ChatOrdering` makes aiogram handle one chat's
updates one at a time, in the order they arrived, while other chats run concurrently.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import (
    BaseEventIsolation,
    BaseStorage,
    DefaultKeyBuilder,
    StateType,
    StorageKey,
)

from questline.adapters.telegram.settings import BotSettings
from questline.engine import Engine

KEY_BUILDER = DefaultKeyBuilder(prefix="questline", with_bot_id=True, with_destiny=True)
"""Keys such as "questline:<bot>:<chat>:<user>:default", the same in both storages."""


def _state_name(state: StateType) -> str | None:
    return state.state if isinstance(state, State) else state


class EngineStorage(BaseStorage):
    """aiogram FSM storage in the engine's database (Engine.conversation and its setters)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        await self.engine.set_conversation_state(KEY_BUILDER.build(key), _state_name(state))

    async def get_state(self, key: StorageKey) -> str | None:
        return (await self.engine.conversation(KEY_BUILDER.build(key))).state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self.engine.set_conversation_data(KEY_BUILDER.build(key), data)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        return (await self.engine.conversation(KEY_BUILDER.build(key))).data

    async def close(self) -> None:
        """Nothing to close: the engine owns its connections."""


def make_storage(settings: BotSettings, engine: Engine) -> BaseStorage:
    """Redis when QUESTLINE_REDIS_URL is set, else the engine's database."""
    if settings.redis_url:
        from aiogram.fsm.storage.redis import RedisStorage

        return RedisStorage.from_url(settings.redis_url, key_builder=KEY_BUILDER)
    return EngineStorage(engine)


class ChatOrdering(BaseEventIsolation):
    """One lock per conversation, granted first come first served, dropped when unused.

    aiogram starts a task per update in arrival order and takes this lock before it reads the
    FSM state, so one chat's updates are handled in order (an "Answer" press before the
    answer sent after it), and different chats do not wait for each other.
    """

    def __init__(self) -> None:
        self._locks: dict[tuple[int, int, int | None], tuple[asyncio.Lock, int]] = {}

    @staticmethod
    def _key(key: StorageKey) -> tuple[int, int, int | None]:
        return key.chat_id, key.user_id, key.thread_id

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        async with self.chat(*self._key(key)):
            yield

    @asynccontextmanager
    async def chat(
        self, chat_id: int, user_id: int | None = None, thread_id: int | None = None
    ) -> AsyncGenerator[None, None]:
        """Hold the conversation of `user_id` (default: the private chat's user) in `chat_id`."""
        name = (chat_id, chat_id if user_id is None else user_id, thread_id)
        lock, users = self._locks.get(name, (asyncio.Lock(), 0))
        self._locks[name] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[name]
            if users == 1:
                del self._locks[name]
            else:
                self._locks[name] = (lock, users - 1)

    def busy(self) -> int:
        """Conversations with an update being handled or waiting (a falsy isolation would be
        replaced by aiogram's "no isolation", so this is not `__len__`)."""
        return len(self._locks)

    async def close(self) -> None:
        """Nothing to release: locks go as their last user leaves."""
