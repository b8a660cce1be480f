"""questline's plugin system: hook specifications, the `hookimpl` marker and the manager."""

from __future__ import annotations

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


class RetryLater(Exception):
    """Raised by a notification hook whose receiver asked to wait (Telegram's 429 and its
    `retry_after`): the entry fails this attempt and is due again no sooner than `seconds`
    from now (or after its usual backoff, if that is longer). Meanwhile the plugin is not
    called for other entries either: for that learner's only when `user_id` (the engine's id
    of the learner the wait is about) is given, else for every entry."""

    def __init__(self, message: str, seconds: float, *, user_id: int | None = None) -> None:
        super().__init__(message)
        self.seconds = seconds
        self.user_id = user_id


class PluginError(Exception):
    """A plugin could not be loaded or set up; the message names it."""

    @classmethod
    def failed(cls, plugin: str, hook: str, error: Exception) -> PluginError:
        """`plugin`'s implementation of `hook` raised `error`."""
        return cls(f'plugin "{plugin}" failed in {hook}: {type(error).__name__}: {error}')


DISABLE_ENV = "QUESTLINE_DISABLE_PLUGINS"
"""Plugin names, comma-separated, that are not loaded."""

__all__ = [
    "DISABLE_ENV",
    "DeliverElsewhere",
    "DeliveryHeld",
    "PluginError",
    "RetryLater",
    "hookimpl",
]
