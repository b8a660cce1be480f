"""Rich tables and plain lines for what the engine reports."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, tzinfo

from rich.table import Table
from rich.text import Text

from questline.engine.views import (
    AchievementStatus,
    LeaderboardEntry,
    ProgressReport,
)
from questline.plugins.manager import PluginInfo

# by ProgressStatus value (a str enum)
STATUS_MARKS = {"COMPLETED": "✔", "IN_PROGRESS": "◐", "NOT_STARTED": "·"}


def change_lines(
    created: Sequence[str], updated: Sequence[str], unchanged: Sequence[str]
) -> list[str]:
    """`created: 2 (a, b)` lines for what a load changed."""
    lines = []
    for label, items in (("created", created), ("updated", updated), ("unchanged", unchanged)):
        names = f" ({', '.join(items)})" if items and label != "unchanged" else ""
        lines.append(f"{label}: {len(items)}{names}")
    return lines


def moment(value: datetime, zone: tzinfo) -> str:
    """A timestamp in the learners' time zone, to the minute."""
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def bar(ratio: float, width: int = 10) -> str:
    """A text progress bar with a percentage."""
    ratio = min(max(ratio, 0.0), 1.0)
    filled = round(ratio * width)
    return f"{'█' * filled}{'░' * (width - filled)} {ratio:4.0%}"


def leaderboard_table(entries: Iterable[LeaderboardEntry], title: str = "Leaderboard") -> Table:
    table = Table(title=title, title_justify="left", min_width=len(title))  # title on one line
    table.add_column("#", justify="right")
    table.add_column("learner")
    table.add_column("score", justify="right")
    table.add_column("lessons", justify="right")
    table.add_column("achievements", justify="right")
    for entry in entries:
        table.add_row(
            str(entry.rank),
            Text(entry.display_name),
            str(entry.total_score),
            str(entry.lessons_completed),
            str(entry.achievements_count),
        )
    return table


def plugins_table(infos: Iterable[PluginInfo]) -> Table:
    table = Table(title="Plugins", title_justify="left")
    table.add_column("name")
    table.add_column("hooks")
    table.add_column("distribution")
    for info in infos:
        table.add_row(
            Text(info.name), Text("\n".join(info.hooks) or "—"), Text(info.distribution or "—")
        )
    return table


def modules_table(report: ProgressReport) -> Table:
    """One row per module: completed lessons and each lesson's status and best score."""
    table = Table(title=f"Progress of {report.user.display_name}", title_justify="left")
    table.add_column("module")
    table.add_column("done", justify="right")
    table.add_column("lessons (✔ completed, ◐ in progress, · not started; best score)")
    for module in report.modules:
        lessons = "  ".join(
            f"{STATUS_MARKS[item.status]} {item.lesson.title}"
            + (f" ({item.score})" if item.score is not None else "")
            for item in module.lessons
        )
        table.add_row(
            Text(module.module.title), f"{module.completed}/{module.total}", Text(lessons)
        )
    return table


def totals_line(report: ProgressReport) -> str:
    return (
        f"lessons completed: {report.lessons_completed} · score: {report.total_score} · "
        f"achievement points: {report.points} · streak: {report.streak_current} day(s) "
        f"(longest {report.streak_longest}) · streak freezes: {report.streak_freezes}"
    )


def plural(n: int, word: str, words: str) -> str:
    """`n` and the word for that many: "1 point", "5 points"."""
    return f"{n} {word if n == 1 else words}"


def shortfall_text(status: AchievementStatus) -> str:
    """What the learner still needs for a locked achievement."""
    if status.explanation:
        return status.explanation
    if status.shortfalls:
        return "; ".join(shortfall.text for shortfall in status.shortfalls)
    if status.progress is not None:
        return "; ".join(
            f"{part.fact} {part.current}/{part.target}"
            for part in status.progress.parts
            if not part.satisfied
        )
    return status.description or ""


def achievements_table(
    statuses: Iterable[AchievementStatus], zone: tzinfo, title: str = "Achievements"
) -> Table:
    """Earned achievements with their date, locked ones with progress and what is missing."""
    table = Table(title=title, title_justify="left")
    table.add_column("achievement")
    table.add_column("points", justify="right")
    table.add_column("status", no_wrap=True)
    table.add_column("still needed")
    for status in statuses:
        name = Text(f"{status.icon or '•'} {status.title}")
        if status.earned_at is not None:
            table.add_row(name, str(status.points), f"earned {moment(status.earned_at, zone)}", "")
            continue
        progress = bar(status.progress.ratio) if status.progress is not None else "locked"
        table.add_row(name, str(status.points), progress, Text(shortfall_text(status)))
    return table
