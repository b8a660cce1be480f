"""Driving the real bot through the fake Bot API: users who type and press buttons.

`Harness.exchange` pushes an update, waits until the running Dispatcher has finished handling
it (a middleware installed outermost marks it done), and returns what the bot sent to that
user meanwhile. Unhandled exceptions in the bot are collected so the fixture can fail on them.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from aiogram import BaseMiddleware, Dispatcher
from aiogram.types import TelegramObject, Update

from tests.telegram.fake_api import BOT_USER, Call, FakeBotAPI

WAIT_SECONDS = 15


class FakeClock:
    """The throttle's clock: each user action moves it on, as a person takes a moment.

    `wall` is the same clock as a UTC time from `WALL_START` (it picks this week's board).
    """

    WALL_START = datetime(2026, 3, 30, 9, 0, tzinfo=UTC)  # a Monday morning

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def wall(self) -> datetime:
        return self.WALL_START + timedelta(seconds=self.now - 1_000.0)

    def advance(self, seconds: float) -> None:
        self.now += seconds


class DoneTracker(BaseMiddleware):
    """Marks each update done when the dispatcher is through with it; keeps escaped errors."""

    def __init__(self) -> None:
        self.done: dict[int, asyncio.Event] = {}
        self.errors: list[BaseException] = []

    def event_for(self, update_id: int) -> asyncio.Event:
        return self.done.setdefault(update_id, asyncio.Event())

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        assert isinstance(event, Update)
        try:
            return await handler(event, data)
        except Exception as error:
            self.errors.append(error)
            raise
        finally:
            self.event_for(event.update_id).set()

    def install(self, dispatcher: Dispatcher) -> None:
        """Register as the outermost update middleware (outside aiogram's error handling)."""
        manager = dispatcher.update.outer_middleware
        existing = list(manager[:])
        for middleware in existing:
            manager.unregister(middleware)
        manager.register(self)
        for middleware in existing:
            manager.register(middleware)


@dataclass
class Reply:
    """What the bot did for one user action (`calls` that failed are in `refused`)."""

    all_calls: list[Call]
    answer: dict[str, Any] | None = None

    @property
    def calls(self) -> list[Call]:
        return [call for call in self.all_calls if call.status == 200]

    @property
    def refused(self) -> list[Call]:
        return [call for call in self.all_calls if call.status != 200]

    @property
    def texts(self) -> list[str]:
        """What the learner reads: messages sent or edited, and photos' captions."""
        return [
            call.params["caption"] if call.method == "sendPhoto" else call.params["text"]
            for call in self.calls
            if call.method in ("sendMessage", "editMessageText", "sendPhoto")
        ]

    @property
    def photos(self) -> list[Call]:
        return [call for call in self.calls if call.method == "sendPhoto"]

    @property
    def text(self) -> str:
        return "\n".join(self.texts)

    @property
    def methods(self) -> list[str]:
        return [call.method for call in self.calls]

    @property
    def notifications(self) -> list[str]:
        return [text for text in self.texts if text.startswith("🏆 ") and "(+" in text]

    @property
    def answer_text(self) -> str | None:
        return self.answer.get("text") if self.answer else None


class Running(Protocol):
    """The bot under test, as the harness sees it (tests/telegram/conftest.py: RunningBot)."""

    tracker: DoneTracker
    clock: FakeClock

    async def restart(self, api: FakeBotAPI) -> None: ...

    async def stop(self) -> None: ...

    async def start(self, api: FakeBotAPI) -> None: ...


@dataclass
class Harness:
    api: FakeBotAPI
    running: Running
    query_ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    @property
    def tracker(self) -> DoneTracker:
        return self.running.tracker

    @property
    def clock(self) -> FakeClock:
        return self.running.clock

    def user(self, user_id: int, first_name: str, **profile: Any) -> FakeUser:
        return FakeUser(self, user_id, first_name, **profile)

    async def exchange(self, user: FakeUser, update: dict[str, Any], *, pause: float) -> Reply:
        self.clock.advance(pause)
        mark = len(self.api.calls)
        update_id = await self.api.push(update)
        await self.handled([update_id])
        return Reply([call for call in self.api.calls[mark:] if call.chat_id == user.id])

    async def handled(self, update_ids: list[int], seconds: float = WAIT_SECONDS) -> None:
        """Wait until the bot is through with every one of `update_ids`."""
        waits = (self.tracker.event_for(update_id).wait() for update_id in update_ids)
        await asyncio.wait_for(asyncio.gather(*waits), seconds)

    async def burst(self, user: FakeUser, updates: list[dict[str, Any]]) -> Reply:
        """Push `updates` at once, with no time passing, and wait until all are handled."""
        mark = len(self.api.calls)
        ids = [await self.api.push(update) for update in updates]
        await self.handled(ids)
        return Reply([call for call in self.api.calls[mark:] if call.chat_id == user.id])


def callback_buttons(message: dict[str, Any]) -> dict[str, str]:
    """Label -> callback data of the message's buttons that send a callback query."""
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return {
        button["text"]: button["callback_data"]
        for row in rows
        for button in row
        if "callback_data" in button
    }


def _bot_as(status: str) -> dict[str, Any]:
    """The bot as a chat member of `status` ("member", "kicked"…)."""
    bot = {"id": BOT_USER["id"], "is_bot": True, "first_name": BOT_USER["first_name"]}
    return {"status": status, "user": bot} | ({"until_date": 0} if status == "kicked" else {})


class FakeUser:
    """A Telegram user in a private chat with the bot."""

    def __init__(
        self,
        harness: Harness,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
    ) -> None:
        self.harness = harness
        self.id = user_id
        self.profile: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        extra = {"last_name": last_name, "username": username, "language_code": language_code}
        self.profile |= {key: value for key, value in extra.items() if value is not None}
        self._message_ids = itertools.count(1)

    @property
    def chat(self) -> dict[str, Any]:
        return {"id": self.id, "type": "private", "first_name": self.profile["first_name"]}

    def message_update(self, text: str) -> dict[str, Any]:
        message = {
            "message_id": self.harness.api.new_message_id(),
            "date": int(time.time()),
            "chat": self.chat,
            "from": self.profile,
            "text": text,
        }
        return {"message": message}

    async def change_membership(
        self, old: str, new: str, *, chat: dict[str, Any] | None = None, pause: float = 1.0
    ) -> Reply:
        """Block (`new="kicked"`) or unblock (`new="member"`) the bot in this private chat (or
        in `chat`): Telegram's `my_chat_member` update."""
        update = {
            "my_chat_member": {
                "chat": chat or self.chat,
                "from": self.profile,
                "date": int(time.time()),
                "old_chat_member": _bot_as(old),
                "new_chat_member": _bot_as(new),
            }
        }
        return await self.harness.exchange(self, update, pause=pause)

    async def send(self, text: str, *, pause: float = 1.0) -> Reply:
        """Type `text` in the chat."""
        return await self.harness.exchange(self, self.message_update(text), pause=pause)

    async def flood(self, texts: list[str]) -> Reply:
        """Send many messages faster than a person could."""
        return await self.harness.burst(self, [self.message_update(text) for text in texts])

    def screen(self) -> dict[str, Any]:
        """The latest message in this chat with buttons to press (link buttons, such as
        "Share", do not count), as the server holds it now."""
        with_buttons = [
            message
            for (chat_id, _), message in self.harness.api.messages.items()
            if chat_id == self.id and callback_buttons(message)
        ]
        assert with_buttons, "the bot has shown this user no buttons"
        return max(with_buttons, key=lambda message: message["message_id"])

    def buttons(self, message: dict[str, Any] | None = None) -> dict[str, str]:
        """Button label -> callback data, on `message` or the latest screen."""
        return callback_buttons(message or self.screen())

    async def press(
        self, label: str, *, message: dict[str, Any] | None = None, pause: float = 1.0
    ) -> Reply:
        """Press the button whose label contains `label` on `message` (default: latest screen)."""
        message = message or self.screen()
        matches = [data for text, data in self.buttons(message).items() if label in text]
        assert len(matches) == 1, f"{label!r} matches {len(matches)} buttons: {self.buttons()}"
        return await self.press_data(matches[0], message=message, pause=pause)

    async def press_data(
        self, data: str, *, message: dict[str, Any] | None = None, pause: float = 1.0
    ) -> Reply:
        """Send a callback query with `data`, as if pressed on `message` (possibly forged)."""
        query_id, update = self.callback_update(data, message)
        reply = await self.harness.exchange(self, update, pause=pause)
        reply.answer = self.harness.api.callback_answers[query_id]
        return reply

    def callback_update(
        self, data: str, message: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """A press of a button with `data` on `message` (default: the latest screen)."""
        message = message or self.screen()
        query_id = f"{self.id}-{next(self.harness.query_ids)}"
        self.harness.api.callback_answers[query_id] = None
        update = {
            "callback_query": {
                "id": query_id,
                "from": self.profile,
                "chat_instance": f"chat-{self.id}",
                "message": message,
                "data": data,
            }
        }
        return query_id, update

    def button_data(self, label: str, message: dict[str, Any] | None = None) -> str:
        """The callback data of the one button whose label contains `label`."""
        buttons = self.buttons(message)
        matches = [data for text, data in buttons.items() if label in text]
        assert len(matches) == 1, f"{label!r} matches {len(matches)} buttons: {buttons}"
        return matches[0]

    async def queue_press(self, label: str) -> tuple[str, int]:
        """Press a button without waiting for the bot; the query id and the update id."""
        query_id, update = self.callback_update(self.button_data(label))
        return query_id, await self.harness.api.push(update)

    async def queue_send(self, text: str) -> int:
        """Type `text` without waiting for the bot; the update id."""
        return await self.harness.api.push(self.message_update(text))
