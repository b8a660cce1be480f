"""The API's public shapes. Requests reuse the engine's models; responses are explicit here so
that a change inside the engine never changes the API by accident."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from annotated_types import Interval
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, JsonValue

from questline.adapters.http.settings import MAX_BATCH
from questline.engine import Event as EngineEvent
from questline.engine.events import JSON_INT_MAX, JsonInteger
from questline.engine.models import ProgressStatus
from questline.engine.printable import unprintable
from questline.engine.views import (
    AchievementStatus,
    AwardView,
    LeaderboardEntry,
    ProgressReport,
    RecordResult,
    UserView,
)

TELEGRAM_IDS = Interval(ge=1, le=JSON_INT_MAX)
"""Every Telegram id the API takes is 1 to 2^53 - 1, the largest integer every JSON reader
holds exactly (Telegram ids fit); the engine itself takes up to BIGINT."""

TelegramId = Annotated[int, TELEGRAM_IDS, JsonInteger]
"""A Telegram id in a request body."""


def _digits(value: Any) -> Any:
    """A Telegram id in a path or query is written in digits: "1.0" or "+1" is not one."""
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise ValueError(f"must be written in digits 0-9, not {value!r}")
    return value


TelegramIdParam = Annotated[int, TELEGRAM_IDS, BeforeValidator(_digits)]
"""A Telegram id as a path or query parameter."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- requests --------------------------------------------------------------------------------


class Event(EngineEvent):
    """One thing a learner did. Identify the learner by `user_id` or by `telegram_id` (at
    most 2^53 - 1, as everywhere in the API). Numbers are taken as the JSON Schema types
    them: 42 and 42.0 are integers, a string such as "42" and a boolean are not."""

    telegram_id: TelegramId | None = None


class EventBatch(Strict):
    events: list[Event] = Field(min_length=1, max_length=MAX_BATCH)


def _printable(text: str | None) -> str | None:
    if problem := unprintable(text):
        raise ValueError(problem)
    return text


# what `_printable` checks, told to clients (lone surrogates are no JSON Schema can name)
PRINTABLE = r"^[^\u0000-\u001f\u007f-\u009f\u2028\u2029]*$"
Name = Annotated[
    str | None,
    Field(max_length=100, json_schema_extra={"pattern": PRINTABLE}),
    AfterValidator(_printable),
]


class LearnerUpdate(Strict):
    """A learner's profile; fields left out are cleared, as Telegram reports them."""

    username: Name = None
    first_name: Name = None
    last_name: Name = None
    language_code: Annotated[
        str | None,
        Field(max_length=10, json_schema_extra={"pattern": PRINTABLE}),
        AfterValidator(_printable),
    ] = None


class ExplainRequest(Strict):
    slug: str = Field(min_length=1, max_length=100)
    telegram_id: TelegramId = Field(description="The learner's Telegram id")


# -- responses -------------------------------------------------------------------------------


class Award(BaseModel):
    slug: str
    title: str
    description: str | None
    icon: str | None
    points: int
    earned_at: datetime
    user_id: int
    telegram_id: int

    @classmethod
    def of(cls, view: AwardView) -> Award:
        return cls.model_validate(view, from_attributes=True)


class Recorded(BaseModel):
    """What recording an event did; `replayed` is true when its idempotency key was seen;
    `already_solved` when it solves a challenge the learner had solved: nothing was written,
    and `activity_id` is the first solve's."""

    activity_id: int
    replayed: bool
    already_solved: bool
    awards: list[Award]

    @classmethod
    def of(cls, result: RecordResult) -> Recorded:
        return cls(
            activity_id=result.activity_id,
            replayed=result.replayed,
            already_solved=result.already_solved,
            awards=[Award.of(award) for award in result.awards],
        )


class Queued(BaseModel):
    """An event accepted by NATS JetStream (when QUESTLINE_NATS_URL is set); a worker records
    it. `duplicate` is true when the same event was queued before."""

    idempotency_key: str
    stream: str
    sequence: int
    duplicate: bool


class BatchRecorded(BaseModel):
    results: list[Recorded]


class BatchQueued(BaseModel):
    """Every event of a batch accepted by NATS JetStream, in the batch's order."""

    queued: list[Queued]


