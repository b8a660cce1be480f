"""Numbers of seconds read from environment variables, for the engine, its adapters and
plugins alike: a bad value is refused in one line naming the variable and the value."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping

from questline.plain_errors import shortened


def seconds_from_env(
    name: str,
    default: float,
    error: type[Exception],
    *,
    zero_allowed: bool = False,
    environ: Mapping[str, str] | None = None,
) -> float:
    """``$name`` (in `environ`, default the process's) as a positive, finite number of
    seconds (or 0, if `zero_allowed`), `default` when unset or blank; any other value raises
    `error` (the caller's settings error) naming both."""
    raw = (os.environ if environ is None else environ).get(name, "").strip()
    if not raw:
        return default
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and (seconds > 0 or (zero_allowed and seconds == 0))):
        wanted = "number of seconds from 0" if zero_allowed else "positive number of seconds"
        raise error(f'{name}="{shortened(raw)}" is not a {wanted}')
    return seconds
