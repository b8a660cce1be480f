"""`questline webhooks add|list|remove|enable|deliveries|redeliver`."""

from __future__ import annotations

from urllib.parse import urlsplit

import click
from rich.table import Table
from rich.text import Text

from questline.adapters.cli.runtime import console, open_engine, run
from questline.engine.outbox import TOPICS
from questline_webhooks import store
from questline_webhooks.plugin import plugin
from questline_webhooks.store import DeliveryRecord, Endpoint, Outcome, WebhooksError


def _url(ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (reading it checks it: a port out of range raises)
    except ValueError as error:  # "http://[::1" (an unclosed IPv6 host), "http://h:99999"
        raise click.BadParameter(f"{value!r} is not a URL: {error}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.BadParameter(f"{value!r} is not an http(s) URL with a host")
    if len(value) > 2000:
        raise click.BadParameter("longer than 2000 characters")
    return value


@click.group()
def webhooks() -> None:
    """Signed webhooks (Standard Webhooks) for awards and events."""


async def _add(url: str, events: tuple[str, ...]) -> Endpoint:
    async with open_engine() as engine:
        await store.ensure_schema(engine.db)
        return await store.add_endpoint(engine.db, url, events)


@webhooks.command()
@click.argument("url", callback=_url)
@click.option(
    "--event",
    "events",
    multiple=True,
    required=True,
    type=click.Choice(TOPICS),
    help="A topic to send to URL (repeatable).",
)
def add(url: str, events: tuple[str, ...]) -> None:
    """Subscribe URL to EVENTs; prints the signing secret, once."""
    endpoint = run(_add(url, events))
    click.echo(f"endpoint {endpoint.id}: {endpoint.url} ({', '.join(endpoint.events)})")
    click.echo(f"secret: {endpoint.secret}")
    click.echo("Store the secret now: it is shown only this once.")


async def _list() -> list[Endpoint]:
    async with open_engine() as engine:
        await store.ensure_schema(engine.db)
        return await store.list_endpoints(engine.db)


@webhooks.command("list")
def list_endpoints() -> None:
    """Show the endpoints, their topics and whether they are enabled (never their secrets)."""
    endpoints = run(_list())
    if not endpoints:
        click.echo("no webhook endpoints")
        return
    table = Table(title="Webhook endpoints", title_justify="left")
    for column in ("id", "url", "events", "state", "failures"):
        table.add_column(column)
    for endpoint in endpoints:
        state = "enabled" if endpoint.enabled else f"disabled: {endpoint.disabled_reason}"
        table.add_row(
            str(endpoint.id),
            Text(endpoint.url),
            ", ".join(endpoint.events),
            Text(state),
            str(endpoint.failures),
        )
    console().print(table)


async def _remove(endpoint_id: int) -> None:
    async with open_engine() as engine:
        await store.ensure_schema(engine.db)
        await store.remove_endpoint(engine.db, endpoint_id)


@webhooks.command()
@click.argument("endpoint_id", metavar="ID", type=int)
def remove(endpoint_id: int) -> None:
    """Delete endpoint ID and its delivery history."""
    run(_remove(endpoint_id))
    click.echo(f"endpoint {endpoint_id} removed")


async def _enable(endpoint_id: int) -> None:
    async with open_engine() as engine:
        await store.ensure_schema(engine.db)
        await store.enable_endpoint(engine.db, endpoint_id)


@webhooks.command()
@click.argument("endpoint_id", metavar="ID", type=int)
def enable(endpoint_id: int) -> None:
    """Enable endpoint ID again after it was disabled, with its failure count reset."""
    run(_enable(endpoint_id))
    click.echo(f"endpoint {endpoint_id} enabled")


async def _deliveries(endpoint_id: int | None, limit: int) -> list[DeliveryRecord]:
    async with open_engine() as engine:
        await store.ensure_schema(engine.db)
        if endpoint_id is not None:
            await store.get_endpoint(engine.db, endpoint_id)
        return await store.recent_deliveries(engine.db, endpoint_id=endpoint_id, limit=limit)


@webhooks.command()
@click.option("--endpoint", "endpoint_id", type=int, help="Only attempts to this endpoint.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True)
def deliveries(endpoint_id: int | None, limit: int) -> None:
    """Show recent delivery attempts, newest first, with their status codes."""
    records = run(_deliveries(endpoint_id, limit))
    if not records:
        click.echo("no webhook deliveries")
        return
    table = Table(title="Webhook deliveries", title_justify="left")
    for column in ("id", "endpoint", "webhook-id", "topic", "attempt", "result", "ms", "at"):
        table.add_column(column)
    for record in records:
        result = str(record.status_code) if record.status_code is not None else record.error
        table.add_row(
            str(record.id),
            str(record.endpoint_id),
            record.message_id,
            record.topic,
            str(record.attempt),
            Text(result or ""),
            str(record.duration_ms),
            record.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        )
    console().print(table)


async def _redeliver(delivery_id: int) -> Outcome:
    from questline_webhooks import sender

    async with open_engine() as engine:
        await store.ensure_schema(engine.db)
        record = await store.get_delivery(engine.db, delivery_id)
        endpoint = await store.get_endpoint(engine.db, record.endpoint_id)
        if not endpoint.enabled:
            raise WebhooksError(
                f"endpoint {endpoint.id} is disabled ({endpoint.disabled_reason}); "
                f"`questline webhooks enable {endpoint.id}` first"
            )
        settings = plugin.settings()
        outcome = await sender.post(
            plugin.http(engine),
            endpoint.url,
            endpoint.secret,
            message_id=record.message_id,
            body=record.body,
            time_limit=settings.timeout,
        )
        await store.record_attempt(
            engine.db,
            endpoint,
            message_id=record.message_id,
            topic=record.topic,
            body=record.body,
            outcome=outcome,
            max_failures=settings.max_failures,
        )
        return outcome


@webhooks.command()
@click.argument("delivery_id", metavar="ID", type=int)
def redeliver(delivery_id: int) -> None:
    """Send the message of delivery ID again, now, with the same webhook-id."""
    outcome = run(_redeliver(delivery_id))
    click.echo(f"delivery {delivery_id} sent again: {outcome.describe()}")
    if not outcome.ok:
        raise SystemExit(1)
