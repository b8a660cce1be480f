"""The questline plugin (entry point `webhooks`): outbox entries become signed POSTs.

questline's dispatcher calls the award and event hooks at least once per outbox entry, with
the entry's stable id. Each call POSTs the message to every enabled endpoint subscribed to its
topic that has not accepted it yet, under that id as `webhook-id`. If an endpoint that is still
enabled failed, the hook raises: the outbox retries the entry later, with exponential backoff
and jitter, and endpoints that already accepted it are not posted again.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from questline.engine.outbox import AWARD_GRANTED, EVENT_RECORDED, award_data
from questline.plugins import hookimpl
from questline_webhooks import store
from questline_webhooks.settings import Settings

if TYPE_CHECKING:
    import aiohttp
    import click

    from questline.engine import Engine, Event
    from questline.engine.outbox import Delivery
    from questline.engine.views import AwardView, RecordResult

log = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    """Some subscribed endpoints did not accept a message; the outbox will retry it."""


def message_body(topic: str, delivery: Delivery, data: dict[str, Any]) -> str:
    """The JSON body: the same bytes on every retry of one outbox entry."""
    message = {"type": topic, "timestamp": delivery.created_at.isoformat(), "data": data}
    return json.dumps(message, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


class WebhooksPlugin:
    """Delivers awards and events to the subscribed endpoints; adds `questline webhooks`."""

    def __init__(self) -> None:
        self._http: WeakKeyDictionary[Engine, aiohttp.ClientSession] = WeakKeyDictionary()

    def settings(self) -> Settings:
        return Settings.from_env()

    def http(self, engine: Engine) -> aiohttp.ClientSession:
        import aiohttp

        session = self._http.get(engine)
        if session is None or session.closed:
            session = self._http[engine] = aiohttp.ClientSession()
        return session

    @hookimpl
    def questline_cli_commands(self, cli: click.Group) -> None:
        from questline_webhooks.cli import webhooks

        cli.add_command(webhooks)

    @hookimpl
    def questline_startup(self) -> None:
        """Refuse bad settings in one line as the engine starts (read at each delivery only,
        they failed every entry with a traceback and spent its attempts)."""
        self.settings()

    @hookimpl
    async def questline_shutdown(self, engine: Engine) -> None:
        session = self._http.pop(engine, None)
        if session is not None:
            await session.close()

    @hookimpl
    async def questline_award_granted(
        self, engine: Engine, award: AwardView, delivery: Delivery
    ) -> None:
        await self.deliver(
            engine, delivery, message_body(AWARD_GRANTED, delivery, award_data(award))
        )

    @hookimpl
    async def questline_event_recorded(
        self, engine: Engine, event: Event, result: RecordResult, delivery: Delivery
    ) -> None:
        data = {
            "event": event.model_dump(mode="json"),
            "activity_id": result.activity_id,
            "user_id": result.user_id,
            "awards": [award_data(award) for award in result.awards],
        }
        await self.deliver(engine, delivery, message_body(EVENT_RECORDED, delivery, data))

    async def deliver(self, engine: Engine, delivery: Delivery, body: str) -> None:
        """POST one message to its subscribers that have not accepted it yet."""
        from questline_webhooks import sender

        if not await store.has_schema(engine.db):
            return
        subscribed = await store.subscribers(engine.db, delivery.topic)
        if not subscribed:
            return
        accepted = await store.delivered(engine.db, delivery.id)
        targets = [endpoint for endpoint in subscribed if endpoint.id not in accepted]
        settings = self.settings()
        http = self.http(engine)
        outcomes = await asyncio.gather(
            *(
                sender.post(
                    http,
                    endpoint.url,
                    endpoint.secret,
                    message_id=delivery.id,
                    body=body,
                    time_limit=settings.timeout,
                )
                for endpoint in targets
            )
        )
        failures = []
        for endpoint, outcome in zip(targets, outcomes, strict=True):
            disabled = await store.record_attempt(
                engine.db,
                endpoint,
                message_id=delivery.id,
                topic=delivery.topic,
                body=body,
                outcome=outcome,
                max_failures=settings.max_failures,
            )
            if disabled is not None:
                log.warning("webhook endpoint %d disabled: %s", endpoint.id, disabled)
            elif not outcome.ok:
                failures.append(f"endpoint {endpoint.id}: {outcome.describe()}")
        if failures:
            raise DeliveryFailed("; ".join(failures))


plugin = WebhooksPlugin()
