"""The pictures, checked by structure: size, colours where squares are, text where words are.

Never compared pixel for pixel with a stored image: a new Pillow or FreeType may move a
glyph by a pixel, and the pictures would still be right.
"""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageChops, ImageDraw

from questline.engine.pictures import (
    BoardText,
    Card,
    HeatmapText,
    canvas,
    card,
    heatmap,
    leaderboard,
    render_card,
    render_heatmap,
    render_leaderboard,
)
from questline.engine.views import ActivityCalendar, LeaderboardEntry, UserView

LEARNER = UserView(7, 1007, "ann", "Анна", "Петрова", "ru")
LAST = date(2026, 3, 4)  # a Wednesday
FIRST = LAST - timedelta(days=LAST.weekday(), weeks=11)
WORDS = HeatmapText(title="Анна Петрова — 12 недель", summary="6 действий", locale="ru")
Box = tuple[int, int, int, int]


def opened(data: bytes) -> Image.Image:
    """A PNG that Pillow reads back, in RGB."""
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    Image.open(io.BytesIO(data)).verify()
    return Image.open(io.BytesIO(data)).convert("RGB")


def ink(image: Image.Image, box: Box, background: str) -> int:
    """How many pixels of `box` differ from the background: 0 means nothing is drawn there."""
    crop = image.crop(box)
    blank = Image.new("RGB", crop.size, background)
    histogram = ImageChops.difference(crop, blank).convert("L").histogram()
    return sum(histogram) - histogram[0]


def centre(box: Box) -> tuple[int, int]:
    return (box[0] + box[2]) // 2, (box[1] + box[3]) // 2


