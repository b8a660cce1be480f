"""RFC 9457 problem details: one stable `type` URI and one status per kind of error."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from questline.adapters.http.methods import allowed_methods
from questline.engine import EventRejected
from questline.engine.errors import (
    IdempotencyKeyReused,
    InvalidEvent,
    NoChallenge,
    QuestlineError,
    RulesError,
    ScoreMismatch,
    UnknownLesson,
    UnknownModule,
    UnknownUser,
    UnpublishedLesson,
    UnpublishedModule,
)
from questline.plain_errors import plain_message
from questline.rules.analysis import escape_pointer

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "urn:questline:problem:"


@dataclass(frozen=True)
class Kind:
    """One kind of error: its `type` URI is TYPE_BASE + slug."""

    slug: str
    status: int
    title: str

    @property
    def uri(self) -> str:
        return TYPE_BASE + self.slug


MALFORMED_JSON = Kind("malformed-json", 400, "The body is not valid JSON")
KEY_MISMATCH = Kind("idempotency-key-mismatch", 400, "Idempotency keys differ")
UNAUTHORIZED = Kind("unauthorized", 401, "A valid API key is required")
FORBIDDEN = Kind("forbidden", 403, "The API key lacks the scope this route needs")
NOT_FOUND = Kind("not-found", 404, "No such route")
UNKNOWN_LEARNER = Kind("unknown-learner", 404, "Unknown learner")
UNKNOWN_LESSON = Kind("unknown-lesson", 404, "Unknown lesson or module")
UNKNOWN_RULE = Kind("unknown-rule", 404, "Unknown achievement")
METHOD_NOT_ALLOWED = Kind("method-not-allowed", 405, "Method not allowed on this route")
UNPUBLISHED_LESSON = Kind("unpublished-lesson", 409, "The lesson or its module is not published")
KEY_REUSED = Kind("key-reused", 409, "The idempotency key was used for another event")
COURSE_CONFLICT = Kind("course-conflict", 409, "The event disagrees with the course")
BODY_TOO_LARGE = Kind("body-too-large", 413, "The request body is too large")
UNSUPPORTED_MEDIA_TYPE = Kind("unsupported-media-type", 415, "The body must be application/json")
VALIDATION = Kind("validation-error", 422, "The request does not validate")
INVALID_EVENT = Kind("invalid-event", 422, "The event cannot be recorded")
INVALID_RULE = Kind("invalid-rule", 422, "The rule document does not validate")
INVALID_REQUEST = Kind("invalid-request", 422, "The request cannot be carried out")
RATE_LIMITED = Kind("rate-limited", 429, "Too many requests for this API key")
INTERNAL = Kind("internal-error", 500, "Internal error")
NOT_READY = Kind("not-ready", 503, "The service is not ready")
NOT_QUEUED = Kind("not-queued", 503, "The event could not be queued; send it again")
RETRY_AFTER_SECONDS = 5
DATABASE_UNAVAILABLE = Kind("database-unavailable", 503, "The database did not answer; try again")

KINDS: tuple[Kind, ...] = (
    MALFORMED_JSON,
    KEY_MISMATCH,
    UNAUTHORIZED,
    FORBIDDEN,
    NOT_FOUND,
    UNKNOWN_LEARNER,
    UNKNOWN_LESSON,
    UNKNOWN_RULE,
    METHOD_NOT_ALLOWED,
    UNPUBLISHED_LESSON,
    KEY_REUSED,
    COURSE_CONFLICT,
    BODY_TOO_LARGE,
    UNSUPPORTED_MEDIA_TYPE,
    VALIDATION,
    INVALID_EVENT,
    INVALID_RULE,
    INVALID_REQUEST,
    RATE_LIMITED,
    INTERNAL,
    NOT_READY,
    NOT_QUEUED,
    DATABASE_UNAVAILABLE,
)

# Most specific first: the first class an error is an instance of decides its kind.
ENGINE_ERRORS: tuple[tuple[type[QuestlineError], Kind], ...] = (
    (UnknownUser, UNKNOWN_LEARNER),
    (UnknownLesson, UNKNOWN_LESSON),
    (UnknownModule, UNKNOWN_LESSON),
    (UnpublishedLesson, UNPUBLISHED_LESSON),
    (UnpublishedModule, UNPUBLISHED_LESSON),
    (IdempotencyKeyReused, KEY_REUSED),
    (ScoreMismatch, COURSE_CONFLICT),
    (NoChallenge, COURSE_CONFLICT),
    (InvalidEvent, INVALID_EVENT),
    (RulesError, INVALID_RULE),
    (QuestlineError, INVALID_REQUEST),
)
HTTP_STATUSES = {
    400: MALFORMED_JSON,  # a body that is not even text
    404: NOT_FOUND,
    405: METHOD_NOT_ALLOWED,
    413: BODY_TOO_LARGE,
}


class FieldError(BaseModel):
    """One invalid part of the request: a body field by its RFC 6901 JSON pointer, or a
    path, query or header parameter by name."""

    detail: str
    pointer: str | None = Field(default=None, description="JSON pointer into the body")
    parameter: str | None = Field(default=None, description="a path, query or header parameter")


class ProblemDetails(BaseModel):
    """An RFC 9457 problem; `errors` lists invalid fields, `index` the rejected batch event."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] | None = None
    index: int | None = None


