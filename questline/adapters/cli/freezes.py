"""`questline freezes grant|list`: streak freezes an admin gives, and a learner's freezes."""

from __future__ import annotations

from datetime import tzinfo

import click
from rich.table import Table
from rich.text import Text

from questline.adapters.cli.render import moment
from questline.adapters.cli.runtime import TELEGRAM_ID, console, open_engine, run
from questline.engine.views import FreezeReport
from questline.rules.limits import MAX_FREEZES


@click.group()
def freezes() -> None:
    """Streak freezes: a missed day that uses one does not break the streak."""


def summary(report: FreezeReport) -> str:
    return (
        f"{report.user.display_name} (Telegram id {report.user.telegram_id}) holds "
        f"{report.held} streak freeze(s): {report.granted} given, {report.used} used"
    )


def grants_table(report: FreezeReport, zone: tzinfo) -> Table:
    """Every grant, oldest first: when, how many, and why (a reason or an achievement)."""
    table = Table(title="Grants", title_justify="left")
    table.add_column("granted at", no_wrap=True)
    table.add_column("freezes", justify="right")
    table.add_column("for")
    for grant in report.grants:
        why = f"achievement {grant.achievement_slug}" if grant.achievement_slug else grant.reason
        table.add_row(moment(grant.granted_at, zone), str(grant.amount), Text(why or ""))
    return table


async def _grant(telegram_id: int, amount: int, reason: str) -> FreezeReport:
    async with open_engine() as engine:
        return await engine.grant_freezes(amount, telegram_id=telegram_id, reason=reason)


async def _list(telegram_id: int) -> tuple[FreezeReport, tzinfo]:
    async with open_engine() as engine:
        return await engine.freezes(telegram_id=telegram_id), engine.zone


@freezes.command()
@click.argument("telegram_id", type=TELEGRAM_ID)
@click.argument("amount", type=click.IntRange(1, MAX_FREEZES))
@click.option("--reason", required=True, help="What the freezes are for (kept with the grant).")
def grant(telegram_id: int, amount: int, reason: str) -> None:
    """Give a learner AMOUNT streak freezes."""
    click.echo(summary(run(_grant(telegram_id, amount, reason))))


@freezes.command(name="list")
@click.argument("telegram_id", type=TELEGRAM_ID)
def list_freezes(telegram_id: int) -> None:
    """Show a learner's freezes: grants, and the missed days freezes covered."""
    report, zone = run(_list(telegram_id))
    out = console()
    out.print(summary(report), soft_wrap=True)
    out.print(grants_table(report, zone))
    days = ", ".join(day.isoformat() for day in report.covered_days) or "none yet"
    out.print(f"days covered by a freeze: {days}", soft_wrap=True)
