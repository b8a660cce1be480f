"""The `questline` command line."""

import click


@click.group()
@click.version_option(package_name="questline")
def main() -> None:
    """questline: achievements as JsonLogic rules for learning communities."""
