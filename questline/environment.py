"""Numbers of seconds read from environment variables, for the engine, its adapters and
plugins alike: a bad value is refused in one line naming the variable and the value."""

from __future__ import annotations

import math
import os

from questline.plain_errors import shortened


def seconds_from_env(name: str, default: float, error: type[Exception]) -> float:
    """``$name`` as a positive, finite number of seconds, `default` when unset or blank;
    any other value raises `error` (the caller's settings error) naming both."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise error(f'{name}="{shortened(raw)}" is not a positive number of seconds')
    return seconds
