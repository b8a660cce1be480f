"""questline's plugin system: hook specifications, the `hookimpl` marker and the manager."""

from pluggy import HookimplMarker

hookimpl = HookimplMarker("questline")


class DeliverElsewhere(Exception):
    """Raised by a notification hook that cannot deliver in this process (the Telegram plugin
    where no bot runs): the outbox entry waits for a process that can, and no attempt counts."""


class DeliveryHeld(Exception):
    """Raised by a notification hook that has taken the entry to deliver a little later in this
    process (the Telegram plugin, showing an update's awards inside that update): the entry
    stays claimed until the plugin reports the outcome with `Engine.settle_held`; if the
    process dies first, the entry is delivered again once the hold ends."""


__all__ = ["DeliverElsewhere", "DeliveryHeld", "hookimpl"]
