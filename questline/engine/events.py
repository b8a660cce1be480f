"""What enters the engine: learner activity events and Telegram-style user profiles."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    field_validator,
    model_validator,
)

from questline.engine.idempotency import MAX_KEY_LENGTH, key_problem
from questline.engine.limits import (
    BIGINT_MAX,
    EARLIEST,
    INT_MAX,
    LATEST,
    MAX_DETAILS_BYTES,
    MAX_DETAILS_DEPTH,
)
from questline.plain_errors import shortened
from questline.rules.parsing import TreeError, check_tree
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
# occurred_at in JSON Schema: years 1000 to 9999 without the two days at each end, so that a
# time of any UTC offset the pattern lets through lies within EARLIEST and LATEST
OCCURRED_AT_PATTERN = r"^(?!1000-01-0[12]|9999-12-3[01])[1-9][0-9]{3}-"
JSON_INT_MAX = 2**53 - 1


def _no_text_or_truth(value: Any) -> Any:
    """Refuse what pydantic would otherwise turn into an integer but JSON Schema's `integer`
    does not allow: a string such as "42", and true or false (42.0 stays an integer)."""
    if isinstance(value, bool):
        raise ValueError(f"must be an integer, not {str(value).lower()}")
    if isinstance(value, str):
        raise ValueError(f"must be an integer, not the string {shortened(value)!r}")
    return value


JsonInteger = BeforeValidator(_no_text_or_truth)
"""An `int` field's validator, for integers that arrive as JSON."""
# idempotency_key in JSON Schema: the grammar of questline.engine.idempotency.key_problem
KEY_SCHEMA = {
    "minLength": 1,
    "maxLength": MAX_KEY_LENGTH,
    "pattern": r"^[^\u0000-\u001f\u007f-\u009f\u2028\u2029]+$",
}


def _given(field: str, *absent: str) -> dict[str, Any]:
    """JSON Schema: `field` holds an integer; each of `absent` is left out or null."""
    properties = {field: {"type": "integer"}} | {name: {"type": "null"} for name in absent}
    return {"required": [field], "properties": properties}


def _absent(field: str) -> dict[str, Any]:
    """JSON Schema: `field` is left out or null."""
    return {"properties": {field: {"type": "null"}}}


def _event_schema(schema: dict[str, Any]) -> None:
    """State the rules of `Event._consistent` in its JSON Schema, so that clients and
    property-based tests know which events are valid without trying them.

    In JSON, `telegram_id` stops at 2^53 - 1, the largest integer every JSON reader holds
    exactly (Telegram ids fit); past it a number may arrive rounded, even above BIGINT_MAX.
    """
    schema["properties"]["telegram_id"]["anyOf"][0]["maximum"] = JSON_INT_MAX
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
        {"properties": {"details": {"not": {"required": ["score"]}}}},
    ]


ENGINE_ONLY = frozenset({ActivityType.ACHIEVEMENT_EARNED})
"""Activity types the engine writes itself; no caller may send them."""


class Event(BaseModel):
    """One thing a learner did. Identify the learner by `user_id` or by `telegram_id`.

    Every field is checked here against what the database can hold (see
    :mod:`questline.engine.limits`), so a bad value is refused the same way on every database.
    Numbers are taken as the JSON Schema types them: 42 and 42.0 are integers, a string such as
    "42" and a boolean are not.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_extra=_event_schema)

    type: ActivityType
    user_id: Annotated[int | None, JsonInteger] = Field(default=None, ge=1, le=INT_MAX)
    telegram_id: Annotated[int | None, JsonInteger] = Field(default=None, ge=1, le=BIGINT_MAX)
    lesson_id: Annotated[int | None, JsonInteger] = Field(default=None, ge=1, le=INT_MAX)
    score: Annotated[int | None, JsonInteger] = Field(default=None, ge=0, le=MAX_SCORE)
    details: dict[str, JsonValue] = Field(default_factory=dict)
    occurred_at: datetime = Field(
        default_factory=lambda: datetime.now(UTC),
        json_schema_extra={"pattern": OCCURRED_AT_PATTERN},
    )
    idempotency_key: str | None = Field(default=None, json_schema_extra=KEY_SCHEMA)

    @field_validator("type", mode="before")
    @classmethod
    def _known_type(cls, value: Any) -> Any:
        """An unknown type is told the types a caller may send (not ACHIEVEMENT_EARNED)."""
        if isinstance(value, str) and value in set(ActivityType):
            return value
        shown = json.dumps(value, ensure_ascii=False, default=str)
        sendable = ", ".join(kind for kind in ActivityType if kind not in ENGINE_ONLY)
        raise ValueError(f"unknown event type {shortened(shown)}; one of {sendable}")

    @field_validator("type")
    @classmethod
    def _not_engine_only(cls, value: ActivityType) -> ActivityType:
        if value in ENGINE_ONLY:
            raise ValueError(f"{value} is written only by the engine")
        return value

    @field_validator("occurred_at", mode="before")
    @classmethod
    def _moment_not_number(cls, value: Any) -> Any:
        if isinstance(value, int | float):
            raise ValueError(
                f"occurred_at must be an ISO 8601 time with a UTC offset, not the number {value}"
            )
        return value

    @field_validator("occurred_at")
    @classmethod
    def _timezone_aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("occurred_at must include a time zone, e.g. 2026-03-01T09:00:00+01:00")
        if not EARLIEST <= value <= LATEST:
            raise ValueError(f"must lie between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d} (UTC)")
        return value.astimezone(UTC)

    @field_validator("details", mode="before")
    @classmethod
    def _json_details(cls, value: Any) -> Any:
        try:
            check_tree(value, MAX_DETAILS_DEPTH)
        except TreeError as error:
            where = f"at {error.pointer}: " if error.pointer else ""
            raise ValueError(f"{where}{error.problem}") from None
        return value

    @field_validator("details")
    @classmethod
    def _no_score_in_details(cls, value: dict[str, JsonValue]) -> dict[str, JsonValue]:
        if "score" in value:
            raise ValueError('"score" goes in the event\'s score field, not in details')
        return value

    @field_validator("details")
    @classmethod
    def _small_details(cls, value: dict[str, JsonValue]) -> dict[str, JsonValue]:
        compact = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        size = len(compact.encode("utf-8"))
        if size > MAX_DETAILS_BYTES:
            raise ValueError(f"{size} bytes of JSON; the limit is {MAX_DETAILS_BYTES} bytes")
        return value

    @field_validator("idempotency_key")
    @classmethod
    def _valid_key(cls, value: str | None) -> str | None:
        problem = None if value is None else key_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

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


NAME_LENGTH = 100
"""Characters of a username, first or last name the users table holds."""
LANGUAGE_LENGTH = 10


class UserProfile(BaseModel):
    """A learner as Telegram describes them; registering twice updates the profile."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    telegram_id: int = Field(ge=1, le=BIGINT_MAX)
    username: str | None = Field(default=None, max_length=NAME_LENGTH)
    first_name: str | None = Field(default=None, max_length=NAME_LENGTH)
    last_name: str | None = Field(default=None, max_length=NAME_LENGTH)
    language_code: str | None = Field(default=None, max_length=LANGUAGE_LENGTH)
