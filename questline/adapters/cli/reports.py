"""`questline progress` and `plugins`: read-only reports."""

from __future__ import annotations

from datetime import tzinfo

import click

from questline.adapters.cli.render import (
    achievements_table,
    modules_table,
    plugins_table,
    totals_line,
)
from questline.adapters.cli.runtime import (
    TELEGRAM_ID,
    console,
    offline_engine,
    open_engine,
    plugin_manager,
    run,
)
from questline.engine.views import AchievementStatus, ProgressReport


async def _progress(
    telegram_id: int,
) -> tuple[ProgressReport, list[AchievementStatus], tzinfo]:
    async with open_engine() as engine:
        report = await engine.progress(telegram_id=telegram_id)
        return report, await engine.achievements(telegram_id=telegram_id), engine.zone


@click.command()
@click.argument("telegram_id", type=TELEGRAM_ID)
def progress(telegram_id: int) -> None:
    """Show a learner's progress per module, streaks and achievements."""
    report, statuses, zone = run(_progress(telegram_id))
    out = console()
    out.print(modules_table(report))
    out.print(totals_line(report))
    out.print(achievements_table(statuses, zone))


@click.command()
def plugins() -> None:
    """List the loaded plugins and the hooks each implements."""
    with offline_engine():  # an engine registers the built-in facts plugin
        console().print(plugins_table(plugin_manager().describe()))