def hex_colour(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def calendar(counts: dict[date, int]) -> ActivityCalendar:
    return ActivityCalendar(LEARNER, FIRST, LAST, counts)


# -- heat-map ---------------------------------------------------------------------------------


def test_the_heatmap_has_a_square_per_day_coloured_by_activity() -> None:
    busy, quiet, empty = LAST - timedelta(days=2), FIRST + timedelta(days=3), FIRST
    data = calendar({busy: 8, quiet: 1})
    image = opened(render_heatmap(data, WORDS))
    assert image.size == heatmap.size(12)
    colour = {day: image.getpixel(centre(heatmap.cell_box(data, day))) for day in data.days()}
    assert colour[busy] == hex_colour(heatmap.LEVELS[4])
    assert colour[quiet] == hex_colour(heatmap.LEVELS[1])
    assert colour[empty] == hex_colour(heatmap.LEVELS[0])
    assert colour[busy] != colour[empty] and colour[quiet] != colour[empty]
    assert sum(c == hex_colour(heatmap.LEVELS[0]) for c in colour.values()) == len(colour) - 2
    # the days after today in the last week are not drawn
    tomorrow = heatmap.cell_box(data, LAST + timedelta(days=1))
    assert ink(image, tomorrow, canvas.BACKGROUND) == 0


def test_the_heatmap_has_its_title_month_and_day_labels_and_legend() -> None:
    image = opened(render_heatmap(calendar({}), WORDS))
    width, height = image.size
    first_cell = heatmap.cell_box(calendar({}), FIRST)
    title = (0, 0, width, first_cell[1] - 30)
    months = (first_cell[0], first_cell[1] - 30, width, first_cell[1] - 2)
    weekdays = (0, first_cell[1], first_cell[0] - 2, first_cell[3])
    footer = (0, height - heatmap.FOOTER, width, height)
    for region in (title, months, weekdays, footer):
        assert ink(image, region, canvas.BACKGROUND) > 50, region


def test_an_empty_week_column_and_a_one_week_calendar_render() -> None:
    one_week = ActivityCalendar(LEARNER, LAST - timedelta(days=LAST.weekday()), LAST, {LAST: 3})
    image = opened(render_heatmap(one_week, HeatmapText(title="Ann", summary="3 activities")))
    assert image.size == heatmap.size(1)
    assert image.getpixel(centre(heatmap.cell_box(one_week, LAST))) == hex_colour(heatmap.LEVELS[4])


@given(busiest=st.integers(1, 10_000), data=st.data())
def test_levels_grow_with_the_count_and_only_an_empty_day_is_level_0(
    busiest: int, data: st.DataObject
) -> None:
    low, high = sorted(data.draw(st.lists(st.integers(0, busiest), min_size=2, max_size=2)))
    assert heatmap.level(low, busiest) <= heatmap.level(high, busiest)
    assert (heatmap.level(low, busiest) == 0) == (low == 0)
    assert heatmap.level(busiest, busiest) == 4


def test_month_and_weekday_names_follow_the_locale() -> None:
    assert HeatmapText(title="", summary="").months[0] == "Jan"
    russian = HeatmapText(title="", summary="", locale="ru")
    assert russian.months[2].startswith("мар") and russian.weekdays[0] == "пн"


# -- text --------------------------------------------------------------------------------------


def test_cyrillic_is_drawn_and_emoji_are_left_out() -> None:
    assert canvas.drawable("Анна 🌸 Ёжик ★", 20) == "Анна Ёжик"
    image = Image.new("RGB", (200, 40), "white")
    canvas.text(ImageDraw.Draw(image), (4, 4), "Привет", 24)
    assert ink(image, (0, 0, 200, 40), "white") > 50


def test_long_text_is_cut_to_its_width_with_an_ellipsis() -> None:
    cut = canvas.fit("x" * 500, 20, 100)
    assert cut.endswith("…") and canvas.font(20).getlength(cut) <= 100
    assert canvas.fit("short", 20, 100) == "short"
    lines = canvas.wrap("word " * 200, 20, 150, 2)
    assert len(lines) == 2 and lines[-1].endswith("…")
    assert all(canvas.font(20).getlength(line) <= 150 for line in lines)


# -- achievement card ----------------------------------------------------------------------------


def test_the_card_has_a_badge_and_its_words() -> None:
    words = Card(
        title="Неделя без пропусков " * 5,
        name="Анна Петрова 🌸",
        points=50,
        points_text="+50 очков",
        description="Занимайтесь семь дней подряд " * 4,
    )
    image = opened(render_card(words))
    assert image.size == (card.WIDTH, card.HEIGHT)
    badge = (card.PAD + card.BADGE, card.HEIGHT // 2)
    ring = (card.PAD + card.BADGE - card.BADGE + 5, card.HEIGHT // 2)
    assert image.getpixel(ring) == hex_colour(card.GOLD_DARK)
    assert ink(image, (badge[0] - 60, badge[1] - 30, badge[0] + 60, badge[1] + 30), card.GOLD) > 50
    words_area = (card.TEXT_LEFT, 0, card.WIDTH - card.PAD, card.HEIGHT - 40)
    assert ink(image, words_area, card.CARD) > 2000
    margin = (card.WIDTH - card.PAD + 2, 0, card.WIDTH, card.HEIGHT - 40)
    assert ink(image, margin, card.CARD) == 0, "long words stay inside the card"


def test_the_card_draws_the_name_line() -> None:
    """Same card, two names: only the name's line differs."""
    first = opened(render_card(Card(title="Ten down", name="Ann", points=5, points_text="+5")))
    second = opened(render_card(Card(title="Ten down", name="Борис", points=5, points_text="+5")))
    changed = ImageChops.difference(first, second).getbbox()
    assert changed is not None
    assert changed[0] >= card.TEXT_LEFT and changed[1] >= card.HEIGHT - card.PAD - 40


# -- leaderboard ---------------------------------------------------------------------------------


def entry(rank: int, user_id: int, name: str, score: int) -> LeaderboardEntry:
    return LeaderboardEntry(rank, user_id, 1000 + user_id, name, score, 0, 0)


def test_the_leaderboard_has_a_row_per_learner_and_marks_the_asker() -> None:
    entries = [
        entry(1, 1, "Анна", 300),
        entry(2, 2, "Bob", 200),
        entry(2, 3, "Carol " * 40, 200),
        entry(4, 4, "Дмитрий", 10),
    ]
    image = opened(render_leaderboard(entries, BoardText(title="This week"), highlight=4))
    assert image.size == leaderboard.size(4)
    width = image.size[0]
    for index in range(4):
        top = leaderboard.HEADER + index * leaderboard.ROW
        name = (leaderboard.PAD + 72, top + 8, width // 2, top + leaderboard.ROW - 8)
        assert ink(image, name, canvas.BACKGROUND) > 50, index
    asker_top = leaderboard.HEADER + 3 * leaderboard.ROW
    assert image.getpixel((width // 2, asker_top + 8)) == hex_colour(leaderboard.HIGHLIGHT)
    gold = (leaderboard.PAD + 4, leaderboard.HEADER + leaderboard.ROW // 2)
    assert image.getpixel(gold) == hex_colour(leaderboard.MEDALS[1])


def test_an_empty_leaderboard_says_so() -> None:
    image = opened(render_leaderboard([], BoardText(title="This week", empty="Nobody yet")))
    row = (0, leaderboard.HEADER, image.size[0], leaderboard.HEADER + leaderboard.ROW)
    assert ink(image, row, canvas.BACKGROUND) > 50


def test_too_many_rows_are_refused() -> None:
    entries = [entry(n, n, f"L{n}", 100 - n) for n in range(1, 27)]
    with pytest.raises(ValueError, match="at most 25 rows, not 26"):
        render_leaderboard(entries, BoardText(title="x"))


@pytest.mark.parametrize("points", [0, 5, 1_000, 2**31 - 1])
def test_the_points_stay_inside_the_badge(points: int) -> None:
    image = opened(render_card(Card(title="T", name="N", points=points, points_text="")))
    cx, cy = card.PAD + card.BADGE, card.HEIGHT // 2
    inner = card.BADGE - 14
    for x in (cx - inner - 6, cx + inner + 6):  # the ring, left and right of the number
        assert image.getpixel((x, cy)) == hex_colour(card.GOLD_DARK)
    assert ink(image, (cx - inner + 10, cy - 20, cx + inner - 10, cy + 20), card.GOLD) > 50
