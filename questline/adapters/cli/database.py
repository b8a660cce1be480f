"""`questline db`: migrate DATABASE_URL and show its revision."""

from __future__ import annotations

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from questline.adapters.cli.runtime import console, open_engine, reported_errors, run
from questline.engine.db import (
    check_connection,
    create_engine,
    database_url,
    missing_sqlite_file,
    parse_database_url,
    safe_url,
)
from questline.engine.migrate import current_revision, head_revision, upgrade_database


@click.group()
def db() -> None:
    """Database schema: migrate DATABASE_URL to the newest revision."""


async def _upgrade() -> tuple[str | None, str | None]:
    engine = create_engine()
    try:
        await check_connection(engine)
        before = await upgrade_database(engine)
        return before, await current_revision(engine)
    finally:
        await engine.dispose()


@db.command()
def upgrade() -> None:
    """Migrate the database to the newest revision (safe to repeat)."""
    before, after = run(_upgrade())
    where = safe_url(database_url())
    if before == after:
        click.echo(f"{where} is up to date (revision {after})")
    else:
        click.echo(f"{where} migrated from {before or 'an empty database'} to revision {after}")


async def _current() -> str | None:
    engine = create_engine()
    try:
        await check_connection(engine)
        return await current_revision(engine)
    finally:
        await engine.dispose()


@db.command()
def current() -> None:
    """Show the database's revision and whether it is the newest."""
    head = head_revision()
    upgrade = f"newest is {head}; run `questline db upgrade`"
    where = safe_url(database_url())
    with reported_errors():
        missing = missing_sqlite_file(parse_database_url())
    if missing:  # connecting would create the file
        click.echo(f"{where}: no database file yet ({upgrade})")
        return
    revision = run(_current())
    state = "up to date" if revision == head else upgrade
    click.echo(f"{where}: revision {revision or 'none (empty)'} ({state})")


async def _rebuild_aggregates() -> int:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    async with open_engine() as engine:
        total = (await engine.stats())["users"]
        with Progress(*columns, TimeElapsedColumn(), console=console()) as progress:
            task = progress.add_task("rebuilding aggregates", total=total)
            return await engine.rebuild_aggregates(
                on_chunk=lambda done: progress.advance(task, done)
            )


@db.command("rebuild-aggregates")
def rebuild_aggregates() -> None:
    """Recompute every learner's aggregates (counts, active days, streaks) from the activity log.

    Run it after changing QUESTLINE_TIMEZONE, or to check nothing drifted (safe to repeat).
    """
    learners = run(_rebuild_aggregates())
    click.echo(f"aggregates rebuilt for {learners} learner(s) from the activity log")
