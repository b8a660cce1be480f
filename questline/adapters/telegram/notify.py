"""Award notifications: one celebration message per learner and moment, in their language:
the card of the moment's biggest award as a photo, the awards as its caption, a Share button.

Inside an update (the learner pressed or typed something), the awards it earns are collected
and the handler shows them between its result and the next step (`take_awards`, `shown`);
whatever a handler leaves is sent when the update is done. Their outbox entries stay held
until then (`DeliveryHeld`): when the update is done, those shown are settled as delivered and
the others are left to the outbox's usual path, as is everything if the process dies first.
Outside an update (awards from the CLI, a
worker, an outbox), `Notifier.award_granted` sends at once, within Telegram's broadcast limits
(30 messages a second overall, one a second per chat), retrying a bounded number of times; a
failure that may pass raises `DeliveryFailed` so the caller can try again later, and Telegram
asking to wait longer than the session waits by itself raises `RetryLater` with its
`retry_after`, for that learner only (the outbox then waits at least that long for them, and
goes on with the others). Until then nothing more is sent to that chat: its awards are not
collected by its updates, and their notifications raise `RetryLater` without calling Telegram.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import Message
from aiolimiter import AsyncLimiter

from questline.adapters.telegram.i18n import use_locale
from questline.adapters.telegram.pictures import CardMessage, celebration_card
from questline.adapters.telegram.session import ChatFloods
from questline.engine import Engine
from questline.engine.outbox import Delivery
from questline.engine.views import AwardView
from questline.plain_errors import one_line
from questline.plugins import DeliveryHeld, RetryLater

log = logging.getLogger(__name__)
SERVER_SIDE = (TelegramServerError, ClientDecodeError)
"""Failures the session's RetryMiddleware retries by itself (a 5xx, a proxy's error page)."""
PERMANENT = (TelegramForbiddenError, TelegramBadRequest)
PRUNE_ABOVE = 10_000


class DeliveryFailed(Exception):
    """Telegram could not be reached or refused for now; trying again later may work."""


@dataclass
class Celebration:
    """The awards earned while one learner's update is handled, not yet shown."""

    telegram_id: int
    language: str | None = None
    """The learner's Telegram language_code: the language of the awards' texts."""
    awards: list[AwardView] = field(default_factory=list)
    held: dict[str, str] = field(default_factory=dict)
    """The outbox delivery id of each award collected, by slug."""
    shown: set[str] = field(default_factory=set)
    """The slugs of the awards the learner has been shown."""
    open: bool = True
    """False once the update is done: an award's hook that comes later (after a slow plugin's
    hook) sends it instead."""

    def mark_shown(self, awards: Sequence[AwardView]) -> None:
        self.shown.update(award.slug for award in awards)


_current: ContextVar[Celebration | None] = ContextVar("celebration", default=None)


@contextmanager
def celebrating(telegram_id: int, language: str | None = None) -> Iterator[Celebration]:
    """Collect the awards `telegram_id` earns within the block instead of sending them, with
    their texts in `language`."""
    celebration = Celebration(telegram_id, language)
    token = _current.set(celebration)
    try:
        yield celebration
    finally:
        celebration.open = False
        _current.reset(token)


def take_awards() -> list[AwardView]:
    """The awards collected so far in this update (they are the caller's to show now)."""
    celebration = _current.get()
    if celebration is None:
        return []
    awards, celebration.awards = celebration.awards, []
    return awards


def shown(awards: Sequence[AwardView]) -> None:
    """Note that the learner has been shown these awards (their notifications are delivered)."""
    celebration = _current.get()
    if celebration is not None:
        celebration.mark_shown(awards)


def give_back(awards: Sequence[AwardView]) -> None:
    """Return awards taken but not shown; they are sent when the update is done."""
    celebration = _current.get()
    if celebration is not None:
        celebration.awards[:0] = awards


