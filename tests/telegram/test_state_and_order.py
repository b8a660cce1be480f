"""A learner's conversation survives restarts (database or Redis), and one chat's updates are
handled in order while other chats go on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.redis import RedisStorage
from hypothesis import given, settings
from hypothesis import strategies as st

from questline.adapters.telegram.app import build_dispatcher, create_bot
from questline.adapters.telegram.notify import Notifier
from questline.adapters.telegram.session import ChatFloods
from questline.adapters.telegram.settings import BotSettings
from questline.adapters.telegram.storage import KEY_BUILDER, ChatOrdering, EngineStorage
from questline.engine import Engine
from tests.telegram.fake_api import BOT_USER, FakeBotAPI
from tests.telegram.harness import Harness
from tests.telegram.test_flow import at_variables, solves

REDIS_URL = "redis://127.0.0.1:6379/0"


async def test_a_half_answered_challenge_survives_a_restart(
    bot: Harness, engine: Engine, db: object
) -> None:
    alice = await at_variables(bot, 1601)
    await alice.press("Answer")
    await bot.running.restart(bot.api)  # a new Dispatcher and storage: only the database stays
    reply = await alice.send("6")
    assert "Not quite" in reply.text
    reply = await alice.send("5")
    assert "Correct! +10 points." in reply.text
    assert await solves(db, 1601) == 1  # type: ignore[arg-type]


async def test_updates_queued_while_down_are_handled_in_order_per_chat(
    bot: Harness, engine: Engine
) -> None:
    """After downtime, each learner's "Answer" press and answer wait in the queue together;
    they are judged in order, and a slow chat does not hold the others up."""
    learners = [await at_variables(bot, 1610 + n) for n in range(6)]
    await bot.running.stop()
    queued: dict[int, list[int]] = {}
    for learner in learners:
        _, press = await learner.queue_press("Answer")
        queued[learner.id] = [press, await learner.queue_send("5")]
    slow = learners[0]
    bot.api.too_many_requests("editMessageText", retry_after=3, chat_id=slow.id)
    await bot.running.start(bot.api)
    await bot.handled([update for ids in queued.values() for update in ids])

    for learner in learners:
        sent = [c for c in bot.api.sent_to(learner.id) if c.status == 200][-4:]
        assert "Send your answer as a message" in sent[0].params["text"]  # the press first
        assert sent[1].params["text"] == "✅ Correct! +10 points."  # then the answer
    # while the slow chat waited out its 429, the other chats were served
    refused = next(c for c in bot.api.sent_to(slow.id) if c.status == 429)
    retry = next(c for c in bot.api.sent_to(slow.id) if c.at > refused.at and c.status == 200)
    served = {
        call.chat_id
        for call in bot.api.calls
        if refused.at < call.at < retry.at and call.status == 200 and call.chat_id != slow.id
    }
    assert served  # other chats did not queue behind the slow one


def test_the_dispatcher_keeps_the_chat_ordering(engine: Engine, bot_settings: BotSettings) -> None:
    floods = ChatFloods()
    bot = create_bot(bot_settings, floods)
    dispatcher = build_dispatcher(engine, bot_settings, Notifier(bot, engine, floods))
    assert isinstance(dispatcher.fsm.events_isolation, ChatOrdering)
    assert isinstance(dispatcher.fsm.storage, EngineStorage)


@pytest.fixture
async def redis_settings(bot_settings: BotSettings) -> AsyncIterator[BotSettings]:
    """Settings with QUESTLINE_REDIS_URL (a real Redis on 127.0.0.1); keys removed after."""
    yield replace(bot_settings, redis_url=REDIS_URL)
    storage = RedisStorage.from_url(REDIS_URL, key_builder=KEY_BUILDER)
    async for name in storage.redis.scan_iter(match=f"questline:{BOT_USER['id']}:*"):
        await storage.redis.delete(name)
    await storage.close()


async def test_with_redis_the_state_lives_in_redis_and_survives_a_restart(
    fake_api: FakeBotAPI, engine: Engine, redis_settings: BotSettings, db: object
) -> None:
    from tests.telegram.conftest import RunningBot
    from tests.telegram.harness import FakeClock

    running = RunningBot(engine, redis_settings, FakeClock())
    await running.start(fake_api)
    harness = Harness(fake_api, running)
    try:
        alice = await at_variables(harness, 1620)
        await alice.press("Answer")
        in_database = f"questline:{BOT_USER['id']}:1620:1620:default"
        assert (await engine.conversation(in_database)).state is None  # not in the database...
        key = StorageKey(bot_id=int(BOT_USER["id"]), chat_id=1620, user_id=1620)
        storage = RedisStorage.from_url(REDIS_URL, key_builder=KEY_BUILDER)
        try:
            assert await storage.get_state(key) == "Challenge:answering"  # ... in Redis
        finally:
            await storage.close()
        await running.restart(fake_api)
        assert "Correct! +10 points." in (await alice.send("5")).text
    finally:
        await running.stop()
    assert not running.errors
    assert await solves(db, 1620) == 1  # type: ignore[arg-type]


def test_a_bad_redis_url_is_one_clear_line() -> None:
    from questline.adapters.telegram.settings import SettingsError

    env = {"TELEGRAM_BOT_TOKEN": "1:abc", "QUESTLINE_REDIS_URL": "localhost:6379"}
    with pytest.raises(SettingsError, match="QUESTLINE_REDIS_URL must be a Redis URL"):
        BotSettings.from_env(env)


@settings(max_examples=50, deadline=None)
@given(jobs=st.lists(st.tuples(st.integers(1, 3), st.integers(0, 3)), min_size=1, max_size=20))
def test_chat_ordering_keeps_each_chats_arrival_order(jobs: list[tuple[int, int]]) -> None:
    """Property: whatever each job awaits, a chat's jobs run one at a time in arrival order,
    and no lock is left behind."""

    async def run() -> tuple[dict[int, list[int]], int, int]:
        ordering = ChatOrdering()
        ran: dict[int, list[int]] = {}
        inside: dict[int, int] = {}
        overlap = 0

        async def job(index: int, chat: int, pauses: int) -> None:
            nonlocal overlap
            async with ordering.lock(StorageKey(bot_id=1, chat_id=chat, user_id=chat)):
                inside[chat] = inside.get(chat, 0) + 1
                overlap = max(overlap, inside[chat])
                for _ in range(pauses):
                    await asyncio.sleep(0)
                ran.setdefault(chat, []).append(index)
                inside[chat] -= 1

        tasks = [asyncio.create_task(job(i, c, p)) for i, (c, p) in enumerate(jobs)]
        await asyncio.gather(*tasks)
        return ran, overlap, ordering.busy()

    ran, overlap, left = asyncio.run(run())
    for chat, indexes in ran.items():
        assert indexes == [i for i, (c, _) in enumerate(jobs) if c == chat]
    assert overlap == 1
    assert left == 0
