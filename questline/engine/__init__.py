"""The core engine: events in, progress, awards and ranks out."""

from questline.engine.events import Event, UserProfile
from questline.engine.facade import Engine, EventRejected

__all__ = ["Engine", "Event", "EventRejected", "UserProfile"]