class Notifier:
    """Sends award notifications through `bot`, within Telegram's broadcast limits, and none
    to a chat that `floods` (where `bot`'s session notes Telegram's 429s) says must wait."""

    def __init__(
        self,
        bot: Bot,
        engine: Engine,
        floods: ChatFloods,
        *,
        per_second: float = 30,
        per_chat_seconds: float = 1.0,
        attempts: int = 3,
        backoff: float = 1.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.bot = bot
        self.engine = engine
        self.attempts = attempts
        self.backoff = backoff
        self._sleep = sleep
        # capacity 1: evenly spaced sends, never a burst above the rate in any second
        self._overall = AsyncLimiter(1, 1 / per_second)
        self._per_chat_seconds = per_chat_seconds
        self._chats: dict[int, AsyncLimiter] = {}
        self.floods = floods

    async def award_granted(self, award: AwardView, delivery: Delivery) -> None:
        """The `questline_award_granted` hook: collect it for the update in progress (holding
        its delivery until the update is done), else send (not while Telegram has the bot
        wait for that chat: then the outbox waits)."""
        celebration = _current.get()
        if (
            celebration is not None
            and celebration.open
            and celebration.telegram_id == award.telegram_id
            and not self.floods.wait(award.telegram_id)
        ):
            celebration.awards.append(self.engine.award_in(award, celebration.language))
            celebration.held[award.slug] = delivery.id
            raise DeliveryHeld(f"award {award.slug} is shown in the update that earned it")
        await self.deliver(award.telegram_id, [award])

    async def deliver(self, telegram_id: int, awards: Sequence[AwardView]) -> bool:
        """Send one celebration of `awards`, in the learner's language; False if the learner
        cannot be reached (blocked the bot…), DeliveryFailed if Telegram still fails after the
        session's retries (and, for a network error, this method's), RetryLater if Telegram
        asks to wait longer than the session does, or asked it before and the wait is not over
        (then Telegram is not called). Failures end here quickly, so that the outbox's backoff
        paces the retries during an outage, not one entry at a time."""
        slugs = ", ".join(award.slug for award in awards)
        learner = awards[0].user_id
        if wait := self.floods.wait(telegram_id):
            raise RetryLater(
                f"award {slugs} not delivered to {telegram_id}: Telegram asked to wait "
                f"{wait:.0f} s more",
                wait,
                user_id=learner,
            )
        user = await self.engine.find_user(telegram_id=telegram_id)
        language = user.language_code if user else None
        awards = [self.engine.award_in(award, language) for award in awards]
        with use_locale(language):
            card = await celebration_card(self.bot, awards, user.display_name if user else "")
        for attempt in range(1, self.attempts + 1):
            try:
                await self._send(telegram_id, card)
                return True
            except PERMANENT as error:
                log.info("award %s not delivered to %s: %s", slugs, telegram_id, error.message)
                return False
            except TelegramRetryAfter as error:  # not sooner than Telegram says: the outbox waits
                raise RetryLater(
                    f"award {slugs} not delivered to {telegram_id}: {one_line(error)}",
                    error.retry_after,
                    user_id=learner,
                ) from error
            except SERVER_SIDE as error:  # the session has retried it already
                raise DeliveryFailed(
                    f"award {slugs} not delivered to {telegram_id}: {one_line(error)}"
                ) from error
            except TelegramNetworkError as error:
                if attempt == self.attempts:
                    raise DeliveryFailed(
                        f"award {slugs} not delivered to {telegram_id}: {error}"
                    ) from error
                log.warning("award %s to %s failed (%s), retrying", slugs, telegram_id, error)
                await self._sleep(self.backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    async def _send(self, chat_id: int, card: CardMessage) -> Message:
        """Send the card once there is room under the broadcast limits."""
        await self.pace(chat_id)
        return await card.send(self.bot, chat_id)

    async def pace(self, chat_id: int) -> None:
        """Wait until a message to `chat_id` keeps within the broadcast limits (shared by
        everything the bot sends on its own: celebrations and reminders)."""
        await self._overall.acquire()
        await self._chat_limiter(chat_id).acquire()

    def _chat_limiter(self, chat_id: int) -> AsyncLimiter:
        if len(self._chats) > PRUNE_ABOVE:
            self._chats = {k: v for k, v in self._chats.items() if not v.has_capacity(1)}
        limiter = self._chats.get(chat_id)
        if limiter is None:
            limiter = self._chats[chat_id] = AsyncLimiter(1, self._per_chat_seconds)
        return limiter


async def celebrate_leftovers(notifier: Notifier, celebration: Celebration) -> None:
    """Send the awards an update earned but its handler did not show (logged if it fails)."""
    awards = celebration.awards
    celebration.awards = []
    if not awards:
        return
    try:
        await notifier.deliver(celebration.telegram_id, awards)
    except (DeliveryFailed, RetryLater, TelegramAPIError) as error:
        log.warning("%s; the outbox sends it again later", error)
    else:
        celebration.mark_shown(awards)


async def settle_celebration(notifier: Notifier, celebration: Celebration) -> None:
    """Settle the outbox entries of the awards an update collected: those shown are delivered,
    the others are due again for the outbox's usual path (a message of their own)."""
    shown = [held for slug, held in celebration.held.items() if slug in celebration.shown]
    missed = [held for slug, held in celebration.held.items() if slug not in celebration.shown]
    celebration.held = {}
    try:
        if shown:
            await notifier.engine.settle_held(shown, delivered=True)
        if missed:
            await notifier.engine.settle_held(missed, delivered=False)
    except Exception:
        log.exception("award deliveries not settled; the outbox sends them when their hold ends")
