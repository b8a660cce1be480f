"""`questline events publish FILE.jsonl`, `questline worker` and `questline worker status`."""

from __future__ import annotations

import asyncio
import logging
import shutil
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from questline.adapters.cli.ingest import BadLine, not_utf8, numbered_lines, parse_line
from questline.adapters.cli.runtime import console, open_engine, run
from questline.adapters.nats.settings import URL_ENV, NatsSettings, NatsSettingsError
from questline.adapters.patience import once_it_answers
from questline.engine import Event
from questline.engine.db import DatabaseUnreachable, check_connection, create_engine

if TYPE_CHECKING:
    from questline.adapters.nats.publisher import Published


def settings_or_fail() -> NatsSettings:
    try:
        settings = NatsSettings.from_env()
    except NatsSettingsError as error:
        raise click.ClickException(str(error)) from None
    if settings is None:
        raise click.ClickException(f"{URL_ENV} is not set; give the NATS server's URL")
    return settings


def checked_count(path: Path, label: str) -> int:
    """Validate every line first, so that a bad file publishes nothing; returns the count."""
    count = 0
    try:
        for number, text in numbered_lines(path):
            try:
                parse_line(text)
            except ValueError as error:
                problem = str(error).encode("utf-8", "backslashreplace").decode("utf-8")
                raise BadLine(
                    f"{label}, line {number}: {problem} (nothing was published)"
                ) from None
            count += 1
    except UnicodeDecodeError:
        raise BadLine(not_utf8(path)) from None
    return count


@contextmanager
def readable_twice(path: Path) -> Iterator[Path]:
    """`path` if it is a file; a pipe (`<(…)`, /dev/stdin) is first copied to a temporary file
    of the same name, since every line is checked before any is published."""
    if path.is_file():
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="questline-publish-") as folder:
        copy = Path(folder) / path.name
        with path.open("rb") as source, copy.open("wb") as target:
            shutil.copyfileobj(source, target)
        yield copy


def events_of(path: Path) -> Iterator[Event]:
    for _, text in numbered_lines(path):
        yield parse_line(text)


async def _publish(path: Path, label: str, settings: NatsSettings, total: int) -> Published:
    from questline.adapters.nats.publisher import Publisher

    publisher = await Publisher.open(settings)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    try:
        with Progress(*columns, TimeElapsedColumn(), console=console()) as progress:
            task = progress.add_task(f"publishing {label}", total=total)
            return await publisher.publish_all(
                events_of(path), progress=lambda n: progress.advance(task, n)
            )
    finally:
        await publisher.close()


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def publish(file: Path) -> None:
    """Publish the events of a JSON Lines file to NATS JetStream (QUESTLINE_NATS_URL).

    Every line is validated as `questline events ingest` does before anything is sent; each
    event goes to its learner's partition and is acknowledged by JetStream. Workers
    (`questline worker`) record them. Publishing a file again is safe for the lines with an
    idempotency_key or an occurred_at; a line with neither is an event of the moment it is
    published, and publishing it again is another event.
    """
    settings = settings_or_fail()
    label = file.name if file.is_file() else str(file)  # a pipe's name is a number: "63"
    with readable_twice(file) as readable:
        total = checked_count(readable, label)
        published = run(_publish(readable, label, settings, total))
    already = (
        f" ({published.duplicates} dropped by JetStream as published in the last "
        f"{settings.duplicate_window:g} s)"
        if published.duplicates
        else ""
    )
    click.echo(f"{label}: {published.count} event(s) published to {settings.stream}{already}")


def partition_list(text: str, partitions: int) -> list[int]:
    """`0-3,7` → [0, 1, 2, 3, 7]; click.BadParameter names a part that is not a partition."""
    chosen: set[int] = set()
    for part in text.split(","):
        low, _, high = part.strip().partition("-")
        if not low.isdigit() or (high and not high.isdigit()):
            raise click.BadParameter(f'"{part}" is not a partition number or range like 0-3')
        first, last = int(low), int(high or low)
        if first > last or last >= partitions:
            raise click.BadParameter(
                f'"{part}" is outside the partitions 0-{partitions - 1} (QUESTLINE_NATS_PARTITIONS)'
            )
        chosen.update(range(first, last + 1))
    return sorted(chosen)


async def _work(settings: NatsSettings, partitions: list[int] | None) -> tuple[int, int, int]:
    from questline.adapters.nats.worker import Worker

    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    if not await _database_answers(stopping):
        return 0, 0, 0
    async with open_engine() as engine:
        engine.start_dispatcher()  # awards leave through the outbox, to the award hooks
        engine.start_period_closer()
        worker = Worker(engine, settings, partitions)
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, worker.stop)
        await worker.run()
        return worker.recorded, worker.repeated, worker.dead


async def _database_answers(stopping: asyncio.Event) -> bool:
    """Wait until the database answers (a worker restarted during an outage starts when it is
    over, as a running one carries on); False if stopped first. A database that answers but
    is wrong (not migrated, refused credentials) fails at once."""
    db = create_engine()

    async def answers() -> bool:
        await check_connection(db)
        return True

    try:
        waited = await once_it_answers(
            answers,
            DatabaseUnreachable,
            "the database",
            lambda words: click.echo(f"worker: {words}", err=True),
            stopping,
        )
        return bool(waited)
    finally:
        await db.dispose()


@click.group(invoke_without_command=True)
@click.option("--partitions", help="Partitions this worker may take, e.g. 0-7 or 0,2,4 (all).")
@click.pass_context
def worker(ctx: click.Context, partitions: str | None) -> None:
    """Record events from NATS JetStream until SIGTERM or SIGINT.

    The worker takes a fair share of the partitions by lease (a dead worker's partitions pass
    to the others within 4/3 of QUESTLINE_NATS_LEASE_TTL, default 10 s, and are consumed once
    its unacknowledged batch is due again, QUESTLINE_NATS_ACK_WAIT, default 30 s), records
    each fetched batch in one transaction and acknowledges it after the commit.
    """
    if ctx.invoked_subcommand is not None:
        return
    settings = settings_or_fail()
    chosen = None if partitions is None else partition_list(partitions, settings.partitions)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    recorded, repeated, dead = run(_work(settings, chosen))
    click.echo(
        f"worker stopped: {recorded} event(s) recorded, {repeated} replay(s) or challenge(s) "
        f"already solved (nothing written), {dead} dead-lettered"
    )


@worker.command()
def status() -> None:
    """Per partition: lag, pending acks, redeliveries, dead letters and the lease holder."""
    from questline.adapters.nats.status import partition_status

    settings = settings_or_fail()
    rows = run(partition_status(settings))
    table = Table("partition", "lag", "ack pending", "redelivered", "dead letters", "worker")
    for row in rows:
        table.add_row(
            str(row.partition),
            str(row.lag),
            str(row.ack_pending),
            str(row.redelivered),
            str(row.dead_letters),
            row.holder or "-",
        )
    console().print(table)
    total = sum(row.lag + row.ack_pending for row in rows)
    click.echo(f"{total} event(s) waiting, {sum(row.dead_letters for row in rows)} dead letter(s)")
