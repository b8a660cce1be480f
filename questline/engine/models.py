"""The database schema: the eight seed tables plus the engine's additive extensions.

The seed tables (``users``, ``modules``, ``lessons``, ``user_progress``, ``achievements``,
``user_achievements``, ``leaderboard_cache``, ``activity_log``) are the contract and are
restated in ``docs/schema.md``; migration ``0001`` creates exactly them. Columns and the table
``lesson_challenges`` marked *extension* come from migration ``0002`` and never change a seed
column.

Async use: no relationship loads implicitly with SQL. Large collections use
``lazy="raise_on_sql"`` (load them with ``selectinload(...)`` in the query); small, always-needed
ones (a module's lessons, a lesson's challenge, an award's achievement) use ``selectin``.

Timestamps are UTC (:class:`~questline.engine.timestamps.UTCDateTime`) and are filled by
column defaults, so they apply to ORM flushes and to Core ``insert()``/``update()`` alike.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.mysql import MEDIUMTEXT
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from questline.engine.idempotency import IdempotencyKey
from questline.engine.timestamps import UTCDateTime, utcnow
from questline.rules.vocabulary import AchievementType, ActivityType

LONG_TEXT = Text().with_variant(MEDIUMTEXT(), "mysql", "mariadb")
"""Text beyond TEXT's 65,535 bytes on MySQL/MariaDB (up to 16 MiB); TEXT elsewhere."""

__all__ = [
    "NAMING_CONVENTION",
    "Achievement",
    "AchievementType",
    "ActivityLog",
    "ActivityType",
    "ApiKey",
    "Base",
    "ConversationState",
    "LeaderboardCache",
    "LeaderboardClose",
    "LearnerDay",
    "LearnerPeriodScore",
    "LearnerTotals",
    "Lesson",
    "LessonChallenge",
    "Module",
    "OutboxEntry",
    "OutboxStatus",
    "ProgressStatus",
    "ReminderSend",
    "ReminderSettings",
    "User",
    "UserAchievement",
    "UserProgress",
]

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class ProgressStatus(enum.StrEnum):
    """Where a learner stands on one lesson (the seed's ProgressStatus)."""

    NOT_STARTED = "NOT_STARTED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"


class OutboxStatus(enum.StrEnum):
    """Where an outbox entry stands (extension, 0006)."""

    PENDING = "pending"
    DONE = "done"
    DEAD = "dead"


