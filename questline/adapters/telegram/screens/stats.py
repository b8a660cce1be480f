"""Progress, achievements and the leaderboard."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from aiogram.types import InlineKeyboardButton

from questline.adapters.telegram.callbacks import BoardCb, Picture, PictureCb, ScreenCb
from questline.adapters.telegram.callbacks import Screen as ScreenName
from questline.adapters.telegram.i18n import _, format_day, ngettext
from questline.adapters.telegram.screens.base import (
    Screen,
    bar,
    button,
    cells,
    esc,
    keyboard,
    menu_button,
)
from questline.engine.periods import Period
from questline.engine.views import AchievementStatus, LeaderboardEntry, ProgressReport

UNITS: dict[str, Callable[[int], str]] = {
    "stats.lessons_completed": lambda n: ngettext("lesson", "lessons", n),
    "stats.lessons_started": lambda n: ngettext("lesson started", "lessons started", n),
    "stats.modules_completed": lambda n: ngettext("module", "modules", n),
    "stats.challenges_solved": lambda n: ngettext("challenge", "challenges", n),
    "stats.challenges_attempted": lambda n: ngettext("attempt", "attempts", n),
    "stats.total_score": lambda n: ngettext("point", "points", n),
    "stats.points": lambda n: ngettext("point", "points", n),
    "stats.achievements_count": lambda n: ngettext("achievement", "achievements", n),
    "stats.logins": lambda n: ngettext("visit", "visits", n),
    "stats.days_active": lambda n: ngettext("active day", "active days", n),
    "streak.current": lambda n: ngettext("day in a row", "days in a row", n),
    "streak.longest": lambda n: ngettext("day in a row", "days in a row", n),
    "streak.freezes": lambda n: ngettext("streak freeze", "streak freezes", n),
    "streak.freezes_used": lambda n: ngettext("day saved by a freeze", "days saved by a freeze", n),
}
"""How a threshold on each known fact reads in the learner's language ("7/10 lessons")."""


def number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def amount(fact: str, value: float) -> str:
    """`value` with the fact's unit, when we know one."""
    unit = UNITS.get(fact)
    return f"{number(value)} {unit(int(value))}" if unit else number(value)


def progress_screen(owner: int, report: ProgressReport) -> Screen:
    """Per-module bars, totals and streaks."""
    lines = [_("📈 <b>Your progress</b>"), ""]
    for entry in report.modules:
        lines.append(f"<b>{esc(entry.module.title)}</b>")
        lines.append(bar(entry.completed, entry.total))
    if not report.modules:
        lines.append(_("No modules are published yet."))
    lines += [
        "",
        _("Lessons completed: {n}").format(n=report.lessons_completed),
        _("Score: {n}").format(n=report.total_score),
        _("Achievement points: {n}").format(n=report.points),
        ngettext("🔥 Streak: {n} day", "🔥 Streak: {n} days", report.streak_current).format(
            n=report.streak_current
        ),
        ngettext(
            "Longest streak: {n} day", "Longest streak: {n} days", report.streak_longest
        ).format(n=report.streak_longest),
        ngettext("🧊 {n} streak freeze", "🧊 {n} streak freezes", report.streak_freezes).format(
            n=report.streak_freezes
        ),
    ]
    return Screen("\n".join(lines), keyboard([menu_button(owner)]))


CLOSEST = 3
"""How many locked achievements the screen puts first: the ones the learner is closest to."""


def achievements_screen(
    owner: int, statuses: Sequence[AchievementStatus], *, show_all: bool = False
) -> Screen:
    """The closest locked achievements with what is missing, then the earned ones; the other
    locked ones are folded behind "Show all"."""
    earned = sorted(
        ((s.earned_at, s) for s in statuses if s.earned_at is not None), key=lambda p: p[0]
    )
    locked = sorted(
        (s for s in statuses if s.earned_at is None),
        key=lambda s: (-(s.progress.ratio if s.progress else 0.0), s.points, s.title),
    )
    closest, others = locked[:CLOSEST], locked[CLOSEST:]
    lines = [
        _("🏆 <b>Achievements</b> · {earned}/{total} earned").format(
            earned=len(earned), total=len(statuses)
        )
    ]
    if closest:
        lines += ["", _("<b>Almost there</b>")]
        lines += [line for status in closest for line in _locked(status)]
    lines += ["", _("<b>Earned</b>")]
    if not earned:
        lines.append(_("None yet — your first one is close!"))
    for earned_at, status in earned:
        lines.append(
            _("{icon} {title} — {date} (+{points})").format(
                icon=status.icon or "🏅",
                title=esc(status.title),
                date=format_day(earned_at),
                points=status.points,
            )
        )
    rows = []
    if others and show_all:
        lines += ["", _("<b>Locked</b>")]
        lines += [line for status in others for line in _locked(status)]
        rows.append([button(_("Show fewer"), _screen(owner, ScreenName.ACHIEVEMENTS))])
    elif others:
        more = ngettext("…and {n} more locked.", "…and {n} more locked.", len(others))
        lines += ["", more.format(n=len(others))]
        label = _("Show all ({n})").format(n=len(statuses))
        rows.append([button(label, _screen(owner, ScreenName.ALL_ACHIEVEMENTS))])
    return Screen("\n".join(lines), keyboard(*rows, [menu_button(owner)]))