class Problem(Exception):
    """Raised by routes and dependencies; rendered as problem+json."""

    def __init__(
        self,
        kind: Kind,
        detail: str,
        *,
        errors: Sequence[FieldError] | None = None,
        index: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.errors = list(errors) if errors is not None else None
        self.index = index
        self.headers = headers


def database_unavailable(reason: str = "the database did not answer") -> Problem:
    """The database failed (away, restarting, locked, out of connections, not answering).
    Every write is one transaction, but one cut off while it committed may have committed:
    sent again with the same idempotency key, it is never recorded twice."""
    return Problem(
        DATABASE_UNAVAILABLE,
        f"{reason}; send the request again (a write sent again with the same Idempotency-Key "
        "is recorded once; without a key, one cut off while committing may have been recorded)",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def kind_of(error: QuestlineError) -> Kind:
    return next(kind for cls, kind in ENGINE_ERRORS if isinstance(error, cls))


def from_engine(error: QuestlineError) -> Problem:
    """The problem an engine error is; a rejected batch event keeps its index."""
    if isinstance(error, EventRejected):
        inner = error.error
        kind = kind_of(inner) if isinstance(inner, QuestlineError) else INVALID_EVENT
        return Problem(kind, f"event {error.index}: {inner}", index=error.index)
    return Problem(kind_of(error), str(error))


def render(problem: Problem, request: Request) -> JSONResponse:
    body = ProblemDetails(
        type=problem.kind.uri,
        title=problem.kind.title,
        status=problem.kind.status,
        detail=problem.detail,
        instance=request.url.path,
        errors=problem.errors,
        index=problem.index,
    )
    return JSONResponse(
        jsonable_encoder(body, exclude_none=True),
        status_code=problem.kind.status,
        media_type=MEDIA_TYPE,
        headers=problem.headers,
    )


def pointer(loc: Sequence[str | int]) -> str:
    return "".join(f"/{escape_pointer(part)}" for part in loc)


def _field_error(error: dict[str, Any]) -> FieldError:
    location, *path = error["loc"] or ("body",)
    message = plain_message(error)
    if location == "body":
        return FieldError(detail=message, pointer=pointer(path))
    return FieldError(detail=message, parameter=".".join(str(part) for part in path))


def from_validation(error: RequestValidationError) -> Problem:
    details = list(error.errors())
    for item in details:
        if item.get("type") == "json_invalid":
            position = item["loc"][-1] if len(item["loc"]) > 1 else 0
            reason = (item.get("ctx") or {}).get("error", "JSON decode error")
            return Problem(MALFORMED_JSON, f"invalid JSON at character {position}: {reason}")
    errors = [_field_error(item) for item in details]
    summary = "; ".join(
        f"{e.parameter if e.pointer is None else e.pointer or '/'}: {e.detail}" for e in errors[:5]
    )
    return Problem(VALIDATION, summary, errors=errors)


def from_http(error: StarletteHTTPException, request: Request) -> Problem:
    kind = HTTP_STATUSES.get(error.status_code, INTERNAL)
    headers = dict(error.headers) if error.headers else None
    if kind is METHOD_NOT_ALLOWED:  # the route's own Allow names only its own methods
        headers = {"Allow": ", ".join(allowed_methods(request.scope))}
    detail = {
        NOT_FOUND: f"no route at {request.url.path}",
        METHOD_NOT_ALLOWED: f"{request.method} is not allowed on {request.url.path}",
        MALFORMED_JSON: _unreadable(error),
    }.get(kind, str(error.detail))
    return Problem(kind, detail, headers=headers)


def _unreadable(error: Exception) -> str:
    """Why parsing failed, when the parser said (a byte that is not UTF-8, an integer longer
    than Python reads: 4,300 digits, arrays or objects nested too deep to read)."""
    cause = error.__cause__
    if isinstance(cause, RecursionError):
        return "the body nests arrays or objects too deeply to be read"
    reason = f": {str(cause).splitlines()[0]}" if cause is not None and str(cause) else ""
    return "the body could not be read as UTF-8 JSON" + reason
