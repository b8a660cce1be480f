"""`questline serve` and `questline keys create|list|revoke`."""

from __future__ import annotations

import logging

import click
from rich.table import Table
from rich.text import Text

from questline.adapters.cli.runtime import console, open_engine, run
from questline.adapters.http.settings import HttpSettings, SettingsError
from questline.engine.api_keys import ApiKeyView, IssuedKey, Scope


async def _serve(settings: HttpSettings, host: str, port: int) -> None:
    from questline.adapters.http.server import serve as serve_api

    async with open_engine() as engine:
        await serve_api(engine, settings, host, port)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="TCP port."
)
def serve(host: str, port: int) -> None:
    """Serve the HTTP API (/v1) until SIGINT or SIGTERM.

    QUESTLINE_HTTP_RATE_LIMIT sets each API key's rate (default 6000/minute);
    QUESTLINE_HTTP_MAX_BODY_BYTES the largest request body (default 1 MiB).
    """
    try:
        settings = HttpSettings.from_env()
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # /v1/ready reads the revision
    run(_serve(settings, host, port))


@click.group()
def keys() -> None:
    """API keys for the HTTP API (stored hashed; a key is shown once, when created)."""


async def _create(name: str, scopes: tuple[str, ...]) -> IssuedKey:
    async with open_engine() as engine:
        return await engine.create_api_key(name, scopes)


@keys.command()
@click.option("--name", required=True, help="Who or what uses the key, e.g. web.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice([scope.value for scope in Scope]),
    help="Repeat for several scopes; admin may do everything.",
)
def create(name: str, scopes: tuple[str, ...]) -> None:
    """Create a key and print it, once: it cannot be shown again."""
    issued = run(_create(name, scopes))
    click.echo(issued.secret)
    click.echo(
        f"key {issued.key.id} ({issued.key.prefix}) for {issued.key.name}: "
        f"{', '.join(sorted(issued.key.scopes))}; store it now, it is not shown again",
        err=True,
    )


async def _list() -> list[ApiKeyView]:
    async with open_engine() as engine:
        return await engine.list_api_keys()


@keys.command("list")
def list_keys() -> None:
    """List keys: id, prefix, name, scopes, when created and revoked (never the key)."""
    table = Table()
    for column in ("id", "prefix", "name", "scopes", "created", "revoked"):
        table.add_column(column)
    for key in run(_list()):
        revoked = key.revoked_at.strftime("%Y-%m-%d %H:%M") if key.revoked_at else ""
        table.add_row(
            str(key.id),
            key.prefix,
            Text(key.name),
            " ".join(sorted(key.scopes)),
            key.created_at.strftime("%Y-%m-%d %H:%M"),
            revoked,
        )
    console().print(table)


async def _revoke(ref: str) -> ApiKeyView:
    async with open_engine() as engine:
        return await engine.revoke_api_key(ref)


@keys.command()
@click.argument("key")
def revoke(key: str) -> None:
    """Revoke KEY (its prefix or id): requests with it are refused from now on."""
    revoked = run(_revoke(key))
    click.echo(f"revoked key {revoked.id} ({revoked.prefix}) for {revoked.name}")
