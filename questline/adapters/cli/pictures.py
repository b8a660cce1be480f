"""The pictures the command line writes (`progress --png`, the demo), with English words."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from questline.adapters.cli.render import plural
from questline.engine.errors import QuestlineError
from questline.engine.pictures import (
    BoardText,
    Card,
    HeatmapText,
    render_card,
    render_heatmap,
    render_leaderboard,
)
from questline.engine.views import (
    AchievementStatus,
    ActivityCalendar,
    AwardView,
    LeaderboardEntry,
)


def heatmap_png(calendar: ActivityCalendar) -> bytes:
    """The learner's heat-map, titled with their name and summed up underneath."""
    total, days = sum(calendar.counts.values()), len(calendar.counts)
    words = HeatmapText(
        title=f"{calendar.user.display_name} — last {plural(calendar.weeks, 'week', 'weeks')}",
        summary=f"{plural(total, 'activity', 'activities')} on {plural(days, 'day', 'days')}",
    )
    return render_heatmap(calendar, words)


def card_png(award: AwardView | AchievementStatus, name: str) -> bytes:
    """The card of an award (or an earned achievement) for the learner called `name`."""
    return render_card(
        Card(
            title=award.title,
            name=name,
            points=award.points,
            points_text=f"+{plural(award.points, 'point', 'points')}",
            description=award.description,
        )
    )


def leaderboard_png(entries: Sequence[LeaderboardEntry], title: str) -> bytes:
    return render_leaderboard(entries, BoardText(title=title))


def write_png(path: Path, data: bytes) -> None:
    """Write `data` to `path` whole (a partial file beside it, then renamed), or not at all."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_bytes(data)
        os.replace(partial, path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise QuestlineError(f"cannot write {path}: {error.strerror}") from None


def save_pngs(folder: Path, pictures: Mapping[str, bytes]) -> list[Path]:
    """Write each picture into `folder` (made if missing) under its name; the paths."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise QuestlineError(f"cannot make the folder {folder}: {error.strerror}") from None
    paths = []
    for name, data in pictures.items():
        write_png(folder / name, data)
        paths.append(folder / name)
    return paths
