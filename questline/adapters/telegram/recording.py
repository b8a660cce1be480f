"""How the bot records what a learner does: in its own process, or, with QUESTLINE_NATS_URL
set, published to NATS JetStream for `questline worker` to record.

Published events carry an idempotency key (derived from the event if it has none), so a
publish that is tried again is dropped as a duplicate. After publishing, the bot waits up to
`settle` seconds for a worker to have recorded the last event, so the screen it shows next is
current; if no worker has by then, it shows what the database holds and the event is
recorded when a worker takes it. The awards that events recorded by workers earn reach the
learner through the outbox (the Telegram plugin leaves them to the bot's process), a few
seconds later, as their own message.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from aiogram.types import CallbackQuery, Message

from questline.engine import Engine, Event
from questline.engine.views import ChallengeOutcome

if TYPE_CHECKING:
    from questline.adapters.nats.publisher import Publisher

SETTLE_SECONDS = 3.0
POLL_SECONDS = 0.05


def update_key(update: CallbackQuery | Message) -> str:
    """The idempotency key of what a press or a message records: Telegram delivers an update
    again when the bot stopped before confirming it, and the same press must not count twice.
    A callback query's id is unique; a message is unique by chat and message id."""
    if isinstance(update, CallbackQuery):
        return f"tg-press-{update.id}"
    return f"tg-message-{update.chat.id}-{update.message_id}"


class Recording:
    """Records a learner's events through the engine, or publishes them when a publisher is
    given."""

    def __init__(
        self, engine: Engine, publisher: Publisher | None = None, settle: float = SETTLE_SECONDS
    ) -> None:
        self.engine = engine
        self.publisher = publisher
        self.settle = settle

    async def record(self, event: Event) -> None:
        if self.publisher is None:
            await self.engine.record(event)
        else:
            await self._publish([event])

    async def answer(
        self, *, telegram_id: int, lesson_id: int, answer: str, key: str
    ) -> ChallengeOutcome:
        """Judge the answer and record its attempt (and solve) under `key`: the engine's
        verdict, the first one's again when the same update comes twice."""
        if self.publisher is None:
            return await self.engine.answer_challenge(
                telegram_id=telegram_id, lesson_id=lesson_id, answer=answer, idempotency_key=key
            )
        judged = await self.engine.judge_answer(
            telegram_id=telegram_id, lesson_id=lesson_id, answer=answer, idempotency_key=key
        )
        await self._publish(judged.events)
        return judged.outcome

    async def _publish(self, events: Sequence[Event]) -> None:
        from questline.adapters.nats.routing import with_key

        assert self.publisher is not None
        keyed = [with_key(event) for event in events]
        for event in keyed:
            await self.publisher.publish(event)
        last = keyed[-1]
        assert last.telegram_id is not None and last.idempotency_key is not None
        deadline = time.monotonic() + self.settle
        while time.monotonic() < deadline:
            if await self.engine.recorded(
                telegram_id=last.telegram_id, idempotency_key=last.idempotency_key
            ):
                return
            await asyncio.sleep(POLL_SECONDS)
