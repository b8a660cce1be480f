"""`questline awards backfill`: grant a rule's achievement for past activity."""

from __future__ import annotations

from collections import Counter

import click

from questline.adapters.cli.runtime import console, open_engine, run
from questline.engine.facets.rules import BackfillReport


@click.group()
def awards() -> None:
    """Awards of achievements."""


async def _backfill(slug: str) -> BackfillReport:
    async with open_engine() as engine:
        return await engine.backfill(slug)


@awards.command()
@click.argument("slug")
def backfill(slug: str) -> None:
    """Evaluate the loaded rule SLUG for every learner and grant it where it holds.

    Backfilled awards are not announced to learners (no notifications for history).
    """
    with console().status(f"evaluating {slug} for every learner…"):
        report = run(_backfill(slug))
    granted = Counter(award.slug for award in report.awards)
    click.echo(f"{slug}: {report.users} learner(s) scanned, {granted[slug]} award(s) granted")
    others = sum(count for name, count in granted.items() if name != slug)
    if others:
        click.echo(f"and {others} award(s) of other rules, judged again after these awards")
