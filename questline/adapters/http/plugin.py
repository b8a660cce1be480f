"""The HTTP adapter as a questline plugin (entry point `http`).

Every engine loads this module, so it imports nothing heavy: FastAPI and uvicorn are imported
only when the API is served.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from questline.plugins import hookimpl

if TYPE_CHECKING:
    import click

    from questline.adapters.http.streams import AwardStreams
    from questline.engine import Engine


class HttpPlugin:
    """Adds `questline serve` and `questline keys`; relays awards to the API's SSE streams."""

    def __init__(self) -> None:
        self._streams: WeakKeyDictionary[Engine, AwardStreams] = WeakKeyDictionary()

    def streams(self, engine: Engine) -> AwardStreams:
        """The award streams of `engine` (created on first use)."""
        from questline.adapters.http.streams import AwardStreams

        return self._streams.setdefault(engine, AwardStreams(engine))

    @hookimpl
    def questline_cli_commands(self, cli: click.Group) -> None:
        from questline.adapters.http.cli import keys, serve

        cli.add_command(serve)
        cli.add_command(keys)

    @hookimpl
    def questline_award_granted(self, engine: Engine) -> None:
        """The streams read awards from the outbox; one granted here is read at once."""
        streams = self._streams.get(engine)
        if streams is not None:
            streams.wake()

    @hookimpl
    def questline_shutdown(self, engine: Engine) -> None:
        streams = self._streams.pop(engine, None)
        if streams is not None:
            streams.close()


plugin = HttpPlugin()
