"""Every hook questline calls. Implementations may return awaitables; the manager awaits them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from pluggy import HookspecMarker

if TYPE_CHECKING:
    import click

    from questline.engine.events import Event
    from questline.engine.facade import Engine
    from questline.engine.facts.provider import FactProvider
    from questline.engine.outbox import Delivery
    from questline.engine.views import AwardView, RecordResult

hookspec = HookspecMarker("questline")


@hookspec
def questline_fact_providers() -> Iterable[FactProvider]:
    """Return fact providers: each declares namespaced facts and computes them for an event."""


@hookspec
def questline_operators() -> Mapping[str, Callable[..., Any]]:
    """Return custom JsonLogic operators, by name, that rules may call."""


@hookspec
def questline_event_recorded(
    engine: Engine, event: Event, result: RecordResult, delivery: Delivery
) -> Awaitable[None] | None:
    """Called by the outbox dispatcher, at least once, for each recorded event (not replays)."""


@hookspec
def questline_award_granted(
    engine: Engine, award: AwardView, delivery: Delivery
) -> Awaitable[None] | None:
    """Called by the outbox dispatcher, at least once, for each new award."""


@hookspec
def questline_startup(engine: Engine) -> Awaitable[None] | None:
    """Called when an engine starts; adapters start their background tasks here."""


@hookspec
def questline_shutdown(engine: Engine) -> Awaitable[None] | None:
    """Called when an engine stops, before its database connections are closed."""


@hookspec
def questline_cli_commands(cli: click.Group) -> None:
    """Add commands to the `questline` command line group."""
