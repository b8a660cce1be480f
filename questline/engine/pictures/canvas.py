"""What every picture shares: the font, the colours, text that fits, and PNG encoding.

The font is PT Sans (Latin and Cyrillic; fontpkg-pt-sans, a dependency), never a font of
the machine, so a picture looks the same wherever it is rendered. Characters the font has
no glyph for (emoji, most symbols) are left out rather than drawn as empty boxes.
"""

from __future__ import annotations

import io
from functools import cache

import fontpkg
from PIL import Image, ImageDraw, ImageFont

FAMILY = "PT Sans"
NOT_A_CHARACTER = "\ue000"
"""A private-use character: no font has it, so it draws the font's "missing glyph" box."""
ELLIPSIS = "…"

BACKGROUND = "#ffffff"
INK = "#1f2328"
MUTED = "#656d76"
LINE = "#d0d7de"


@cache
def font(size: int, *, bold: bool = False) -> ImageFont.FreeTypeFont:
    """PT Sans at `size` pixels, regular or bold."""
    return ImageFont.truetype(fontpkg.path(FAMILY, weight=700 if bold else 400), size)


def _glyph(face: ImageFont.FreeTypeFont, character: str) -> tuple[tuple[int, int], list[int]]:
    mask = face.getmask(character)
    return mask.size, list(mask)


@cache
def _has_glyph(size: int, bold: bool, character: str) -> bool:
    face = font(size, bold=bold)
    return _glyph(face, character) != _glyph(face, NOT_A_CHARACTER)


def drawable(text: str, size: int, *, bold: bool = False) -> str:
    """`text` without the characters the font cannot draw, spaces tidied."""
    kept = "".join(ch for ch in text if ch.isspace() or _has_glyph(size, bold, ch))
    return " ".join(kept.split())


def fit(text: str, size: int, width: int, *, bold: bool = False) -> str:
    """`text` as drawn, cut with an ellipsis if it is wider than `width` pixels."""
    text = drawable(text, size, bold=bold)
    face = font(size, bold=bold)
    if face.getlength(text) <= width:
        return text
    while text and face.getlength(text + ELLIPSIS) > width:
        text = text[:-1]
    return text.rstrip() + ELLIPSIS


def wrap(text: str, size: int, width: int, lines: int, *, bold: bool = False) -> list[str]:
    """`text` broken into at most `lines` lines of `width` pixels; the last one cut to fit."""
    face = font(size, bold=bold)
    words = drawable(text, size, bold=bold).split()
    out: list[str] = []
    while words and len(out) < lines:
        line = words.pop(0)
        while words and face.getlength(f"{line} {words[0]}") <= width:
            line = f"{line} {words.pop(0)}"
        out.append(line)
    if words and out:
        out[-1] = fit(f"{out[-1]} {' '.join(words)}", size, width, bold=bold)
    return [fit(line, size, width, bold=bold) for line in out]


def text(
    draw: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    content: str,
    size: int,
    *,
    bold: bool = False,
    fill: str = INK,
    anchor: str = "la",
) -> None:
    """Draw `content` (already fitted) at `xy`; `anchor` as in Pillow ("la": left, ascender)."""
    draw.text(xy, content, font=font(size, bold=bold), fill=fill, anchor=anchor)


def png(image: Image.Image) -> bytes:
    """The image as PNG bytes."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