class Learner(BaseModel):
    id: int
    telegram_id: int
    username: str | None
    first_name: str | None
    last_name: str | None
    language_code: str | None
    display_name: str

    @classmethod
    def of(cls, view: UserView) -> Learner:
        return cls.model_validate(view, from_attributes=True)


class LessonStatus(BaseModel):
    lesson_id: int
    title: str
    status: ProgressStatus
    score: int | None
    attempts: int


class ModuleStatus(BaseModel):
    module_id: int
    title: str
    completed: int
    total: int
    lessons: list[LessonStatus]


class Progress(BaseModel):
    learner: Learner
    modules: list[ModuleStatus]
    lessons_completed: int
    total_score: int
    points: int
    streak_current: int
    streak_longest: int
    streak_freezes: int = Field(description="Streak freezes the learner holds.")

    @classmethod
    def of(cls, report: ProgressReport) -> Progress:
        return cls(
            learner=Learner.of(report.user),
            modules=[
                ModuleStatus(
                    module_id=item.module.id,
                    title=item.module.title,
                    completed=item.completed,
                    total=item.total,
                    lessons=[
                        LessonStatus(
                            lesson_id=lesson.lesson.id,
                            title=lesson.lesson.title,
                            status=lesson.status,
                            score=lesson.score,
                            attempts=lesson.attempts,
                        )
                        for lesson in item.lessons
                    ],
                )
                for item in report.modules
            ],
            lessons_completed=report.lessons_completed,
            total_score=report.total_score,
            points=report.points,
            streak_current=report.streak_current,
            streak_longest=report.streak_longest,
            streak_freezes=report.streak_freezes,
        )


class ProgressPart(BaseModel):
    fact: str
    current: int | float
    target: int | float
    satisfied: bool


class Shortfall(BaseModel):
    kind: Literal["threshold", "exact", "condition", "error"]
    text: str
    fact: str | None
    current: JsonValue = None
    target: JsonValue = None


class AchievementState(BaseModel):
    """An achievement from one learner's side: earned (with the date) or locked (how far)."""

    slug: str
    title: str
    description: str | None
    icon: str | None
    points: int
    earned: bool
    earned_at: datetime | None
    ratio: float | None = Field(description="progress towards a threshold rule, 0 to 1")
    parts: list[ProgressPart]
    shortfalls: list[Shortfall]
    explanation: str | None

    @classmethod
    def of(cls, status: AchievementStatus) -> AchievementState:
        progress = status.progress
        return cls(
            slug=status.slug,
            title=status.title,
            description=status.description,
            icon=status.icon,
            points=status.points,
            earned=status.earned_at is not None,
            earned_at=status.earned_at,
            ratio=progress.ratio if progress is not None else None,
            parts=[
                ProgressPart(
                    fact=part.fact,
                    current=part.current,
                    target=part.target,
                    satisfied=part.satisfied,
                )
                for part in (progress.parts if progress is not None else ())
            ],
            shortfalls=[
                Shortfall(
                    kind=item.kind,
                    text=item.text,
                    fact=item.fact,
                    current=_json(item.current),
                    target=_json(item.target),
                )
                for item in status.shortfalls
            ],
            explanation=status.explanation,
        )


def _json(value: Any) -> JsonValue:
    """A fact's value as JSON (a missing fact, or anything else not JSON, becomes null)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_json(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _json(item) for key, item in value.items()}
    return None


class Standing(BaseModel):
    rank: int
    user_id: int
    telegram_id: int
    display_name: str
    total_score: int
    lessons_completed: int
    achievements_count: int

    @classmethod
    def of(cls, entry: LeaderboardEntry) -> Standing:
        return cls.model_validate(entry, from_attributes=True)


class Leaderboard(BaseModel):
    entries: list[Standing]


class Rank(BaseModel):
    """A learner's place; `standing` is null until they have any score on the board."""

    telegram_id: int
    standing: Standing | None


class RuleFinding(BaseModel):
    pointer: str
    message: str
    severity: Literal["error", "warning"]


class RuleValidation(BaseModel):
    valid: bool
    problems: list[RuleFinding]


class Preview(BaseModel):
    slug: str
    qualifying: int
    learners: list[Learner] = Field(description="the first qualifying learners, up to `limit`")


class Health(BaseModel):
    status: Literal["ok"]
