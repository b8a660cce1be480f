"""kill -9 of the dispatching process in the middle of a delivery loses nothing.

Awards are committed first; `questline outbox run` (a real subprocess with this plugin loaded
through its entry point) posts them to a receiver that holds each request for a moment. The
process is killed with SIGKILL while a request is in flight, then started again: every award
arrives at least once, and the copies of one award carry the same `webhook-id`.
"""

from __future__ import annotations

import asyncio
import signal
from collections import defaultdict

from questline_webhooks import store
from sqlalchemy import select
from support import QUESTLINE, Answer, Receiver, complete_first_lesson

from questline.engine import Engine
from questline.engine.models import Achievement, User, UserAchievement

LEARNERS = 8
DISPATCH = ("outbox", "run", "--lease", "1", "--poll", "0.1", "--backoff", "0.05")


async def committed_awards(engine: Engine) -> set[tuple[int, str]]:
    async with engine.db.connect() as connection:
        rows = await connection.execute(
            select(User.telegram_id, Achievement.slug)
            .join(UserAchievement, UserAchievement.user_id == User.id)
            .join(Achievement, Achievement.id == UserAchievement.achievement_id)
        )
        return {(telegram_id, slug) for telegram_id, slug in rows}


async def dispatcher(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        str(QUESTLINE),
        *DISPATCH,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def test_kill_9_mid_delivery_then_restart_delivers_every_award(
    engine: Engine, receiver: Receiver, cli_env: dict[str, str]
) -> None:
    endpoint = await store.add_endpoint(engine.db, receiver.url, ["award.granted"])
    receiver.secret = endpoint.secret
    for learner in range(LEARNERS):
        await complete_first_lesson(engine, 500 + learner)
    awards = await committed_awards(engine)
    assert len(awards) == LEARNERS
    receiver.script.extend([Answer(200, delay=0.3)] * 3 + [Answer(200, delay=30)])

    first = await dispatcher(cli_env)
    try:
        while len(receiver.received) < 4:  # the 4th request is held: kill while it is in flight
            receiver.arrived.clear()
            await asyncio.wait_for(receiver.arrived.wait(), 60)
    finally:
        first.send_signal(signal.SIGKILL)
        assert await first.wait() == -signal.SIGKILL
    assert len(receiver.ids()) < LEARNERS

    second = await dispatcher(cli_env)
    try:
        for _ in range(600):
            if (await engine.outbox_status())["pending"] == 0:
                break
            await asyncio.sleep(0.1)
    finally:
        second.send_signal(signal.SIGTERM)
        await asyncio.wait_for(second.wait(), 30)

    assert (await engine.outbox_status())["pending"] == 0
    ids_by_award: dict[tuple[int, str], set[str]] = defaultdict(set)
    for item in receiver.received:
        assert item.verified
        data = item.message["data"]
        ids_by_award[(data["telegram_id"], data["slug"])].add(item.webhook_id)
    assert set(ids_by_award) == awards  # nothing lost, nothing invented
    assert all(len(ids) == 1 for ids in ids_by_award.values())  # one stable id per award
    assert len(receiver.received) > len(receiver.ids())  # the in-flight one came again
