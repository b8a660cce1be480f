"""A fake Telegram Bot API server on 127.0.0.1, speaking enough of the HTTP API for our bot.

It holds a queue of updates that tests push (as users would), serves them by long polling
with offsets, stores the messages the bot sends or edits, and records every call. A method
it does not know is answered 404 and remembered in `unknown`; the fixture fails the test.

Photos arrive as Telegram receives uploads, in a multipart/form-data body: `sendPhoto` keeps
the file's bytes (`photos`), refuses anything that is not an image (400, as Telegram does)
and a photo given by file id or URL (the bot always uploads).

Faults, as Telegram produces them, can be injected per method (and per chat): 429 Too Many
Requests with `retry_after`, 5xx server errors (JSON, or an HTML page as a proxy sends), and
any other status and description (403 blocked, 400 "message to edit not found"…); see `fail`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

BOT_USER = {
    "id": 4242,
    "is_bot": True,
    "first_name": "questline",
    "username": "questline_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
TOKEN = f"{BOT_USER['id']}:AAF-fake-secret-token-for-tests_only"
INT_PARAMS = frozenset({"chat_id", "message_id", "offset", "limit", "timeout", "cache_time"})
JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "allowed_updates",
        "commands",
        "scope",
        "link_preview_options",
        "reply_parameters",
        "entities",
        "drop_pending_updates",
        "show_alert",
    }
)
BLOCKED = "Forbidden: bot was blocked by the user"
PNG = b"\x89PNG\r\n\x1a\n"
CAPTION_LIMIT = 1024


@dataclass(frozen=True)
class Call:
    """One request the bot made, and the HTTP status it was answered with."""

    method: str
    params: dict[str, Any]
    at: float
    status: int = 200

    @property
    def chat_id(self) -> int | None:
        return self.params.get("chat_id")

    @property
    def text(self) -> str:
        """A message's text, or a photo's caption."""
        return self.params.get("text", self.params.get("caption", ""))


@dataclass
class Fault:
    """The next `times` calls of `method` (for `chat_id`, if given) fail this way."""

    method: str
    status: int
    description: str
    retry_after: int | None = None
    times: int = 1
    chat_id: int | None = None
    html: bool = False

    def matches(self, method: str, params: dict[str, Any]) -> bool:
        if self.times <= 0 or method != self.method:
            return False
        return self.chat_id is None or params.get("chat_id") == self.chat_id

    def response(self) -> web.Response:
        self.times -= 1
        if self.html:
            page = f"<html><body><h1>{self.status} {self.description}</h1></body></html>"
            return web.Response(status=self.status, text=page, content_type="text/html")
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return web.json_response(body, status=self.status)


class ApiError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


class FakeBotAPI:
    """The server and its state. `start()` returns the base URL for TELEGRAM_API_BASE."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.unknown: list[str] = []
        self.blocked: set[int] = set()
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.photos: dict[tuple[int, int], bytes] = {}
        """The uploaded image of each photo message, by (chat id, message id)."""
        self.callback_answers: dict[str, dict[str, Any] | None] = {}
        self.faults: list[Fault] = []
        self._pending: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._closing = False
        self.base_url = ""
        self._methods: dict[str, Callable[[dict[str, Any]], Any]] = {
            "getMe": lambda params: BOT_USER,
            "deleteWebhook": lambda params: True,
            "setMyCommands": lambda params: True,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "editMessageText": self._edit_message_text,
            "answerCallbackQuery": self._answer_callback_query,
        }

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self.base_url

    async def stop(self) -> None:
        async with self._changed:
            self._closing = True
            self._changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- what tests do ---------------------------------------------------------------------

    async def push(self, update: dict[str, Any]) -> int:
        """Queue an update (its update_id is assigned here) and wake a waiting getUpdates."""
        update_id = next(self._update_ids)
        async with self._changed:
            self._pending.append({"update_id": update_id, **update})
            self._changed.notify_all()
        return update_id

    def fail(
        self,
        method: str,
        status: int,
        description: str,
        *,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | None = None,
        html: bool = False,
    ) -> Fault:
        """Make the next `times` calls of `method` (for `chat_id`, if given) fail."""
        fault = Fault(method, status, description, retry_after, times, chat_id, html)
        self.faults.append(fault)
        return fault

    def too_many_requests(self, method: str, retry_after: int, **options: Any) -> Fault:
        """429, as Telegram answers a bot that sends too fast."""
        description = f"Too Many Requests: retry after {retry_after}"
        return self.fail(method, 429, description, retry_after=retry_after, **options)

    def server_error(self, method: str, status: int = 502, **options: Any) -> Fault:
        """A 5xx (502 Bad Gateway by default)."""
        description = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Unavailable"}
        return self.fail(method, status, description.get(status, "Server Error"), **options)

    def new_message_id(self) -> int:
        return next(self._message_ids)

    async def wait_for(self, predicate: Callable[[Call], bool], seconds: float = 10) -> Call:
        """The first recorded call matching `predicate`, waiting for it if need be."""
        async with self._changed:
            found: list[Call] = []

            def seen() -> bool:
                found[:] = [call for call in self.calls if predicate(call)][:1]
                return bool(found)

            await asyncio.wait_for(self._changed.wait_for(seen), seconds)
            return found[0]

    def sent_to(self, chat_id: int) -> list[Call]:
        return [call for call in self.calls if call.chat_id == chat_id]

    def delivered(self, chat_id: int) -> list[str]:
        """The texts of the messages this chat holds now, oldest first (edits applied)."""
        return [
            message.get("text", message.get("caption", ""))
            for (chat, _), message in sorted(self.messages.items())
            if chat == chat_id
        ]

    # -- the HTTP side ---------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        params = _decode(await request.post())
        fault = next((f for f in self.faults if f.matches(method, params)), None)
        status = fault.status if fault is not None else 200
        async with self._changed:
            self.calls.append(Call(method, params, time.monotonic(), status))
            self._changed.notify_all()
        if fault is not None:
            return fault.response()
        if method == "getUpdates":
            return web.json_response({"ok": True, "result": await self._get_updates(params)})
        handler = self._methods.get(method)
        if handler is None:
            self.unknown.append(method)
            return _error(404, "Not Found")
        try:
            result = handler(params)
        except ApiError as error:
            return _error(error.status, error.description)
        async with self._changed:
            self._changed.notify_all()
        return web.json_response({"ok": True, "result": result})

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Confirm updates below `offset`, then return pending ones, waiting up to `timeout`."""
        offset = params.get("offset")
        limit = params.get("limit") or 100
        async with self._changed:
            if offset is not None:
                self._pending = [u for u in self._pending if u["update_id"] >= offset]
            try:
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: bool(self._pending) or self._closing),
                    params.get("timeout") or 0.001,
                )
            except TimeoutError:
                return []
            return [] if self._closing else self._pending[:limit]

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = params["chat_id"]
        if chat_id in self.blocked:
            raise ApiError(403, BLOCKED)
        message = {
            "message_id": self.new_message_id(),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": BOT_USER,
            "text": params["text"],
        }
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        self.messages[chat_id, message["message_id"]] = message
        return message

    def _send_photo(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = params["chat_id"]
        if chat_id in self.blocked:
            raise ApiError(403, BLOCKED)
        upload = params.get("photo")
        if not isinstance(upload, Upload):
            raise ApiError(400, "Bad Request: the fake server takes uploaded photos only")
        if not upload.data.startswith(PNG):
            raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")
        if len(params.get("caption", "")) > CAPTION_LIMIT:
            raise ApiError(400, "Bad Request: message caption is too long")
        message = {
            "message_id": self.new_message_id(),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": BOT_USER,
            "photo": [_photo_size(upload.data, f"photo-{chat_id}-{len(self.photos)}")],
        }
        for key in ("caption", "reply_markup"):
            if key in params:
                message[key] = params[key]
        self.messages[chat_id, message["message_id"]] = message
        self.photos[chat_id, message["message_id"]] = upload.data
        return message

    def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any]:
        key = (params["chat_id"], params["message_id"])
        message = self.messages.get(key)
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        markup = params.get("reply_markup")
        if message["text"] == params["text"] and message.get("reply_markup") == markup:
            raise ApiError(400, "Bad Request: message is not modified")
        message = {**message, "text": params["text"], "edit_date": int(time.time())}
        message.pop("reply_markup", None)
        if markup is not None:
            message["reply_markup"] = markup
        self.messages[key] = message
        return message

    def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        query_id = params["callback_query_id"]
        if query_id not in self.callback_answers or self.callback_answers[query_id] is not None:
            raise ApiError(400, "Bad Request: query is too old or query ID is invalid")
        self.callback_answers[query_id] = params
        return True


@dataclass(frozen=True)
class Upload:
    """A file sent in a multipart body."""

    filename: str
    content_type: str
    data: bytes


def _photo_size(png: bytes, file_id: str) -> dict[str, Any]:
    """A PhotoSize for an uploaded PNG (width and height from its IHDR chunk)."""
    width, height = int.from_bytes(png[16:20]), int.from_bytes(png[20:24])
    return {
        "file_id": file_id,
        "file_unique_id": file_id,
        "width": width,
        "height": height,
        "file_size": len(png),
    }


def _decode(form: Any) -> dict[str, Any]:
    """Form fields as aiogram sends them: JSON for objects and numbers, plain text otherwise;
    a file is a part of its own, named by "attach://<part>" in its field (or the field)."""
    params: dict[str, Any] = {}
    uploads = {
        key: Upload(value.filename, value.content_type, value.file.read())
        for key, value in form.items()
        if isinstance(value, web.FileField)
    }
    for key, value in form.items():
        if isinstance(value, web.FileField):
            continue
        if isinstance(value, str) and value.startswith("attach://"):
            params[key] = uploads.pop(value.removeprefix("attach://"), value)
        elif key in INT_PARAMS:
            params[key] = int(value)
        elif key in JSON_PARAMS:
            params[key] = json.loads(value)
        else:
            params[key] = value
    return params | uploads


def _error(status: int, description: str) -> web.Response:
    body = {"ok": False, "error_code": status, "description": description}
    return web.json_response(body, status=status)
