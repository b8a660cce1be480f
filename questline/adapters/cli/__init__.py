"""The `questline` command line: a click group whose commands load on demand.

Built-in commands are imported only when used, so `questline db upgrade` does not pay for the
demo or for plugins. Plugins add commands through the `questline_cli_commands` hook; they are
loaded the first time the group lists its commands or meets a name it does not know.
"""

from __future__ import annotations

import importlib

import click

# name → "module:attribute" under questline.adapters.cli
BUILTIN_COMMANDS = {
    "awards": "awards:awards",
    "content": "content:content",
    "db": "database:db",
    "demo": "demo:demo",
    "events": "ingest:events",
    "freezes": "freezes:freezes",
    "leaderboard": "leaderboard:leaderboard",
    "outbox": "outbox:outbox",
    "plugins": "reports:plugins",
    "progress": "reports:progress",
    "rules": "rules:rules",
    "users": "users:users",
}


class QuestlineGroup(click.Group):
    """A group with lazily imported built-in commands and commands added by plugins."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._plugins_loaded = False

    def load_plugin_commands(self) -> None:
        """Let plugins add their commands (once); built-in groups call it for theirs."""
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        from questline.adapters.cli.runtime import plugin_manager
        from questline.plain_errors import one_line

        try:
            plugin_manager().hook.questline_cli_commands(cli=self)
        except Exception as error:  # a broken plugin must not take the built-in commands down
            click.echo(f"questline: plugin commands unavailable: {one_line(error)}", err=True)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self.load_plugin_commands()
        return sorted({*BUILTIN_COMMANDS, *super().list_commands(ctx)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in BUILTIN_COMMANDS and cmd_name not in self.commands:
            module, attribute = BUILTIN_COMMANDS[cmd_name].split(":")
            command = getattr(importlib.import_module(f"{__name__}.{module}"), attribute)
            self.add_command(command, cmd_name)
        if cmd_name not in BUILTIN_COMMANDS:
            self.load_plugin_commands()
        return super().get_command(ctx, cmd_name)


@click.group(cls=QuestlineGroup)
@click.version_option(package_name="questline")
def main() -> None:
    """questline: achievements as JsonLogic rules for learning communities.

    The database is DATABASE_URL (default: the SQLite file questline.db in the current
    directory); QUESTLINE_TIMEZONE sets the time zone of learners' days (default UTC).
    Start with `questline demo`.
    """
