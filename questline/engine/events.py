"""What enters the engine: learner activity events and Telegram-style user profiles."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from questline.rules.vocabulary import ActivityType

LESSON_ACTIVITIES = frozenset(
    {
        ActivityType.LESSON_STARTED,
        ActivityType.LESSON_COMPLETED,
        ActivityType.CHALLENGE_ATTEMPTED,
        ActivityType.CHALLENGE_SOLVED,
    }
)
SCORED_ACTIVITIES = frozenset({ActivityType.LESSON_COMPLETED, ActivityType.CHALLENGE_SOLVED})
MAX_SCORE = 1_000_000
MAX_ID = 2**63 - 1  # the widest id column (BIGINT)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


class Event(BaseModel):
    """One thing a learner did. Identify the learner by `user_id` or by `telegram_id`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: ActivityType
    user_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    telegram_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    lesson_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    score: int | None = Field(default=None, ge=0, le=MAX_SCORE)
    details: dict[str, Any] = Field(default_factory=dict)
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=100)

    @field_validator("type")
    @classmethod
    def _not_engine_only(cls, value: ActivityType) -> ActivityType:
        if value is ActivityType.ACHIEVEMENT_EARNED:
            raise ValueError("ACHIEVEMENT_EARNED is written only by the engine")
        return value

    @field_validator("occurred_at")
    @classmethod
    def _timezone_aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("occurred_at must be timezone-aware")
        try:
            moment = value.astimezone(UTC)
        except OverflowError:
            moment = None
        if moment is None or not EARLIEST <= moment < LATEST:
            raise ValueError(
                f"occurred_at must be from {EARLIEST.date()} up to {LATEST.date()} (UTC)"
            )
        return moment

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.user_id is None) == (self.telegram_id is None):
            raise ValueError("give exactly one of user_id and telegram_id")
        if self.type in LESSON_ACTIVITIES and self.lesson_id is None:
            raise ValueError(f"{self.type} needs a lesson_id")
        if self.type not in LESSON_ACTIVITIES and self.lesson_id is not None:
            raise ValueError(f"{self.type} takes no lesson_id")
        if self.score is not None and self.type not in SCORED_ACTIVITIES:
            raise ValueError(f"{self.type} takes no score")
        return self


class UserProfile(BaseModel):
    """A learner as Telegram describes them; registering twice updates the profile."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    telegram_id: int = Field(gt=0, le=MAX_ID)
    username: str | None = Field(default=None, max_length=100)
    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    language_code: str | None = Field(default=None, max_length=10)
