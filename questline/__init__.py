"""questline: a gamification engine for learning communities."""

__version__ = "0.1.0"
