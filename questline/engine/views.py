"""Read-only views the engine hands to adapters: plain frozen dataclasses, no ORM objects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from questline.engine.events import Event
    from questline.engine.models import ProgressStatus
    from questline.rules.analysis import RuleProgress
    from questline.rules.explain import Shortfall


@dataclass(frozen=True)
class UserView:
    id: int
    telegram_id: int
    username: str | None
    first_name: str | None
    last_name: str | None
    language_code: str | None

    @property
    def display_name(self) -> str:
        """The name a leaderboard shows: full name, else @username, else the Telegram id."""
        full = " ".join(part for part in (self.first_name, self.last_name) if part)
        if full:
            return full
        return f"@{self.username}" if self.username else f"user {self.telegram_id}"


@dataclass(frozen=True)
class ChallengeView:
    question: str
    points: int
    options: tuple[str, ...] = ()
    """Choices shown as buttons (multiple choice); empty: the answer is typed."""


@dataclass(frozen=True)
class LessonView:
    id: int
    module_id: int
    slug: str | None
    title: str
    content: str | None
    order: int
    estimated_duration: int | None
    is_published: bool
    challenge: ChallengeView | None


@dataclass(frozen=True)
class ModuleView:
    id: int
    slug: str | None
    title: str
    description: str | None
    order: int
    is_published: bool
    lessons: tuple[LessonView, ...]


@dataclass(frozen=True)
class AwardView:
    """An achievement granted to a learner."""

    slug: str
    title: str
    description: str | None
    icon: str | None
    points: int
    earned_at: datetime
    user_id: int
    telegram_id: int


@dataclass(frozen=True)
class RecordResult:
    """What recording one event did; a replay returns the first recording's result."""

    activity_id: int
    replayed: bool
    awards: tuple[AwardView, ...] = ()
    already_solved: bool = False
    """A CHALLENGE_SOLVED of a challenge solved before: nothing was written, `activity_id` is
    the first solve's."""
    user_id: int | None = None
    """The learner's questline id (the event may name them by `telegram_id` only)."""


@dataclass(frozen=True)
class ChallengeOutcome:
    """`solved`: the answer is right. `already_solved`: right, but the learner had solved this
    challenge before, so no solve was recorded and `score` is None."""

    solved: bool
    score: int | None
    awards: tuple[AwardView, ...]
    already_solved: bool = False


@dataclass(frozen=True)
class JudgedAnswer:
    """An answer judged but not recorded: the events to record, and what the learner is told."""

    events: tuple[Event, ...]
    outcome: ChallengeOutcome


@dataclass(frozen=True)
class LessonProgress:
    lesson: LessonView
    status: ProgressStatus
    score: int | None
    attempts: int
    solved: bool = False
    """The learner has solved the lesson's challenge."""


@dataclass(frozen=True)
class ModuleProgress:
    module: ModuleView
    lessons: tuple[LessonProgress, ...]
    completed: int
    total: int


@dataclass(frozen=True)
class ProgressReport:
    user: UserView
    modules: tuple[ModuleProgress, ...]
    lessons_completed: int
    total_score: int
    points: int
    streak_current: int
    streak_longest: int
    streak_freezes: int = 0
    """Streak freezes held (given and not used yet)."""


@dataclass(frozen=True)
class AchievementStatus:
    """One achievement from a learner's point of view: earned, or how far away."""

    slug: str
    title: str
    description: str | None
    icon: str | None
    points: int
    earned_at: datetime | None
    progress: RuleProgress | None = None
    shortfalls: tuple[Shortfall, ...] = field(default=())
    explanation: str | None = None


@dataclass(frozen=True)
class LeaderboardEntry:
    rank: int
    user_id: int
    telegram_id: int
    display_name: str
    total_score: int
    lessons_completed: int
    achievements_count: int


@dataclass(frozen=True)
class ClosedPeriod:
    """A week or month whose period rules the close job has evaluated."""

    period: str
    first_day: date
    last_day: date
    learners: int
    """Learners on the period's board, for whom the rules were evaluated."""
    awards: tuple[AwardView, ...]
    """What this call granted (empty when the period had been closed before)."""
    closed_at: datetime
    already_closed: bool = False


@dataclass(frozen=True)
class ActivityCalendar:
    """A learner's activities per local day, from `first` (a Monday) to `last` (today)."""

    user: UserView
    first: date
    last: date
    counts: Mapping[date, int]
    """Days with activity only."""

    @property
    def weeks(self) -> int:
        return (self.last - self.first).days // 7 + 1

    def days(self) -> list[date]:
        """Every day of the calendar, in order."""
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


@dataclass(frozen=True)
class DailyGoal:
    """A learner's daily goal (lessons a day, None: no goal) and where they stand today."""

    lessons: int | None
    done_today: int
    days_met_in_a_row: int

    @property
    def met_today(self) -> bool:
        return self.lessons is not None and self.done_today >= self.lessons


@dataclass(frozen=True)
class FreezeGrantView:
    """Streak freezes given to a learner: by an admin (with a reason) or with an award."""

    amount: int
    granted_at: datetime
    reason: str | None
    achievement_slug: str | None


@dataclass(frozen=True)
class FreezeReport:
    """A learner's streak freezes: how many they hold, every grant, and the missed local days
    freezes covered (the engine's time zone), oldest first."""

    user: UserView
    held: int
    granted: int
    used: int
    grants: tuple[FreezeGrantView, ...]
    covered_days: tuple[date, ...]


@dataclass(frozen=True)
class ReminderSettingsView:
    """A learner's reminders: their time zone (None: not chosen yet), the daily reminder's
    local time (None: off), whether the streak nudge is on, and whether reminders are stopped
    (/stop_reminders) or held because the learner blocked the bot. The quiet hours and the
    nudge's time are the engine's, in the learner's local time."""

    time_zone: str | None
    daily_at: time | None
    streak_nudge: bool
    stopped: bool
    blocked: bool
    quiet_start: time
    quiet_end: time
    nudge_at: time


@dataclass(frozen=True)
class ReminderClaim:
    """A reminder claimed for sending: settle it with its `id` and `attempt`.

    `day` is the learner's local day it is for; `streak` their current streak (the nudge's
    "keep your 5-day streak").
    """

    id: int
    attempt: int
    kind: str
    user_id: int
    telegram_id: int
    first_name: str | None
    language_code: str | None
    day: date
    streak: int
