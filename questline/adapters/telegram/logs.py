"""Logging for `questline bot`: the token never reaches the output."""

from __future__ import annotations

import logging
import sys

from questline.adapters.telegram.settings import BotSettings

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then blanks out the token (messages, arguments and tracebacks)."""

    def __init__(self, settings: BotSettings) -> None:
        super().__init__(FORMAT)
        self._settings = settings

    def format(self, record: logging.LogRecord) -> str:
        return self._settings.redact(super().format(record))


def configure(settings: BotSettings, level: int = logging.INFO) -> None:
    """Send every log record to stderr through the redacting formatter."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(settings))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
