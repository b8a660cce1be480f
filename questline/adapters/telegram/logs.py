"""Logging for `questline bot`: the token never reaches the output."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from questline.adapters.telegram.settings import BotSettings

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then blanks out the token (messages, arguments and tracebacks)."""

    def __init__(self, settings: BotSettings) -> None:
        super().__init__(FORMAT)
        self._settings = settings

    def format(self, record: logging.LogRecord) -> str:
        return self._settings.redact(super().format(record))


@contextmanager
def redacted(settings: BotSettings, level: int = logging.INFO) -> Iterator[logging.Handler]:
    """Within the block, log records go to stderr through the redacting formatter."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(settings))
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(level)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
