"""Streaks: runs of consecutive local days with at least one learning activity."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Streak:
    """The current run (ending on the reference day or the day before) and the longest run."""

    current: int
    longest: int


def local_dates(moments: Iterable[datetime], zone: ZoneInfo) -> set[date]:
    """The learner's calendar days on which the given UTC moments fall (DST-safe)."""
    return {moment.astimezone(zone).date() for moment in moments}


def streak_on(days: Iterable[date], today: date) -> Streak:
    """Streaks over active `days`, the current one counted as of `today`.

    A run that ended yesterday is still current: the learner has until the end of today.
    """
    ordered = sorted(set(days))
    longest = run = 0
    previous: date | None = None
    for day in ordered:
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        longest = max(longest, run)
        previous = day
    active = set(ordered)
    anchor = today if today in active else today - timedelta(days=1)
    current = 0
    while anchor in active:
        current += 1
        anchor -= timedelta(days=1)
    return Streak(current=current, longest=longest)
