"""questline's plugin system: hook specifications, the `hookimpl` marker and the manager."""

from pluggy import HookimplMarker

hookimpl = HookimplMarker("questline")


class DeliverElsewhere(Exception):
    """Raised by a notification hook that cannot deliver in this process (the Telegram plugin
    where no bot runs): the outbox entry waits for a process that can, and no attempt counts."""


__all__ = ["DeliverElsewhere", "hookimpl"]
