"""The activity heat-map: one square per day, a column per week, darker for busier days."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from functools import cache

from babel.dates import get_day_names, get_month_names
from PIL import Image, ImageDraw

from questline.engine.pictures.canvas import BACKGROUND, INK, MUTED, fit, font, png, text
from questline.engine.views import ActivityCalendar

LEVELS = ("#ebedf0", "#9be9a8", "#40c463", "#30a14e", "#216e39")
"""Square colours: no activity, then four levels up to the busiest day of the calendar."""
CELL = 34
GAP = 6
PAD = 28
LABELS_WIDTH = 56
HEADER = 92
FOOTER = 64
TITLE_SIZE = 28
LABEL_SIZE = 17


@cache
def _names(kind: str, locale: str) -> tuple[str, ...]:
    """Abbreviated month (or weekday, Monday first) names in `locale`, as Babel has them."""
    names = get_month_names if kind == "months" else get_day_names
    found = names("abbreviated", context="stand-alone", locale=locale)
    return tuple(str(found[key]) for key in sorted(found))


@dataclass(frozen=True)
class HeatmapText:
    """The words on the heat-map, in the learner's language."""

    title: str
    summary: str
    less: str = "Less"
    more: str = "More"
    locale: str = "en"
    """Month and weekday names come from this locale (Babel)."""

    @property
    def months(self) -> tuple[str, ...]:
        return _names("months", self.locale)

    @property
    def weekdays(self) -> tuple[str, ...]:
        return _names("days", self.locale)


def level(count: int, busiest: int) -> int:
    """0 for no activity; else 1-4, in quarters of the busiest day's count."""
    if count <= 0:
        return 0
    return min(4, max(1, math.ceil(4 * count / busiest)))


def cell_box(calendar: ActivityCalendar, day: date) -> tuple[int, int, int, int]:
    """The square of `day`: columns are weeks (oldest left), rows Monday to Sunday."""
    offset = (day - calendar.first).days
    x = PAD + LABELS_WIDTH + (offset // 7) * (CELL + GAP)
    y = HEADER + (offset % 7) * (CELL + GAP)
    return x, y, x + CELL, y + CELL


def size(weeks: int) -> tuple[int, int]:
    """The picture's width and height for a calendar of `weeks` weeks."""
    grid_width = weeks * (CELL + GAP) - GAP
    width = max(PAD * 2 + LABELS_WIDTH + grid_width, 560)
    return width, HEADER + 7 * (CELL + GAP) - GAP + FOOTER


def render_heatmap(calendar: ActivityCalendar, words: HeatmapText) -> bytes:
    """The calendar as a PNG, GitHub contribution-graph style, with month and day labels."""
    width, height = size(calendar.weeks)
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    text(draw, (PAD, PAD), fit(words.title, TITLE_SIZE, width - 2 * PAD, bold=True), TITLE_SIZE)
    busiest = max(calendar.counts.values(), default=0)
    for day in calendar.days():
        colour = LEVELS[level(calendar.counts.get(day, 0), busiest)]
        draw.rounded_rectangle(cell_box(calendar, day), radius=6, fill=colour)
    for x, label in _month_labels(calendar, words):
        text(draw, (x, HEADER - 10), label, LABEL_SIZE, fill=MUTED, anchor="ld")
    for row in (0, 2, 4):
        y = HEADER + row * (CELL + GAP) + CELL // 2
        text(draw, (PAD, y), words.weekdays[row], LABEL_SIZE, fill=MUTED, anchor="lm")
    _legend(draw, width, height, words)
    summary = fit(words.summary, LABEL_SIZE, width // 2, bold=False)
    text(draw, (PAD, height - FOOTER // 2), summary, LABEL_SIZE, fill=INK, anchor="lm")
    return png(image)


def _month_labels(calendar: ActivityCalendar, words: HeatmapText) -> list[tuple[int, str]]:
    """A month's name over the week its first day falls in (and over the first week); a
    label that would run into the next one gives way to it."""
    placed: list[tuple[int, str]] = []
    for day in calendar.days():
        if day.day != 1 and day != calendar.first:
            continue
        x, label = cell_box(calendar, day)[0], words.months[day.month - 1]
        if placed and placed[-1][0] + font(LABEL_SIZE).getlength(placed[-1][1]) + 6 > x:
            placed.pop()
        placed.append((x, label))
    return placed


def _legend(draw: ImageDraw.ImageDraw, width: int, height: int, words: HeatmapText) -> None:
    """ "Less ■■■■■ More" in the bottom right corner."""
    small = 18
    y = height - FOOTER // 2
    right = width - PAD
    text(draw, (right, y), words.more, LABEL_SIZE, fill=MUTED, anchor="rm")
    x = right - font(LABEL_SIZE).getlength(words.more) - 8 - len(LEVELS) * (small + 4)
    for colour in LEVELS:
        draw.rounded_rectangle(
            (x, y - small // 2, x + small, y + small // 2), radius=4, fill=colour
        )
        x += small + 4
    start = x - len(LEVELS) * (small + 4) - 8
    text(draw, (start, y), words.less, LABEL_SIZE, fill=MUTED, anchor="rm")
