"""`questline rules`: validate, load, explain and preview achievement rules."""

from __future__ import annotations

from datetime import tzinfo
from pathlib import Path

import click
from rich.table import Table
from rich.text import Text

from questline.adapters.cli.render import bar, change_lines, moment, plural, shortfall_text
from questline.adapters.cli.runtime import (
    TELEGRAM_ID,
    console,
    offline_engine,
    open_engine,
    run,
)
from questline.engine.rule_store import RuleChange, RulesDiff, RulesReport
from questline.engine.views import AchievementStatus, UserView
from questline.rules import RuleDocument, examples_command_lines, validate_command_lines
from questline.rules.phrases import LANGUAGES

paths_argument = click.argument(
    "paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path)
)


@click.group()
def rules() -> None:
    """Achievement rules: JsonLogic documents in JSON or YAML files."""


def _report(lines: list[str], code: int) -> None:
    """Print validation lines (`file: /pointer: message`, then a summary); exit 1 on errors."""
    for line in lines:
        click.echo(line)
    if code:
        click.get_current_context().exit(code)


@rules.command()
@paths_argument
def validate(paths: tuple[Path, ...]) -> None:
    """Check rule files and folders against the installed facts and operators."""
    with offline_engine() as engine:
        _report(*validate_command_lines(paths, engine.facts.catalog, engine.operators))


@rules.command("test")
@paths_argument
def test_examples(paths: tuple[Path, ...]) -> None:
    """Run the examples the rules carry; failures name the file and the example's pointer."""
    with offline_engine() as engine:
        _report(*examples_command_lines(paths, engine.facts.catalog, engine.operators))


async def _load(paths: tuple[Path, ...]) -> tuple[list[str], int, RulesReport | None]:
    async with open_engine() as engine:
        lines, code = validate_command_lines(paths, engine.facts.catalog, engine.operators)
        if code:
            return lines, code, None
        return lines[:-1], code, await engine.load_rules(paths)


@rules.command()
@paths_argument
def load(paths: tuple[Path, ...]) -> None:
    """Validate rule files and store their rules (by slug); nothing loads if any is bad."""
    lines, code, report = run(_load(paths))
    _report(lines, code)
    assert report is not None
    for line in change_lines(report.created, report.updated, report.unchanged):
        click.echo(line)
    if report.created:
        click.echo(
            "New rules apply to new events; `questline awards backfill SLUG` awards history."
        )
    if line := left_alone_line(report.left_alone):
        click.echo(line)


async def _diff(paths: tuple[Path, ...]) -> tuple[list[str], int, RulesDiff | None]:
    async with open_engine() as engine:
        lines, code = validate_command_lines(paths, engine.facts.catalog, engine.operators)
        if code:
            return lines, code, None
        return lines[:-1], code, await engine.diff_rules(paths)


def left_alone_line(slugs: list[str]) -> str | None:
    """The enabled rules the files do not hold: loading keeps them, and they keep awarding."""
    if not slugs:
        return None
    return (
        f"not in these files, left enabled: {', '.join(slugs)} (they keep awarding; "
        'disable one with "enabled": false in its file)'
    )


def change_line(change: RuleChange) -> str:
    """One rule's change as a sentence: what changes, and what it does to the holders."""
    if change.new:
        return f"{change.slug}: new rule ({plural(change.points_after, 'point', 'points')})"
    if not change.changed:
        return f"{change.slug}: unchanged"
    fields = ", ".join(_field_change(change, name) for name in change.changed)
    holders = f"{change.holders} learner(s) hold it and keep it"
    delta = change.points_per_holder
    if delta and change.holders:
        holders += f"; each of their totals {delta:+d} ({delta * change.holders:+d} in all)"
    return f"{change.slug}: {fields}; {holders}"


def _field_change(change: RuleChange, name: str) -> str:
    if name == "points":
        return f"points {change.points_before} → {change.points_after}"
    if name == "enabled":
        return "enabled again" if change.enabled else "disabled"
    return name


@rules.command()
@paths_argument
def diff(paths: tuple[Path, ...]) -> None:
    """Show what loading rule files would change, and for whom; writes nothing."""
    lines, code, diff = run(_diff(paths))
    _report(lines, code)
    assert diff is not None
    changes = diff.changes
    for change in changes:
        click.echo(change_line(change))
    new = sum(change.new for change in changes)
    changed = sum(bool(change.changed) for change in changes)
    click.echo(
        f"{new} new, {changed} changed, {len(changes) - new - changed} unchanged; "
        "nothing was written (`questline rules load` loads them)"
    )
    if line := left_alone_line(diff.left_alone):
        click.echo(line)


async def _explain(
    slug: str, telegram_id: int, language: str | None
) -> tuple[UserView, AchievementStatus, tzinfo]:
    async with open_engine() as engine:
        user = await engine.find_user(telegram_id=telegram_id)
        if user is None:
            raise click.ClickException(f"no learner with Telegram id {telegram_id}")
        for status in await engine.achievements(telegram_id=telegram_id, locale=language):
            if status.slug == slug:
                return user, status, engine.zone
        raise click.ClickException(f'no enabled achievement with slug "{slug}"')


@rules.command()
@click.argument("slug")
@click.option(
    "--user", "telegram_id", type=TELEGRAM_ID, required=True, help="The learner's Telegram id."
)
@click.option(
    "--lang",
    "language",
    type=click.Choice(LANGUAGES),
    help="Say what is missing as the learner reads it, in this language.",
)
def explain(slug: str, telegram_id: int, language: str | None) -> None:
    """Show how far a learner is from an achievement, and what is missing."""
    user, status, zone = run(_explain(slug, telegram_id, language))
    out = console()
    points = plural(status.points, "point", "points")
    out.print(Text(f"{status.icon or '•'} {status.title} ({status.slug}, {points})"))
    if status.description:
        out.print(Text(status.description))
    if status.earned_at is not None:
        out.print(Text(f"{user.display_name} earned it on {moment(status.earned_at, zone)}"))
        return
    if status.progress is not None:
        out.print(f"progress: {bar(status.progress.ratio, 20)}")
    joiner = ": " if language else " "
    out.print(Text(f"{user.display_name}{joiner}{shortfall_text(status)}"))


async def _preview(path: Path) -> tuple[list[str], int, list[tuple[RuleDocument, list[UserView]]]]:
    async with open_engine() as engine:
        lines, code = validate_command_lines([path], engine.facts.catalog, engine.operators)
        if code:
            return lines, code, []
        previews = [
            (document, await engine.preview(document)) for document in engine.validate_rules([path])
        ]
        return lines[:-1], code, previews


@rules.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--show",
    default=20,
    show_default=True,
    type=click.IntRange(min=0),
    help="How many learners to list per rule.",
)
def preview(file: Path, show: int) -> None:
    """List the learners who would qualify for the rules in FILE now (writes nothing)."""
    lines, code, previews = run(_preview(file))
    _report(lines, code)
    out = console()
    for document, users in previews:
        out.print(
            Text(
                f"{document.icon or '•'} {document.title_in()} ({document.slug}): "
                f"{len(users)} learner(s) would qualify"
            )
        )
        if not users:
            continue
        table = Table()
        table.add_column("telegram id", justify="right")
        table.add_column("learner")
        for user in users[:show]:
            table.add_row(str(user.telegram_id), Text(user.display_name))
        if len(users) > show:
            table.add_row("…", f"and {len(users) - show} more")
        out.print(table)
