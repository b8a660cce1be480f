"""questline's plugin system: hook specifications, the `hookimpl` marker and the manager."""

from pluggy import HookimplMarker

hookimpl = HookimplMarker("questline")

__all__ = ["hookimpl"]
