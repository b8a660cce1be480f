"""The achievement card: a badge, the achievement's title and points, and who earned it."""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image, ImageDraw

from questline.engine.pictures.canvas import MUTED, fit, font, png, text, wrap

WIDTH, HEIGHT = 960, 480
PAD = 48
BADGE = 120
"""The badge's radius; its centre is at (PAD + BADGE, HEIGHT / 2)."""
BADGE_SIZES = (64, 52, 40, 30, 24)
"""Sizes tried for the points on the badge, largest first, until they fit inside it."""
CARD = "#10243e"
GOLD = "#f2b705"
GOLD_DARK = "#b7860b"
RIBBON = ("#d1495b", "#2f6fdb")
LIGHT = "#ffffff"
SOFT = "#c9d6e8"
TEXT_LEFT = PAD + 2 * BADGE + 56
TEXT_WIDTH = WIDTH - TEXT_LEFT - PAD


@dataclass(frozen=True)
class Card:
    """What an achievement card says, in the learner's language."""

    title: str
    name: str
    points: int
    points_text: str
    """The points as a phrase ("+50 points")."""
    heading: str = "Achievement unlocked"
    description: str | None = None
    footer: str = "questline"


def render_card(card: Card) -> bytes:
    """The card as a PNG: a medal with the points on the left, the words on the right."""
    image = Image.new("RGB", (WIDTH, HEIGHT), CARD)
    draw = ImageDraw.Draw(image)
    _badge(draw, card.points)
    y = PAD + 8
    text(
        draw,
        (TEXT_LEFT, y),
        fit(card.heading.upper(), 22, TEXT_WIDTH, bold=True),
        22,
        bold=True,
        fill=GOLD,
    )
    y += 44
    for line in wrap(card.title, 48, TEXT_WIDTH, 2, bold=True):
        text(draw, (TEXT_LEFT, y), line, 48, bold=True, fill=LIGHT)
        y += 58
    if card.description:
        y += 6
        for line in wrap(card.description, 24, TEXT_WIDTH, 2):
            text(draw, (TEXT_LEFT, y), line, 24, fill=SOFT)
            y += 32
    text(
        draw,
        (TEXT_LEFT, HEIGHT - PAD - 76),
        fit(card.points_text, 30, TEXT_WIDTH, bold=True),
        30,
        bold=True,
        fill=GOLD,
    )
    text(draw, (TEXT_LEFT, HEIGHT - PAD - 32), fit(card.name, 30, TEXT_WIDTH), 30, fill=LIGHT)
    text(draw, (WIDTH - PAD, HEIGHT - 18), card.footer, 18, fill=MUTED, anchor="rd")
    return png(image)


def _badge(draw: ImageDraw.ImageDraw, points: int) -> None:
    """A medal on two ribbons, the points in its middle."""
    cx, cy = PAD + BADGE, HEIGHT // 2
    for side, colour in zip((-1, 1), RIBBON, strict=True):
        tail = [
            (cx + side * 20, cy),
            (cx + side * 78, cy),
            (cx + side * 96, cy + BADGE + 40),
            (cx + side * 58, cy + BADGE + 18),
            (cx + side * 30, cy + BADGE + 52),
        ]
        draw.polygon(tail, fill=colour)
    draw.ellipse((cx - BADGE, cy - BADGE, cx + BADGE, cy + BADGE), fill=GOLD_DARK)
    inner = BADGE - 14
    draw.ellipse((cx - inner, cy - inner, cx + inner, cy + inner), fill=GOLD)
    label = f"+{points}"
    size = next(
        (size for size in BADGE_SIZES if font(size, bold=True).getlength(label) <= 2 * inner - 24),
        BADGE_SIZES[-1],
    )
    text(draw, (cx, cy), label, size, bold=True, fill=CARD, anchor="mm")
