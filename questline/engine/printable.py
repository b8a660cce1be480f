"""What keys and names must not hold: characters that break a one-line message or cannot be
stored."""

from __future__ import annotations

import unicodedata

_REFUSED = {
    "Cc": "a control character",
    "Cs": "a lone surrogate",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
}


def unprintable(text: str | None) -> str | None:
    """What is wrong with `text`, naming its first such character ("must not contain a
    control character (U+0000 at position 2)"), or None (also for no text): control
    characters (Unicode category Cc: U+0000-U+001F, U+007F-U+009F), line and paragraph
    separators (U+2028, U+2029) and lone surrogates."""
    for position, char in enumerate(text or "", start=1):
        what = _REFUSED.get(unicodedata.category(char))
        if what is not None:
            return f"must not contain {what} (U+{ord(char):04X} at position {position})"
    return None
