"""`questline users register`: add a learner (as the Telegram bot does on /start)."""

from __future__ import annotations

import click
from pydantic import ValidationError

from questline.adapters.cli.ingest import validation_message
from questline.adapters.cli.runtime import TELEGRAM_ID, open_engine, run
from questline.engine import UserProfile
from questline.engine.printable import unprintable
from questline.engine.views import UserView


@click.group()
def users() -> None:
    """Learners."""


async def _register(profile: UserProfile) -> UserView:
    async with open_engine() as engine:
        return await engine.register_user(profile)


def _printable(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """A name shown in one line of a message or table (the HTTP API refuses the same)."""
    if problem := unprintable(value):
        raise click.BadParameter(problem)
    return value


@users.command()
@click.argument("telegram_id", type=TELEGRAM_ID)
@click.option("--username", callback=_printable)
@click.option("--first-name", callback=_printable)
@click.option("--last-name", callback=_printable)
@click.option("--language-code", callback=_printable)
def register(
    telegram_id: int,
    username: str | None,
    first_name: str | None,
    last_name: str | None,
    language_code: str | None,
) -> None:
    """Register a learner by Telegram id, or update the profile of a known one."""
    try:
        profile = UserProfile(
            telegram_id=telegram_id,
            username=username,
            first_name=first_name,
            last_name=last_name,
            language_code=language_code,
        )
    except ValidationError as error:
        raise click.ClickException(validation_message(error)) from None
    user = run(_register(profile))
    click.echo(f"learner {user.id}: {user.display_name} (Telegram id {user.telegram_id})")
