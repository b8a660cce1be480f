"""`questline progress` and `plugins`: read-only reports."""

from __future__ import annotations

from datetime import tzinfo
from pathlib import Path

import click

from questline.adapters.cli.pictures import heatmap_png, write_png
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
    reported_errors,
    run,
)
from questline.engine.views import AchievementStatus, ProgressReport
from questline.rules.phrases import LANGUAGES


async def _progress(
    telegram_id: int, heatmap: bool, language: str
) -> tuple[ProgressReport, list[AchievementStatus], tzinfo, bytes | None]:
    async with open_engine() as engine:
        report = await engine.progress(telegram_id=telegram_id)
        statuses = await engine.achievements(telegram_id=telegram_id, locale=language)
        picture = None
        if heatmap:
            picture = heatmap_png(await engine.activity_calendar(telegram_id=telegram_id))
        return report, statuses, engine.zone, picture


@click.command()
@click.argument("telegram_id", type=TELEGRAM_ID)
@click.option(
    "--png",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the heat-map of the learner's last 12 weeks to this PNG file.",
)
@click.option(
    "--lang",
    "language",
    type=click.Choice(LANGUAGES),
    default="en",
    show_default=True,
    help="Say what is missing as the learner reads it, in this language.",
)
def progress(telegram_id: int, png: Path | None, language: str) -> None:
    """Show a learner's progress per module, streaks and achievements."""
    report, statuses, zone, picture = run(_progress(telegram_id, png is not None, language))
    if png is not None and picture is not None:
        with reported_errors():
            write_png(png, picture)
    out = console()
    out.print(modules_table(report))
    out.print(totals_line(report))
    out.print(achievements_table(statuses, zone))
    if png is not None:
        out.print(f"heat-map of the last 12 weeks: {png}", soft_wrap=True)


@click.command()
def plugins() -> None:
    """List the loaded plugins and the hooks each implements."""
    with offline_engine():  # an engine registers the built-in facts plugin
        console().print(plugins_table(plugin_manager().describe()))