def _screen(owner: int, screen: ScreenName) -> str:
    return ScreenCb(owner=owner, screen=screen).pack()


def _locked(status: AchievementStatus) -> list[str]:
    lines = [f"🔒 <b>{esc(status.title)}</b> (+{status.points})"]
    if status.description:
        lines.append(f"<i>{esc(status.description)}</i>")
    detail = _locked_detail(status)
    if detail:
        lines.append(detail)
    return lines


def _locked_detail(status: AchievementStatus) -> str:
    """What is missing with a bar, e.g. "3 lessons to go ▰▰▰▰▰▰▰▱▱▱"; else the engine's words."""
    parts = [
        _("{amount} to go").format(amount=amount(part.fact, part.missing)) + f" {cells(part.ratio)}"
        for part in (status.progress.parts if status.progress else ())
        if part.missing
    ]
    if not parts:
        parts = [esc(shortfall.text) for shortfall in status.shortfalls]
    if not parts and status.explanation:
        parts.append(esc(status.explanation))
    return " · ".join(parts)


def board_tabs(owner: int, period: Period) -> list[InlineKeyboardButton]:
    """The tabs "This week / This month / All time"; the one shown is marked."""
    labels = {
        Period.WEEK: _("This week"),
        Period.MONTH: _("This month"),
        Period.ALL: _("All time"),
    }
    return [
        button(f"• {label} •" if tab is period else label, BoardCb(owner=owner, period=tab).pack())
        for tab, label in labels.items()
    ]


def leaderboard_screen(
    owner: int,
    top: Sequence[LeaderboardEntry],
    mine: LeaderboardEntry | None,
    neighbours: Sequence[LeaderboardEntry] = (),
    period: Period = Period.ALL,
) -> Screen:
    """The top learners of the period's board and the asker's rank; tied ranks are marked
    "=2"."""
    counts = Counter(entry.rank for entry in {e.user_id: e for e in (*top, *neighbours)}.values())

    def rank(entry: LeaderboardEntry) -> str:
        return f"={entry.rank}" if counts[entry.rank] > 1 else f"{entry.rank}."

    def row(entry: LeaderboardEntry) -> str:
        text = ngettext(
            "{rank} {name} — {score} point", "{rank} {name} — {score} points", entry.total_score
        ).format(rank=rank(entry), name=esc(entry.display_name), score=entry.total_score)
        return f"<b>{text}</b>" if entry.telegram_id == owner else text

    titles = {
        Period.WEEK: _("🥇 <b>Leaderboard — this week</b>"),
        Period.MONTH: _("🥇 <b>Leaderboard — this month</b>"),
        Period.ALL: _("🥇 <b>Leaderboard</b>"),
    }
    empty = {
        Period.WEEK: _("Nobody has scored this week yet."),
        Period.MONTH: _("Nobody has scored this month yet."),
        Period.ALL: _("Nobody is ranked yet."),
    }
    lines = [titles[period], ""]
    lines += [row(entry) for entry in top] or [empty[period]]
    lines.append("")
    if mine is None:
        lines.append(_("You are not ranked yet — complete a lesson to join."))
    else:
        if all(entry.user_id != mine.user_id for entry in top):
            lines += ["…", row(mine), ""]
        tied = counts[mine.rank] > 1
        mine_text = _("Your rank: {rank} (tied)") if tied else _("Your rank: {rank}")
        lines.append(mine_text.format(rank=mine.rank))
    picture = PictureCb(owner=owner, picture=Picture.LEADERBOARD, period=period).pack()
    return Screen(
        "\n".join(lines),
        keyboard(
            board_tabs(owner, period),
            [button(_("🖼 As a picture"), picture)],
            [menu_button(owner)],
        ),
    )
