"""The leaderboard picture: rank, name and points of the top learners."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw

from questline.engine.pictures.canvas import BACKGROUND, INK, LINE, MUTED, fit, font, png, text
from questline.engine.views import LeaderboardEntry

WIDTH = 800
PAD = 40
HEADER = 110
ROW = 56
FOOTER = 40
MEDALS = {1: "#f2b705", 2: "#a7b1bc", 3: "#cd7f32"}
HIGHLIGHT = "#e6f4ea"
MAX_ROWS = 25


@dataclass(frozen=True)
class BoardText:
    """The words on the leaderboard picture, in the learner's language."""

    title: str
    points: str = "points"
    empty: str = "Nobody is ranked yet."
    footer: str = "questline"


def size(rows: int) -> tuple[int, int]:
    return WIDTH, HEADER + max(rows, 1) * ROW + FOOTER


def render_leaderboard(
    entries: Sequence[LeaderboardEntry], words: BoardText, *, highlight: int | None = None
) -> bytes:
    """The entries (in rank order) as a PNG; the row of learner `highlight` (a user id) is
    tinted. Tied ranks are shown as "=2"."""
    if len(entries) > MAX_ROWS:
        raise ValueError(f"a leaderboard picture holds at most {MAX_ROWS} rows, not {len(entries)}")
    width, height = size(len(entries))
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    text(draw, (PAD, 36), fit(words.title, 34, width - 2 * PAD, bold=True), 34, bold=True)
    text(draw, (width - PAD, HEADER - 12), words.points, 18, fill=MUTED, anchor="rd")
    draw.line((PAD, HEADER - 4, width - PAD, HEADER - 4), fill=LINE, width=2)
    if not entries:
        text(draw, (PAD, HEADER + ROW // 2), words.empty, 24, fill=MUTED, anchor="lm")
    ties = Counter(entry.rank for entry in entries)
    for index, entry in enumerate(entries):
        top = HEADER + index * ROW
        middle = top + ROW // 2
        if entry.user_id == highlight:
            draw.rounded_rectangle(
                (PAD - 12, top + 4, width - PAD + 12, top + ROW - 4), 10, HIGHLIGHT
            )
        rank = f"={entry.rank}" if ties[entry.rank] > 1 else str(entry.rank)
        medal = MEDALS.get(entry.rank)
        if medal is not None:
            draw.ellipse((PAD, middle - 20, PAD + 40, middle + 20), fill=medal)
        text(draw, (PAD + 20, middle), rank, 22, bold=True, fill=INK, anchor="mm")
        score = f"{entry.total_score:,}".replace(",", " ")
        score_width = font(26, bold=True).getlength(score)
        name_width = int(width - 2 * PAD - 72 - score_width - 24)
        text(draw, (PAD + 72, middle), fit(entry.display_name, 26, name_width), 26, anchor="lm")
        text(draw, (width - PAD, middle), score, 26, bold=True, anchor="rm")
    text(draw, (width - PAD, height - 12), words.footer, 16, fill=MUTED, anchor="rd")
    return png(image)
