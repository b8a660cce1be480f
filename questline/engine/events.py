"""What enters the engine: learner activity events and Telegram-style user profiles."""

from __future__ import annotations

import json
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
MAX_ID = 2**53 - 1  # the largest integer every JSON reader holds exactly (Telegram ids fit)
# Times the database stores and the streak arithmetic can step past by a day, in UTC. The
# pattern below states the same range in local times of any offset, for JSON Schema readers.
EARLIEST = datetime(1000, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)
OCCURRED_AT_PATTERN = r"^(?!1000-|999[89]-)[1-9][0-9]{3}-"


def _given(field: str, *absent: str) -> dict[str, Any]:
    """JSON Schema: `field` holds an integer; each of `absent` is left out or null."""
    properties = {field: {"type": "integer"}} | {name: {"type": "null"} for name in absent}
    return {"required": [field], "properties": properties}


def _absent(field: str) -> dict[str, Any]:
    """JSON Schema: `field` is left out or null."""
    return {"properties": {field: {"type": "null"}}}


def _event_schema(schema: dict[str, Any]) -> None:
    """State the rules of `Event._consistent` in its JSON Schema, so that clients and
    property-based tests know which events are valid without trying them."""
    lesson_types = sorted(LESSON_ACTIVITIES)
    unscored_types = sorted(set(ActivityType) - SCORED_ACTIVITIES)
    schema["allOf"] = [
        {"properties": {"type": {"not": {"const": ActivityType.ACHIEVEMENT_EARNED}}}},
        {"oneOf": [_given("user_id", "telegram_id"), _given("telegram_id", "user_id")]},
        {
            "if": {"properties": {"type": {"enum": lesson_types}}},
            "then": _given("lesson_id"),
            "else": _absent("lesson_id"),
        },
        {"if": {"properties": {"type": {"enum": unscored_types}}}, "then": _absent("score")},
    ]


def _unicode(value: Any) -> Any:
    """`value` unchanged if it is JSON data whose text is valid Unicode (JSON allows unpaired
    surrogates such as "\\ud800", which no database can store; pydantic refuses them in `str`
    fields, not inside a free-form dict)."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (it holds an unpaired surrogate)") from None
    except (TypeError, ValueError):
        raise ValueError("must be JSON data") from None
    return value


class Event(BaseModel):
    """One thing a learner did. Identify the learner by `user_id` or by `telegram_id`."""

    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_extra=_event_schema)

    type: ActivityType
    user_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    telegram_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    lesson_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    score: int | None = Field(default=None, ge=0, le=MAX_SCORE)
    details: dict[str, Any] = Field(default_factory=dict)
    occurred_at: datetime = Field(
        default_factory=lambda: datetime.now(UTC),
        json_schema_extra={"pattern": OCCURRED_AT_PATTERN},
    )
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=100)

    @field_validator("details")
    @classmethod
    def _valid_text(cls, value: Any) -> Any:
        return _unicode(value)

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