class Base(AsyncAttrs, DeclarativeBase):
    """Declarative base; ``Base.metadata`` carries the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _created_at() -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), nullable=False, default=utcnow)


def _updated_at() -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow)


# Enum columns: native ENUM on MySQL/MariaDB, VARCHAR on SQLite (no CHECK constraint, the
# SQLAlchemy default). Values are the member names, which equal the values for these StrEnums;
# validate_strings makes an unknown string fail before it reaches the database, on every backend.
progress_status_enum = Enum(ProgressStatus, name="progress_status", validate_strings=True)
achievement_type_enum = Enum(AchievementType, name="achievement_type", validate_strings=True)
activity_type_enum = Enum(ActivityType, name="activity_type", validate_strings=True)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, nullable=False, unique=True, index=True)
    username: Mapped[str | None] = mapped_column(String(100), nullable=True)
    first_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    last_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    language_code: Mapped[str | None] = mapped_column(String(10), nullable=True)
    is_active: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=True, server_default="1"
    )
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()

    progress: Mapped[list[UserProgress]] = relationship(
        back_populates="user",
        lazy="raise_on_sql",
        passive_deletes=True,
        order_by="UserProgress.id",
    )
    achievements: Mapped[list[UserAchievement]] = relationship(
        back_populates="user",
        lazy="raise_on_sql",
        passive_deletes=True,
        order_by="(UserAchievement.earned_at, UserAchievement.id)",
    )
    activities: Mapped[list[ActivityLog]] = relationship(
        back_populates="user",
        lazy="raise_on_sql",
        passive_deletes=True,
        order_by="(ActivityLog.created_at, ActivityLog.id)",
    )
    leaderboard_entry: Mapped[LeaderboardCache | None] = relationship(
        back_populates="user", lazy="raise_on_sql", passive_deletes=True, uselist=False
    )

    def __repr__(self) -> str:
        return f"User(id={self.id!r}, telegram_id={self.telegram_id!r})"


class Module(Base):
    __tablename__ = "modules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    order: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    is_published: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default="0"
    )
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()
    # extension (0002): stable key for idempotent course loading
    slug: Mapped[str | None] = mapped_column(String(100), nullable=True, unique=True)

    lessons: Mapped[list[Lesson]] = relationship(
        back_populates="module",
        lazy="selectin",
        passive_deletes=True,
        order_by="(Lesson.order, Lesson.id)",
    )

    def __repr__(self) -> str:
        return f"Module(id={self.id!r}, slug={self.slug!r}, title={self.title!r})"


class Lesson(Base):
    __tablename__ = "lessons"
    __table_args__ = (
        Index(None, "module_id", "order"),
        # extension (0002)
        UniqueConstraint("module_id", "slug"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id"), nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    content: Mapped[str | None] = mapped_column(Text, nullable=True)
    order: Mapped[int] = mapped_column(Integer, nullable=False)
    estimated_duration: Mapped[int | None] = mapped_column(Integer, nullable=True)  # minutes
    is_published: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default="0"
    )
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()
    # extension (0002): unique within the module
    slug: Mapped[str | None] = mapped_column(String(100), nullable=True)

    module: Mapped[Module] = relationship(back_populates="lessons", lazy="raise_on_sql")
    progress: Mapped[list[UserProgress]] = relationship(
        back_populates="lesson", lazy="raise_on_sql", passive_deletes=True
    )
    # extension (0002): at most one challenge per lesson
    challenge: Mapped[LessonChallenge | None] = relationship(
        back_populates="lesson",
        lazy="selectin",
        uselist=False,
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    def __repr__(self) -> str:
        return f"Lesson(id={self.id!r}, module_id={self.module_id!r}, title={self.title!r})"


class UserProgress(Base):
    __tablename__ = "user_progress"
    __table_args__ = (
        UniqueConstraint("user_id", "lesson_id"),
        Index(None, "user_id", "status"),
        Index(None, "lesson_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id"), nullable=False)
    status: Mapped[ProgressStatus] = mapped_column(progress_status_enum, nullable=False)
    score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()
    # extension (0005): when the lesson's challenge was first solved (distinct solves)
    solved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    user: Mapped[User] = relationship(back_populates="progress", lazy="raise_on_sql")
    lesson: Mapped[Lesson] = relationship(back_populates="progress", lazy="raise_on_sql")

    def __repr__(self) -> str:
        return (
            f"UserProgress(user_id={self.user_id!r}, lesson_id={self.lesson_id!r}, "
            f"status={self.status!r})"
        )


class Achievement(Base):
    __tablename__ = "achievements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    type: Mapped[AchievementType] = mapped_column(achievement_type_enum, nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    icon: Mapped[str | None] = mapped_column(String(100), nullable=True)
    points: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    criteria: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = _created_at()
    # extensions (0002): stable identity of a rule; disabled rules are never evaluated
    slug: Mapped[str | None] = mapped_column(String(100), nullable=True, unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default="1")
    # extension (0015): streak freezes the learner is given with the award
    streak_freezes: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default="0"
    )

    user_achievements: Mapped[list[UserAchievement]] = relationship(
        back_populates="achievement", lazy="raise_on_sql", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"Achievement(id={self.id!r}, slug={self.slug!r}, type={self.type!r})"


class UserAchievement(Base):
    __tablename__ = "user_achievements"
    __table_args__ = (
        UniqueConstraint("user_id", "achievement_id"),
        Index(None, "user_id", "earned_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievements.id"), nullable=False)
    earned_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    # extension (0002): the activity_log row whose event triggered the award
    activity_id: Mapped[int | None] = mapped_column(
        ForeignKey("activity_log.id", ondelete="SET NULL"), nullable=True, index=True
    )

    user: Mapped[User] = relationship(back_populates="achievements", lazy="raise_on_sql")
    achievement: Mapped[Achievement] = relationship(
        back_populates="user_achievements", lazy="selectin"
    )
    activity: Mapped[ActivityLog | None] = relationship(lazy="raise_on_sql")

    def __repr__(self) -> str:
        return f"UserAchievement(user_id={self.user_id!r}, achievement_id={self.achievement_id!r})"


class LeaderboardCache(Base):
    __tablename__ = "leaderboard_cache"
    # The seed lists an index on rank twice (column "indexed" and a separate (rank) index);
    # one single-column index on rank is kept, plus the composite (rank, total_score).
    __table_args__ = (
        Index(None, "rank", "total_score"),
        # extension (0003): ranking by score without scanning the table
        Index(None, "total_score", "user_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, unique=True)
    rank: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    total_score: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    lessons_completed: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default="0"
    )
    achievements_count: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default="0"
    )
    updated_at: Mapped[datetime] = _updated_at()

    user: Mapped[User] = relationship(back_populates="leaderboard_entry", lazy="raise_on_sql")

    def __repr__(self) -> str:
        return f"LeaderboardCache(user_id={self.user_id!r}, rank={self.rank!r})"


# extension (0017): the display order (total desc, user id), read forwards or backwards
Index(
    "ix_leaderboard_cache_display_order",
    LeaderboardCache.total_score.desc(),
    LeaderboardCache.user_id,
)


class ActivityLog(Base):
    __tablename__ = "activity_log"
    __table_args__ = (
        Index(None, "user_id", "activity_type", "created_at"),
        # extension (0002): replays of one event are recognised by this key
        UniqueConstraint("user_id", "idempotency_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    activity_type: Mapped[ActivityType] = mapped_column(
        activity_type_enum, nullable=False, index=True
    )
    entity_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    entity_type: Mapped[str | None] = mapped_column(String(50), nullable=True)
    details: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), nullable=False, default=utcnow, index=True
    )
    # extension (0002, exact since 0004): compared exactly on every database, byte for byte
    # on MySQL/MariaDB ("abc", "ABC" and "abc " are three keys)
    idempotency_key: Mapped[str | None] = mapped_column(IdempotencyKey(), nullable=True)

    user: Mapped[User] = relationship(back_populates="activities", lazy="raise_on_sql")

    def __repr__(self) -> str:
        return (
            f"ActivityLog(id={self.id!r}, user_id={self.user_id!r}, "
            f"activity_type={self.activity_type!r})"
        )


class LessonChallenge(Base):
    """Extension (0002): the question a lesson asks; ``answers`` is a JSON list of strings,
    ``options`` (0011) the JSON list of choices shown as buttons, or NULL (free text only)."""

    __tablename__ = "lesson_challenges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lesson_id: Mapped[int] = mapped_column(
        ForeignKey("lessons.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    question: Mapped[str] = mapped_column(Text, nullable=False)
    answers: Mapped[str] = mapped_column(Text, nullable=False)  # JSON list
    points: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    options: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON list (0011)
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()

    lesson: Mapped[Lesson] = relationship(back_populates="challenge", lazy="raise_on_sql")

    def __repr__(self) -> str:
        return f"LessonChallenge(id={self.id!r}, lesson_id={self.lesson_id!r})"


class OutboxEntry(Base):
    """A notification written in the transaction of the event it announces (extension, 0006).

    The dispatcher (``questline.engine.dispatcher``) hands pending entries to the plugins' hooks
    and marks them done; ``dedupe_id`` is the stable id receivers drop duplicates by.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index(None, "status", "available_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dedupe_id: Mapped[str] = mapped_column(String(36), nullable=False, unique=True)
    topic: Mapped[str] = mapped_column(String(50), nullable=False)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    activity_id: Mapped[int | None] = mapped_column(
        ForeignKey("activity_log.id", ondelete="SET NULL"), nullable=True
    )
    payload: Mapped[str] = mapped_column(LONG_TEXT, nullable=False)
    status: Mapped[str] = mapped_column(
        String(10), nullable=False, default=OutboxStatus.PENDING, server_default="pending"
    )
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    available_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    claim_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    delivered_to: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = _created_at()
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    def __repr__(self) -> str:
        return f"OutboxEntry(id={self.id!r}, topic={self.topic!r}, status={self.status!r})"


def _count() -> Mapped[int]:
    return mapped_column(Integer, nullable=False, default=0, server_default="0")


class LearnerTotals(Base):
    """Extension (0005): one learner's running figures, kept current in each event's transaction.

    Rebuildable from ``activity_log`` and ``user_progress`` (``questline db rebuild-aggregates``).
    Days are local days in ``zone`` as proleptic Gregorian ordinals (``date.toordinal()``).
    """

    __tablename__ = "learner_totals"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    zone: Mapped[str] = mapped_column(String(64), nullable=False)
    # events by activity type
    lesson_starts: Mapped[int] = _count()
    lesson_completions: Mapped[int] = _count()
    challenge_attempts: Mapped[int] = _count()
    challenge_solves: Mapped[int] = _count()
    logins: Mapped[int] = _count()
    # distinct lessons, and the sum of best lesson scores (from user_progress)
    lessons_started: Mapped[int] = _count()
    lessons_completed: Mapped[int] = _count()
    challenges_solved: Mapped[int] = _count()
    lesson_score: Mapped[int] = _count()
    # days and streaks
    days_active: Mapped[int] = _count()
    streak_current: Mapped[int] = _count()
    """The run of consecutive learning days ending on ``last_learning_day``."""
    streak_longest: Mapped[int] = _count()
    last_learning_day: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_active_day: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # extension (0015): streak freezes given in all, and used on missed days
    freezes_granted: Mapped[int] = _count()
    freezes_used: Mapped[int] = _count()


class LearnerDay(Base):
    """Extension (0005): one learner's events on one local day, by activity type.

    Windowed figures (today, this week, this month) are range sums over these rows.
    """

    __tablename__ = "learner_days"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    day: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    activities: Mapped[int] = _count()
    lesson_starts: Mapped[int] = _count()
    lesson_completions: Mapped[int] = _count()
    challenge_attempts: Mapped[int] = _count()
    challenge_solves: Mapped[int] = _count()
    logins: Mapped[int] = _count()


class LearnerGoal(Base):
    """Extension (0013): the number of lessons a day a learner has set out to complete."""

    __tablename__ = "learner_goals"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    daily_lessons: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_at: Mapped[datetime] = _updated_at()


class StreakFreezeGrant(Base):
    """Extension (0015): streak freezes given to a learner, by an admin or with an award.

    The source of truth for freezes (never rebuilt). ``achievement_id`` is set for a rule's
    reward; unique with the learner, so an award gives its freezes once.
    """

    __tablename__ = "streak_freeze_grants"
    __table_args__ = (
        UniqueConstraint("user_id", "achievement_id"),
        Index(None, "user_id", "granted_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    amount: Mapped[int] = mapped_column(Integer, nullable=False)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    reason: Mapped[str | None] = mapped_column(String(255), nullable=True)
    achievement_id: Mapped[int | None] = mapped_column(
        ForeignKey("achievements.id", ondelete="SET NULL"), nullable=True
    )


class StreakFreezeUse(Base):
    """Extension (0015): a missed local day (ordinal, in ``learner_totals.zone``) that one of
    the learner's freezes kept from breaking the streak.

    Derived from the learning days and the grants (``questline.engine.freezes``); rebuilt with
    the aggregates.
    """

    __tablename__ = "streak_freeze_uses"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    day: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


class ReminderSettings(Base):
    """Extension (0014): a learner's reminders: their time zone, what they asked for, and when
    each kind is next due.

    ``time_zone`` is an IANA name ("Europe/Berlin") or a fixed UTC offset ("+03:00").
    ``daily_at`` is the daily reminder's local time in minutes after midnight (None: no daily
    reminder). ``daily_due_at`` and ``streak_due_at`` are the next UTC moments each kind is
    due (None: not scheduled, e.g. stopped or blocked); the scheduler reads them by index.
    """

    __tablename__ = "reminder_settings"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    time_zone: Mapped[str] = mapped_column(String(64), nullable=False)
    daily_at: Mapped[int | None] = mapped_column(Integer, nullable=True)
    streak_nudge: Mapped[bool] = mapped_column(Boolean, nullable=False)
    stopped: Mapped[bool] = mapped_column(Boolean, nullable=False)
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    daily_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    streak_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    updated_at: Mapped[datetime] = _updated_at()


class ReminderSend(Base):
    """Extension (0014): one reminder claimed for sending, unique per (learner, local day, kind).

    ``day`` is the learner's local day as an ordinal. ``status`` is "sending" (claimed; due for
    another try at ``lease_until``), "sent", "blocked", "failed" or "expired". ``attempts``
    counts the claims, so a settlement names the claim it settles.
    """

    __tablename__ = "reminder_sends"
    __table_args__ = (
        UniqueConstraint("user_id", "day", "kind"),
        Index(None, "status", "lease_until"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    day: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    status: Mapped[str] = mapped_column(String(8), nullable=False)
    attempts: Mapped[int] = _count()
    streak: Mapped[int] = _count()
    lease_until: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    claimed_at: Mapped[datetime] = _created_at()
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(255), nullable=True)


class LearnerPeriodScore(Base):
    """Extension (0012): one learner's gains in one week or month, kept current with each event.

    ``period`` is "week" (Monday to Sunday) or "month"; ``period_start`` is its first local day
    in the engine's time zone as an ordinal (``date.toordinal()``). ``score``,
    ``lessons_completed`` and ``achievements_count`` are what the period added to the learner's
    all-time totals (see ``questline.engine.periods``). Rebuildable from ``activity_log`` and
    ``user_achievements`` (``questline db rebuild-aggregates``).
    """

    __tablename__ = "learner_period_scores"
    __table_args__ = (Index(None, "period", "period_start", "score", "user_id"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    period: Mapped[str] = mapped_column(String(5), primary_key=True)
    period_start: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    score: Mapped[int] = _count()
    lessons_completed: Mapped[int] = _count()
    achievements_count: Mapped[int] = _count()


# extension (0017): a period board's display order (score desc, user id), either direction
Index(
    "ix_learner_period_scores_display_order",
    LearnerPeriodScore.period,
    LearnerPeriodScore.period_start,
    LearnerPeriodScore.score.desc(),
    LearnerPeriodScore.user_id,
)


class LeaderboardScoreCount(Base):
    """Extension (0017): how many active learners hold each score on each board.

    ``board`` is "all" (all-time totals, ``period_start`` 0), "week" or "month" (the period's
    first local day as an ordinal, as in ``learner_period_scores``). Kept in the transaction
    that changes a score, so a rank is 1 + the sum of the rows above a score: a read of the
    board's distinct scores, never a count of learners (see ``questline.engine.ranks``).
    Rebuilt from the boards by ``Engine.rebuild_leaderboard()``.
    """

    __tablename__ = "leaderboard_score_counts"

    board: Mapped[str] = mapped_column(String(5), primary_key=True)
    period_start: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    score: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    learners: Mapped[int] = _count()


class LeaderboardScoreBand(Base):
    """Extension (0018): how many active learners hold a score in each band of scores, per
    board: the sums of `leaderboard_score_counts` over bands of consecutive scores.

    A band is named by its lowest score (``questline.engine.ranks.band_of``: a score with all
    but its five highest bits cleared), so a board has at most a few hundred bands and the
    count above a score reads them and the rows left in the score's own band. Kept with the
    score counts, in the same transaction; rebuilt with them.
    """

    __tablename__ = "leaderboard_score_bands"

    board: Mapped[str] = mapped_column(String(5), primary_key=True)
    period_start: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    band: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    learners: Mapped[int] = _count()


class LeaderboardClose(Base):
    """Extension (0012): a finished week or month whose period rules have been evaluated.

    The unique (period, period_start) row is claimed in the closing transaction, so a period
    is closed once however many processes run the close job.
    """

    __tablename__ = "leaderboard_closes"
    __table_args__ = (UniqueConstraint("period", "period_start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    period: Mapped[str] = mapped_column(String(5), nullable=False)
    period_start: Mapped[int] = mapped_column(Integer, nullable=False)
    learners: Mapped[int] = _count()
    awards: Mapped[int] = _count()
    closed_at: Mapped[datetime] = _created_at()

    def __repr__(self) -> str:
        return f"LeaderboardClose(period={self.period!r}, period_start={self.period_start!r})"


class ConversationState(Base):
    """Extension (0008): where an adapter's conversation with a learner stands (bot FSM state).

    ``key`` is the adapter's own key (e.g. bot, chat and user ids); ``data`` is a JSON object.
    """

    __tablename__ = "conversation_states"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(255), nullable=False, unique=True)
    state: Mapped[str | None] = mapped_column(String(255), nullable=True)
    data: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON object
    updated_at: Mapped[datetime] = _updated_at()

    def __repr__(self) -> str:
        return f"ConversationState(key={self.key!r}, state={self.state!r})"


class ApiKey(Base):
    """Extension (0007): an HTTP API key, stored as the SHA-256 of the key, never the key."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    prefix: Mapped[str] = mapped_column(String(16), nullable=False, unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    scopes: Mapped[str] = mapped_column(String(100), nullable=False)  # space-separated
    created_at: Mapped[datetime] = _created_at()
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    def __repr__(self) -> str:
        return f"ApiKey(id={self.id!r}, name={self.name!r}, prefix={self.prefix!r})"


LANGUAGE_LENGTH = 8


class ModuleTranslation(Base):
    """Extension (0016): a module's texts in a language other than its course's own (the
    ``modules`` row holds that one)."""

    __tablename__ = "module_translations"

    module_id: Mapped[int] = mapped_column(
        ForeignKey("modules.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    language: Mapped[str] = mapped_column(String(LANGUAGE_LENGTH), primary_key=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)


class LessonTranslation(Base):
    """Extension (0016): a lesson's texts, and its challenge's, in another language;
    ``answers`` and ``options`` are JSON lists of strings, as in ``lesson_challenges``."""

    __tablename__ = "lesson_translations"

    lesson_id: Mapped[int] = mapped_column(
        ForeignKey("lessons.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    language: Mapped[str] = mapped_column(String(LANGUAGE_LENGTH), primary_key=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    content: Mapped[str | None] = mapped_column(Text, nullable=True)
    question: Mapped[str | None] = mapped_column(Text, nullable=True)
    answers: Mapped[str | None] = mapped_column(Text, nullable=True)
    options: Mapped[str | None] = mapped_column(Text, nullable=True)


class AchievementTranslation(Base):
    """Extension (0016): an achievement's title and description in another language than its
    rule document's own (the ``achievements`` row holds that one)."""

    __tablename__ = "achievement_translations"

    achievement_id: Mapped[int] = mapped_column(
        ForeignKey("achievements.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    language: Mapped[str] = mapped_column(String(LANGUAGE_LENGTH), primary_key=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)


class CatalogVersion(Base):
    """Extension (0020): a counter that every change of the rules or the course moves, in
    the changing transaction; engines in other processes reload when it moved."""

    __tablename__ = "catalog_versions"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
