"""How long each picture takes to render, and how big its PNG is.

Renders a full 12-week heat-map (every other day active), an achievement card with a
description, and a ten-row leaderboard, each `--rounds` times after one warm-up, and prints
the median time and the PNG's size. No database is involved. Run from the repository root:

    .venv/bin/python benchmarks/pictures_bench.py [--rounds 50]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta

from questline.engine.pictures import (
    BoardText,
    Card,
    HeatmapText,
    render_card,
    render_heatmap,
    render_leaderboard,
)
from questline.engine.views import ActivityCalendar, LeaderboardEntry, UserView

LEARNER = UserView(1, 1001, "ann", "Анна", "Петрова", "ru")


def pictures() -> dict[str, Callable[[], bytes]]:
    last = date(2026, 12, 2)
    first = last - timedelta(days=last.weekday(), weeks=11)
    counts = {first + timedelta(days=n): n % 7 + 1 for n in range(0, (last - first).days, 2)}
    calendar = ActivityCalendar(LEARNER, first, last, counts)
    heatmap_words = HeatmapText(title="Анна Петрова — 12 недель", summary="…", locale="ru")
    card = Card(
        title="Неделя без пропусков",
        name="Анна Петрова",
        points=50,
        points_text="+50 баллов",
        description="Занимайтесь семь дней подряд",
    )
    entries = [
        LeaderboardEntry(n, n, 1000 + n, f"Learner {n}", 2000 - 10 * n, n, n) for n in range(1, 11)
    ]
    board = BoardText(title="Leaderboard — this week")
    return {
        "heat-map (12 weeks)": lambda: render_heatmap(calendar, heatmap_words),
        "achievement card": lambda: render_card(card),
        "leaderboard (10 rows)": lambda: render_leaderboard(entries, board, highlight=3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50)
    rounds = parser.parse_args().rounds
    print(f"{'picture':<24}{'median ms':>10}{'PNG KiB':>10}")
    for name, render in pictures().items():
        data = render()
        times = []
        for _ in range(rounds):
            began = time.perf_counter()
            render()
            times.append(time.perf_counter() - began)
        print(f"{name:<24}{statistics.median(times) * 1000:>10.1f}{len(data) / 1024:>10.1f}")


if __name__ == "__main__":
    main()
