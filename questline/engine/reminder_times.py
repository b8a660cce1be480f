"""Reminder times: a learner's time zone, quiet hours, and when a local time of day next occurs.

A learner's time zone is stored as text: an IANA name ("Europe/Berlin", DST-aware) or a fixed
UTC offset ("+03:00", "-05:30"), the form a learner who does not know their zone's name can
give. Local times that do not exist (a DST gap) fall after the gap; repeated ones (a DST
overlap) take their first occurrence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from questline.engine.errors import InvalidReminder

MAX_ZONE_LENGTH = 64
_OFFSET = re.compile(r"(?:UTC|GMT)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?", re.IGNORECASE)
_UTC_NAMES = {"utc", "gmt", "z"}
ZONE_HINT = "use an IANA name such as Europe/Berlin or a UTC offset such as +03:00"


NOT_ZONES = frozenset({"localtime", "posixrules", "factory"})
"""Files of the zone database that name no place: the server's own zone (which follows the
machine's configuration, not the learner), POSIX rules, "Factory" (no zone set)."""


@cache
def _zone_names() -> dict[str, str]:
    """IANA zone names by their lower-case spelling (read once)."""
    return {name.lower(): name for name in available_timezones() if name.lower() not in NOT_ZONES}


def parse_zone(text: str) -> str:
    """The stored form of a time zone a learner gave: an IANA name or "+HH:MM"."""
    value = text.strip()
    if not value:
        raise InvalidReminder(f"a time zone is needed: {ZONE_HINT}")
    if value.lower() in _UTC_NAMES:
        return "UTC"
    offset = _OFFSET.fullmatch(value)
    if offset is not None:
        sign, hours, minutes = offset.group(1), int(offset.group(2)), int(offset.group(3) or 0)
        if minutes >= 60 or (hours, minutes) > ((14, 0) if sign == "+" else (12, 0)):
            raise InvalidReminder(
                f'"{value}" is not a UTC offset: offsets run from -12:00 to +14:00'
            )
        if hours == minutes == 0:
            return "UTC"
        return f"{sign}{hours:02d}:{minutes:02d}"
    name = _zone_names().get(value.lower()) if len(value) <= MAX_ZONE_LENGTH else None
    if name is None:
        shown = value if len(value) <= MAX_ZONE_LENGTH else value[:MAX_ZONE_LENGTH] + "…"
        raise InvalidReminder(f'unknown time zone "{shown}": {ZONE_HINT}')
    return name


def zone_of(stored: str) -> tzinfo:
    """The tzinfo of a stored time zone."""
    if stored[:1] in ("+", "-"):
        sign = -1 if stored[0] == "-" else 1
        hours, minutes = stored[1:].split(":")
        return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))
    return ZoneInfo(stored)


def minute_of(at: time) -> int:
    """A time of day in minutes after midnight (it must have no seconds and no time zone)."""
    if at.tzinfo is not None or at.second or at.microsecond:
        raise InvalidReminder(f"a reminder time is a local hour and minute, not {at.isoformat()}")
    return at.hour * 60 + at.minute


def time_of(minute: int) -> time:
    return time(minute // 60, minute % 60)


@dataclass(frozen=True)
class ReminderPolicy:
    """When reminders may be sent, in each learner's local time, and how claims are leased.

    Nothing is sent within quiet hours (`quiet_start` to `quiet_end`, across midnight when
    the start is later). The streak nudge is due at `nudge_at`. A claim is leased for `lease`
    (longer than one send with its retries); a reminder is given up after `max_attempts`.
    """

    quiet_start: time = time(22, 0)
    quiet_end: time = time(8, 0)
    nudge_at: time = time(19, 0)
    lease: timedelta = timedelta(minutes=5)
    max_attempts: int = 5

    def __post_init__(self) -> None:
        for moment in (self.quiet_start, self.quiet_end, self.nudge_at):
            minute_of(moment)
        if self.quiet_start == self.quiet_end:
            raise InvalidReminder("quiet hours must start and end at different times")
        if self.quiet(self.nudge_at):
            raise InvalidReminder(f"the streak nudge at {self.nudge_at:%H:%M} is in quiet hours")
        if self.lease <= timedelta(0) or self.max_attempts < 1:
            raise InvalidReminder("the lease must be positive and max_attempts at least 1")

    def quiet(self, local: time) -> bool:
        """Whether the local time of day `local` is within quiet hours."""
        start, end = self.quiet_start, self.quiet_end
        if start < end:
            return start <= local < end
        return local >= start or local < end

    def checked_daily(self, at: time) -> int:
        """`at` as minutes after midnight, if a daily reminder may be set then."""
        minute = minute_of(at)
        if self.quiet(at):
            raise InvalidReminder(
                f"{at:%H:%M} is within quiet hours ({self.quiet_start:%H:%M}–"
                f"{self.quiet_end:%H:%M}); choose a time from {self.quiet_end:%H:%M} "
                f"to {self.quiet_start:%H:%M}"
            )
        return minute


def occurrence(day: date, minute: int, zone: tzinfo) -> datetime:
    """The UTC moment of local time `minute` on local `day` (DST-safe)."""
    return datetime.combine(day, time_of(minute), tzinfo=zone).astimezone(UTC)


def next_due(minute: int, zone: tzinfo, after: datetime) -> datetime:
    """The first occurrence of local time `minute` strictly after `after`."""
    day = after.astimezone(zone).date()
    while (moment := occurrence(day, minute, zone)) <= after:
        day += timedelta(days=1)
    return moment
