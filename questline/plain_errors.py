"""Errors in plain words, for every place that shows one to a person: pydantic's validation
errors, and any error in one line (:func:`one_line`).

Limits are named as numbers a person reads ("at most 1,000,000"), not as operators; a
validator's own message is shown without pydantic's "Value error, " prefix. Names and values
echoed from the input are cut to a readable length (:func:`shortened`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SHOWN_CHARS = 64
"""How much of a name or value taken from the input a message shows."""


def shortened(text: str, limit: int = SHOWN_CHARS) -> str:
    """``text`` as a message shows it: its first ``limit`` characters and "…" if longer."""
    return text if len(text) <= limit else text[:limit] + "…"


def one_line(error: BaseException) -> str:
    """What `error` says, on one line (a library's message over several lines is joined
    with "; ")."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return "; ".join(lines) or type(error).__name__


def _number(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def plain_message(error: Mapping[str, Any]) -> str:
    """The message of one pydantic error, with numeric limits in words."""
    context = error.get("ctx") or {}
    match error.get("type"):
        case "less_than_equal":
            return f"must be at most {_number(context.get('le'))}"
        case "less_than":
            return f"must be less than {_number(context.get('lt'))}"
        case "greater_than_equal":
            return f"must be at least {_number(context.get('ge'))}"
        case "greater_than":
            return f"must be more than {_number(context.get('gt'))}"
    return str(error.get("msg", "")).removeprefix("Value error, ")
