"""`questline outbox status|list|retry|run`: notifications waiting to leave; their dispatcher."""

from __future__ import annotations

import asyncio
import signal
from datetime import timedelta

import click
from rich.table import Table
from rich.text import Text

from questline.adapters.cli.runtime import console, open_engine, run
from questline.engine.dispatcher import DispatchSettings
from questline.engine.models import OutboxStatus
from questline.engine.outbox import OutboxView

STATUSES = [status.value for status in OutboxStatus]


@click.group()
def outbox() -> None:
    """Notifications written with each event, delivered to plugins at least once."""


async def _status() -> dict[str, int]:
    async with open_engine() as engine:
        return await engine.outbox_status()


@outbox.command()
def status() -> None:
    """Count the entries pending, done and dead-lettered."""
    counts = run(_status())
    click.echo("  ".join(f"{name}: {count}" for name, count in counts.items()))


async def _list(state: str | None, limit: int) -> list[OutboxView]:
    async with open_engine() as engine:
        return await engine.outbox_entries(status=state, limit=limit)


@outbox.command("list")
@click.option("--status", "state", type=click.Choice(STATUSES), help="Only entries in this state.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True)
def list_entries(state: str | None, limit: int) -> None:
    """Show the latest entries, newest first, with their attempts and last error."""
    entries = run(_list(state, limit))
    if not entries:
        click.echo("no outbox entries" + (f" with status {state}" if state else ""))
        return
    table = Table(title="Outbox", title_justify="left")
    for column in ("id", "topic", "status", "attempts", "learner", "created", "dedupe id", "error"):
        table.add_column(column)
    for entry in entries:
        table.add_row(
            str(entry.id),
            entry.topic,
            entry.status,
            str(entry.attempts),
            str(entry.user_id or ""),
            entry.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            entry.dedupe_id,
            Text(entry.last_error or ""),
        )
    console().print(table)


async def _retry(ids: tuple[int, ...] | None) -> int:
    async with open_engine() as engine:
        return await engine.retry_outbox(ids)


@outbox.command()
@click.argument("ids", nargs=-1, type=click.IntRange(min=1))
@click.option("--all-dead", is_flag=True, help="Retry every dead-lettered entry.")
def retry(ids: tuple[int, ...], all_dead: bool) -> None:
    """Make dead-lettered entries IDS pending again (attempts start from zero)."""
    if bool(ids) == all_dead:
        raise click.UsageError("give entry ids or --all-dead (not both)")
    count = run(_retry(ids or None))
    click.echo(f"{count} entr{'y' if count == 1 else 'ies'} pending again")


async def _run_once(settings: DispatchSettings) -> tuple[int, dict[str, int]]:
    """Deliver what is due once; how many entries were handled, and the outbox after."""
    async with open_engine() as engine:
        return await engine.deliver_outbox(settings), await engine.outbox_status()


async def _run(settings: DispatchSettings) -> None:
    async with open_engine() as engine:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        engine.start_dispatcher(settings)
        await stop.wait()


@outbox.command("run")
@click.option("--once", is_flag=True, help="Deliver what is due, then exit.")
@click.option(
    "--lease",
    type=click.FloatRange(min=0.1),
    default=60.0,
    show_default=True,
    help="Seconds a claimed entry stays reserved for this process.",
)
@click.option(
    "--poll",
    type=click.FloatRange(min=0.01),
    default=1.0,
    show_default=True,
    help="Seconds between passes when nothing wakes the dispatcher.",
)
@click.option("--max-attempts", type=click.IntRange(min=1), default=10, show_default=True)
@click.option(
    "--backoff",
    type=click.FloatRange(min=0.0),
    default=2.0,
    show_default=True,
    help="Seconds before the first retry; doubled after each failure, with jitter.",
)
def run_dispatcher(
    once: bool, lease: float, poll: float, max_attempts: int, backoff: float
) -> None:
    """Deliver the outbox to the installed plugins until SIGINT/SIGTERM.

    Run it where every plugin that takes notifications can deliver them (the bot runs one
    itself). Entries a stopped dispatcher had claimed are delivered again after their lease.
    """
    settings = DispatchSettings(
        lease=timedelta(seconds=lease),
        poll_seconds=poll,
        max_attempts=max_attempts,
        backoff_base=timedelta(seconds=backoff),
    )
    if not once:
        run(_run(settings))
        return
    handled, status = run(_run_once(settings))
    # handled: delivered, or failed and due again later (still pending)
    click.echo(
        f"{handled} entr{'y' if handled == 1 else 'ies'} handled; now "
        + "  ".join(f"{name}: {count}" for name, count in status.items())
    )
