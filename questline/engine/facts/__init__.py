"""Facts: the values rules read, computed per event by fact providers (built-ins and plugins)."""

from questline.engine.facts.provider import FactContext, FactProvider, FactsBuilder

__all__ = ["FactContext", "FactProvider", "FactsBuilder"]
