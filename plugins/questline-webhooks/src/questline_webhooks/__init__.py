"""questline-webhooks: deliver questline's outbox to subscriber URLs as signed HTTP POSTs."""

from importlib.metadata import version

__version__ = version("questline-webhooks")
