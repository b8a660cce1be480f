"""`questline content load`: modules and lessons from a course file."""

from __future__ import annotations

from pathlib import Path

import click

from questline.adapters.cli.render import change_lines
from questline.adapters.cli.runtime import open_engine, run
from questline.engine.content import ContentReport


async def _load(path: Path) -> ContentReport:
    async with open_engine() as engine:
        return await engine.load_content(path)


@click.group()
def content() -> None:
    """Course content: modules and lessons."""


@content.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def load(file: Path) -> None:
    """Load a YAML or JSON course file; repeating it changes nothing."""
    report = run(_load(file))
    for line in change_lines(report.created, report.updated, report.unchanged):
        click.echo(line)
