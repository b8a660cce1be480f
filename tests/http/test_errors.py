"""Every bad input gets application/problem+json of its own stable type, and writes nothing."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Callable

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.adapters.http import problems
from questline.adapters.http.app import create_app
from questline.adapters.http.settings import (
    DEFAULT_REQUEST_TIMEOUT,
    RATE_LIMIT_ENV,
    REQUEST_TIMEOUT_ENV,
    HttpSettings,
    SettingsError,
)
from questline.engine import Engine, EventRejected
from questline.engine.db import create_engine, database_unreachable, is_mysql
from questline.engine.errors import ContentError, InvalidEvent, NoChallenge, UnknownUser
from questline.engine.views import LessonView
from tests.engine.conftest import T0, row_counts
from tests.http.conftest import BASE, Keys, assert_problem, bearer


def login(telegram_id: int, **extra: object) -> dict:
    return {"type": "LOGIN", "telegram_id": telegram_id, "occurred_at": T0.isoformat(), **extra}


@pytest.fixture
def writer(keys: Keys) -> dict[str, str]:
    return bearer(keys.writer)


async def test_malformed_json(client: AsyncClient, writer: dict, db: AsyncEngine) -> None:
    before = await row_counts(db)
    response = await client.post(
        "/v1/events",
        content=b'{"type": "LOGIN", "telegram_id": 1,',
        headers={**writer, "Content-Type": "application/json"},
    )
    body = assert_problem(response, 400, "malformed-json")
    assert body["detail"].startswith("invalid JSON at character 35")
    assert body["instance"] == "/v1/events"
    assert await row_counts(db) == before


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"type": "LOGIN", "telegram_id": 1\xff}', "'utf-8' codec can't decode byte 0xff"),
        (b'{"type": "LOGIN", "telegram_id": ' + b"9" * 5000 + b"}", "Exceeds the limit (4300"),
    ],
    ids=["not-utf-8", "a-5000-digit-number"],
)
async def test_a_body_json_cannot_read_says_why(
    client: AsyncClient, writer: dict, db: AsyncEngine, content: bytes, reason: str
) -> None:
    before = await row_counts(db)
    response = await client.post(
        "/v1/events", content=content, headers={**writer, "Content-Type": "application/json"}
    )
    body = assert_problem(response, 400, "malformed-json")
    assert body["detail"].startswith("the body could not be read as UTF-8 JSON: " + reason)
    assert await row_counts(db) == before


async def test_a_body_nested_too_deep_to_read_says_so(
    client: AsyncClient, writer: dict, db: AsyncEngine
) -> None:
    before = await row_counts(db)
    nested = b"[" * 5000 + b"]" * 5000
    response = await client.post(
        "/v1/events",
        content=b'{"type": "LOGIN", "telegram_id": 1, "details": {"a": ' + nested + b"}}",
        headers={**writer, "Content-Type": "application/json"},
    )
    body = assert_problem(response, 400, "malformed-json")
    assert body["detail"] == "the body nests arrays or objects too deeply to be read"
    assert await row_counts(db) == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/events"),
        ("POST", "/v1/events:batch"),
        ("PUT", "/v1/learners/1001"),
        ("POST", "/v1/rules:validate"),
        ("POST", "/v1/rules:explain"),
    ],
)
async def test_an_empty_body_is_malformed_json(
    client: AsyncClient, keys: Keys, db: AsyncEngine, method: str, path: str
) -> None:
    before = await row_counts(db)
    response = await client.request(
        method,
        path,
        content=b"",
        headers={**bearer(keys.admin), "Content-Type": "application/json"},
    )
    body = assert_problem(response, 400, "malformed-json")
    assert body["detail"] == "the body is empty; send a JSON document"
    assert await row_counts(db) == before


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
async def test_wrong_content_type(
    client: AsyncClient, writer: dict, learner: int, content_type: str | None
) -> None:
    headers = dict(writer)
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = await client.post(
        "/v1/events", content=b'{"type": "LOGIN", "telegram_id": 1001}', headers=headers
    )
    body = assert_problem(response, 415, "unsupported-media-type")
    assert f"(got {content_type or 'none'})" in body["detail"]


async def test_oversized_body_with_a_declared_length(
    client: AsyncClient, writer: dict, settings: HttpSettings
) -> None:
    payload = b'{"events": [' + b" " * settings.max_body_bytes + b"]}"
    response = await client.post(
        "/v1/events:batch",
        content=payload,
        headers={**writer, "Content-Type": "application/json"},
    )
    body = assert_problem(response, 413, "body-too-large")
    assert f"takes {settings.max_body_bytes}" in body["detail"]


async def test_oversized_body_streamed_without_a_length(
    client: AsyncClient, writer: dict, settings: HttpSettings
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"events": ['
        for _ in range(settings.max_body_bytes // 1024 + 1):
            yield b" " * 1024
        yield b"]}"

    response = await client.post(
        "/v1/events:batch",
        content=chunks(),
        headers={**writer, "Content-Type": "application/json"},
    )
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "body-too-large")


async def test_batch_of_1001_events(client: AsyncClient, writer: dict, learner: int) -> None:
    response = await client.post(
        "/v1/events:batch", json={"events": [login(learner)] * 1001}, headers=writer
    )
    body = assert_problem(response, 422, "validation-error")
    assert body["errors"][0]["pointer"] == "/events"
    assert "at most 1000" in body["errors"][0]["detail"]


async def test_naive_timestamp(client: AsyncClient, writer: dict, learner: int) -> None:
    response = await client.post(
        "/v1/events", json=login(learner, occurred_at="2026-03-02T09:00:00"), headers=writer
    )
    body = assert_problem(response, 422, "validation-error")
    assert body["errors"] == [
        {
            "pointer": "/occurred_at",
            "detail": "occurred_at must include a time zone, e.g. 2026-03-01T09:00:00+01:00",
        }
    ]


async def test_integers_are_json_integers(client: AsyncClient, writer: dict, learner: int) -> None:
    """What the schema calls an integer: 42.0 is one, "42" and true are not."""
    for value, detail in (("42", "must be an integer, not the string '42'"), (True, "not true")):
        response = await client.post(
            "/v1/events", json={"type": "LOGIN", "telegram_id": value}, headers=writer
        )
        body = assert_problem(response, 422, "validation-error")
        assert body["errors"][0]["pointer"] == "/telegram_id"
        assert detail in body["errors"][0]["detail"]
    response = await client.post(
        "/v1/events", json={"type": "LOGIN", "telegram_id": float(learner)}, headers=writer
    )
    assert response.status_code == 201


async def test_invalid_field_inside_a_batch_is_pointed_at(
    client: AsyncClient, writer: dict, learner: int
) -> None:
    events = [login(learner), login(learner), login(learner, score=3)]
    response = await client.post("/v1/events:batch", json={"events": events}, headers=writer)
    body = assert_problem(response, 422, "validation-error")
    assert body["errors"][0]["pointer"] == "/events/2"
    assert "LOGIN takes no score" in body["errors"][0]["detail"]


async def test_header_key_conflicting_with_body_key(
    client: AsyncClient, writer: dict, learner: int, db: AsyncEngine
) -> None:
    before = await row_counts(db)
    response = await client.post(
        "/v1/events",
        json=login(learner, idempotency_key="from-body"),
        headers={**writer, "Idempotency-Key": "from-header"},
    )
    body = assert_problem(response, 400, "idempotency-key-mismatch")
    assert '"from-header"' in body["detail"] and '"from-body"' in body["detail"]
    assert await row_counts(db) == before


@pytest.mark.parametrize("path", ["/v1/events", "/v1/events:batch"])
async def test_two_idempotency_key_headers_that_differ_are_refused(
    client: AsyncClient, writer: dict, learner: int, db: AsyncEngine, path: str
) -> None:
    before = await row_counts(db)
    body = login(learner) if path == "/v1/events" else {"events": [login(learner)]}
    headers = [*writer.items(), ("Idempotency-Key", "m1"), ("Idempotency-Key", "m2")]
    response = await client.post(path, json=body, headers=headers)
    problem = assert_problem(response, 400, "idempotency-key-mismatch")
    assert problem["detail"] == (
        'send one Idempotency-Key header, a key without commas (got 2: "m1", "m2")'
    )
    for folded in ("m1, m2", "m1, m1", "m1,m1"):  # as a proxy joins two headers
        response = await client.post(path, json=body, headers={**writer, "Idempotency-Key": folded})
        assert_problem(response, 400, "idempotency-key-mismatch")
    assert await row_counts(db) == before
    repeated = [*writer.items(), ("Idempotency-Key", "m1"), ("Idempotency-Key", "m1")]
    recorded = await client.post(path, json=body, headers=repeated)
    assert recorded.status_code == (201 if path == "/v1/events" else 200), recorded.text


async def test_key_reused_for_another_event(
    client: AsyncClient, writer: dict, learner: int, lessons: list[LessonView]
) -> None:
    headers = {**writer, "Idempotency-Key": "k1"}
    assert (await client.post("/v1/events", json=login(learner), headers=headers)).is_success
    other = {"type": "LESSON_STARTED", "telegram_id": learner, "lesson_id": lessons[0].id}
    response = await client.post("/v1/events", json=other, headers=headers)
    body = assert_problem(response, 409, "key-reused")
    assert 'idempotency key "k1" was already used' in body["detail"]


async def test_a_profile_name_with_a_control_character_is_refused(
    client: AsyncClient, writer: dict, db: AsyncEngine
) -> None:
    before = await row_counts(db)
    response = await client.put("/v1/learners/77", json={"first_name": "a\u0000b"}, headers=writer)
    body = assert_problem(response, 422, "validation-error")
    assert body["errors"] == [
        {
            "pointer": "/first_name",
            "detail": "must not contain a control character (U+0000 at position 2)",
        }
    ]
    assert await row_counts(db) == before


async def test_unknown_learner(client: AsyncClient, writer: dict, keys: Keys) -> None:
    body = assert_problem(
        await client.post("/v1/events", json=login(999), headers=writer), 404, "unknown-learner"
    )
    assert "999" in body["detail"]
    for path in ("", "/progress", "/achievements", "/rank"):
        response = await client.get(f"/v1/learners/999{path}", headers=bearer(keys.reader))
        assert_problem(response, 404, "unknown-learner")
    response = await client.get("/v1/leaderboard?around=999", headers=bearer(keys.reader))
    assert_problem(response, 404, "unknown-learner")


async def test_unknown_and_unpublished_lessons(
    client: AsyncClient, writer: dict, learner: int, engine: Engine
) -> None:
    event = {"type": "LESSON_STARTED", "telegram_id": learner, "lesson_id": 4242}
    response = await client.post("/v1/events", json=event, headers=writer)
    assert_problem(response, 404, "unknown-lesson")
    hidden = next(m for m in await engine.modules(published_only=False) if not m.is_published)
    event["lesson_id"] = hidden.lessons[0].id
    response = await client.post("/v1/events", json=event, headers=writer)
    body = assert_problem(response, 409, "unpublished-lesson")
    assert "not published" in body["detail"]


async def test_a_solve_with_a_score_of_its_own_and_a_challenge_that_is_not_there(
    client: AsyncClient, writer: dict, learner: int, lessons: list[LessonView], db: AsyncEngine
) -> None:
    before = await row_counts(db)
    challenged = next(lesson for lesson in lessons if lesson.challenge)
    plain = next(lesson for lesson in lessons if lesson.challenge is None)
    solve = {"type": "CHALLENGE_SOLVED", "telegram_id": learner, "lesson_id": challenged.id}
    response = await client.post("/v1/events", json={**solve, "score": 500}, headers=writer)
    body = assert_problem(response, 409, "course-conflict")
    assert "worth" in body["detail"] and "not 500" in body["detail"]
    response = await client.post(
        "/v1/events", json={**solve, "lesson_id": plain.id}, headers=writer
    )
    body = assert_problem(response, 409, "course-conflict")
    assert body["detail"].endswith("has no challenge")
    assert await row_counts(db) == before


async def test_batch_rolls_back_and_names_the_bad_event(
    client: AsyncClient, writer: dict, learner: int, lessons: list[LessonView], db: AsyncEngine
) -> None:
    before = await row_counts(db)
    good = {"type": "LESSON_COMPLETED", "telegram_id": learner, "lesson_id": lessons[0].id}
    events = [good, login(learner), {**good, "lesson_id": 4242}, login(learner)]
    response = await client.post("/v1/events:batch", json={"events": events}, headers=writer)
    body = assert_problem(response, 404, "unknown-lesson")
    assert body["index"] == 2
    assert body["detail"].startswith("event 2: ")
    assert await row_counts(db) == before


async def test_unknown_route_and_method(client: AsyncClient, keys: Keys) -> None:
    body = assert_problem(
        await client.get("/v1/lessons", headers=bearer(keys.admin)), 404, "not-found"
    )
    assert body["detail"] == "no route at /v1/lessons"
    response = await client.delete("/v1/events", headers=bearer(keys.admin))
    body = assert_problem(response, 405, "method-not-allowed")
    assert body["detail"] == "DELETE is not allowed on /v1/events"
    assert response.headers["allow"] == "POST"


async def test_a_trailing_slash_is_a_route_that_does_not_exist(
    client: AsyncClient, keys: Keys
) -> None:
    """It was a bare 307 to the path without it, which a client following redirects obeys
    by sending the POST again."""
    for method, path in (("POST", "/v1/events/"), ("GET", "/v1/learners/42/")):
        response = await client.request(method, path, json={}, headers=bearer(keys.admin))
        assert assert_problem(response, 404, "not-found")["detail"] == f"no route at {path}"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/v1/learners/42", "GET, HEAD, PUT"),
        ("POST", "/v1/learners/42/rank", "GET, HEAD"),
        ("HEAD", "/v1/events", "POST"),
        ("GET", "/v1/rules:explain", "POST"),
    ],
)
async def test_allow_lists_every_method_of_the_path(
    client: AsyncClient, keys: Keys, method: str, path: str, allow: str
) -> None:
    response = await client.request(method, path, headers=bearer(keys.admin))
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    if method == "HEAD":
        assert response.content == b""
    else:
        body = assert_problem(response, 405, "method-not-allowed")
        assert body["detail"] == f"{method} is not allowed on {path}"


async def test_validation_of_path_and_query(client: AsyncClient, keys: Keys) -> None:
    response = await client.get("/v1/learners/abc", headers=bearer(keys.reader))
    body = assert_problem(response, 422, "validation-error")
    assert body["errors"][0]["parameter"] == "telegram_id"
    response = await client.get("/v1/leaderboard?limit=0", headers=bearer(keys.reader))
    assert assert_problem(response, 422, "validation-error")["errors"][0]["parameter"] == "limit"


TOO_BIG = 2**53  # one past the largest integer every JSON reader holds exactly


@pytest.mark.parametrize(
    ("method", "path", "payload", "where"),
    [
        ("POST", "/v1/events", {"type": "LOGIN", "telegram_id": TOO_BIG}, "/telegram_id"),
        (
            "POST",
            "/v1/events:batch",
            {"events": [{"type": "LOGIN", "telegram_id": TOO_BIG}]},
            "/events/0/telegram_id",
        ),
        (
            "POST",
            "/v1/rules:explain",
            {"slug": "first-lesson", "telegram_id": TOO_BIG},
            "/telegram_id",
        ),
        ("PUT", f"/v1/learners/{TOO_BIG}", {}, "telegram_id"),
        ("GET", f"/v1/learners/{TOO_BIG}/progress", None, "telegram_id"),
        ("GET", f"/v1/leaderboard?around={TOO_BIG}", None, "around"),
        ("GET", f"/v1/awards/stream?telegram_id={TOO_BIG}", None, "telegram_id"),
    ],
)
async def test_every_telegram_id_stops_at_2_to_the_53_minus_1(
    client: AsyncClient,
    keys: Keys,
    db: AsyncEngine,
    method: str,
    path: str,
    payload: dict | None,
    where: str,
) -> None:
    before = await row_counts(db)
    # bounded: a stream that took the id would never end
    response = await asyncio.wait_for(
        client.request(method, path, json=payload, headers=bearer(keys.admin)), 10
    )
    body = assert_problem(response, 422, "validation-error")
    field = "pointer" if where.startswith("/") else "parameter"
    assert body["errors"] == [{field: where, "detail": "must be at most 9,007,199,254,740,991"}]
    assert await row_counts(db) == before


async def test_the_largest_telegram_id_is_taken(
    client: AsyncClient, keys: Keys, writer: dict
) -> None:
    largest = TOO_BIG - 1
    assert (await client.put(f"/v1/learners/{largest}", json={}, headers=writer)).status_code == 200
    response = await client.post("/v1/events", json=login(largest), headers=writer)
    assert response.status_code == 201, response.text
    response = await client.get(f"/v1/leaderboard?around={largest}", headers=bearer(keys.reader))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "path",
    ["/v1/learners/1.0", "/v1/learners/+1", "/v1/learners/1e3", "/v1/leaderboard?around=1.0"],
)
async def test_a_telegram_id_in_a_path_or_query_is_digits_only(
    client: AsyncClient, keys: Keys, learner: int, path: str
) -> None:
    response = await client.get(path, headers=bearer(keys.reader))
    body = assert_problem(response, 422, "validation-error")
    [error] = body["errors"]
    assert error["parameter"] in ("telegram_id", "around")
    assert error["detail"].startswith("must be written in digits 0-9, not ")


@pytest.mark.parametrize(
    ("at", "detail"),
    [
        ("2026-03-15T12:00:00", "time 2026-03-15T12:00:00 has no time zone (give a UTC offset)"),
        (
            "9999-12-31T23:59:59-01:00",
            "time 9999-12-31T23:59:59-01:00 must lie between 1000-01-02 and 9999-12-30 (UTC)",
        ),
        (
            "0001-01-01T00:00:00+01:00",
            "time 0001-01-01T00:00:00+01:00 must lie between 1000-01-02 and 9999-12-30 (UTC)",
        ),
        # read as Unix seconds (or milliseconds) before
        ("1796669000", "must be an ISO 8601 time with a UTC offset, not the number 1796669000"),
        ("0.5", "must be an ISO 8601 time with a UTC offset, not the number 0.5"),
        ("-5", "must be an ISO 8601 time with a UTC offset, not the number -5"),
    ],
)
async def test_leaderboard_time_without_an_offset_or_out_of_range(
    client: AsyncClient, keys: Keys, at: str, detail: str
) -> None:
    for period in ("week", "month"):
        response = await client.get(
            "/v1/leaderboard", params={"period": period, "at": at}, headers=bearer(keys.reader)
        )
        body = assert_problem(response, 422, "validation-error")
        assert body["errors"] == [{"parameter": "at", "detail": detail}]


async def test_invalid_rule_and_unknown_rule(client: AsyncClient, keys: Keys, learner: int) -> None:
    admin = bearer(keys.admin)
    rule = {"slug": "Bad Slug", "type": "LESSON_COMPLETED", "title": "x", "points": 1}
    body = assert_problem(
        await client.post("/v1/rules:preview", json=rule, headers=admin), 422, "invalid-rule"
    )
    pointers = {error["pointer"] for error in body["errors"]}
    assert pointers == {"/slug", "/criteria"}
    response = await client.post(
        "/v1/rules:explain", json={"slug": "no-such-rule", "telegram_id": learner}, headers=admin
    )
    body = assert_problem(response, 404, "unknown-rule")
    assert '"no-such-rule"' in body["detail"]


async def test_rate_limit_per_key(engine: Engine, keys: Keys) -> None:
    app = create_app(engine, HttpSettings(rate_limit="3/minute"))
    async with AsyncClient(transport=ASGITransport(app=app), base_url=BASE) as client:
        for _ in range(3):
            assert (await client.get("/v1/leaderboard", headers=bearer(keys.reader))).is_success
        response = await client.get("/v1/leaderboard", headers=bearer(keys.reader))
        body = assert_problem(response, 429, "rate-limited")
        assert 'API key "reader" is over its limit of 3 per 1 minute' in body["detail"]
        assert 1 <= int(response.headers["retry-after"]) <= 60
        # another key has its own allowance
        assert (await client.get("/v1/leaderboard", headers=bearer(keys.admin))).is_success


@pytest.mark.parametrize("value", ["soon", "0", "-1", "nan", "inf"])
def test_a_bad_request_timeout_is_named_with_its_value(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(REQUEST_TIMEOUT_ENV, value)
    with pytest.raises(SettingsError) as refused:
        HttpSettings.from_env()
    assert str(refused.value) == (
        f'QUESTLINE_HTTP_REQUEST_TIMEOUT="{value}" is not a positive number of seconds'
    )


def test_a_blank_request_timeout_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REQUEST_TIMEOUT_ENV, " ")
    assert HttpSettings.from_env().request_timeout == DEFAULT_REQUEST_TIMEOUT


@pytest.mark.parametrize("rate", ["0/second", "100/hour; 0/second", "00/minute"])
def test_a_rate_limit_that_allows_nothing_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, rate: str
) -> None:
    monkeypatch.setenv(RATE_LIMIT_ENV, rate)
    with pytest.raises(SettingsError) as refused:
        HttpSettings.from_env()
    assert str(refused.value) == (
        f'QUESTLINE_HTTP_RATE_LIMIT="{rate}" allows no request at all '
        "(each limit must allow at least 1)"
    )


async def test_not_ready_and_internal_error_on_an_unmigrated_database(tmp_path) -> None:
    engine = Engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    app = create_app(engine)
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with AsyncClient(transport=transport, base_url=BASE) as client:
            assert (await client.get("/v1/health")).status_code == 200
            body = assert_problem(await client.get("/v1/ready"), 503, "not-ready")
            assert "not migrated" in body["detail"]
            response = await client.get("/v1/leaderboard", headers=bearer("ql_x_y"))
            body = assert_problem(response, 500, "internal-error")
            assert body["detail"] == "the server failed; see its log"  # no SQL leaks out
    finally:
        await engine.shutdown()


async def test_no_free_connection_in_the_pool_is_503_not_a_server_error(
    database_url: str, keys: Keys
) -> None:
    bind = create_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    engine = Engine(bind=bind)
    app = create_app(engine)
    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url=BASE) as client:
            async with bind.connect() as busy:  # the pool's only connection
                await busy.execute(text("SELECT 1"))
                response = await client.get("/v1/leaderboard", headers=bearer(keys.reader))
                body = assert_problem(response, 503, "database-unavailable")
                assert "Idempotency-Key" in body["detail"]
                assert response.headers["retry-after"] == "5"
            assert (await client.get("/v1/leaderboard", headers=bearer(keys.reader))).is_success
    finally:
        await engine.shutdown()


async def test_a_locked_sqlite_database_gets_503_at_the_deadline_not_when_it_is_unlocked(
    engine: Engine, keys: Keys, learner: int, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Another connection holds SQLite's write lock for 8 s: the 503 leaves at the 1 s
    deadline, while the cut-off request waits out the lock in the background and then gives
    its connection back."""
    if is_mysql(database_url):
        pytest.skip("SQLite only")
    app = create_app(engine, HttpSettings(request_timeout=1))
    holder = sqlite3.connect(make_url(database_url).database, isolation_level=None)
    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url=BASE) as client:
            holder.execute("BEGIN EXCLUSIVE")
            asyncio.get_running_loop().call_later(8, holder.rollback)
            started = time.monotonic()
            response = await client.post(
                "/v1/events", json=login(learner), headers=bearer(keys.writer)
            )
            assert time.monotonic() - started < 5
            body = assert_problem(response, 503, "database-unavailable")
            assert "no answer within 1 s" in body["detail"]
            while engine.db.pool.checkedout():  # the cut-off request is still finishing
                assert time.monotonic() - started < 30
                await asyncio.sleep(0.1)
            response = await client.post(
                "/v1/events", json=login(learner), headers=bearer(keys.writer)
            )
            assert response.status_code == 201, response.text
    finally:
        holder.close()
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


def test_a_locked_database_counts_as_unreachable_and_a_wrong_statement_does_not() -> None:
    locked = OperationalError("INSERT …", {}, sqlite3.OperationalError("database is locked"))
    wrong = OperationalError("SELEC", {}, sqlite3.OperationalError('near "SELEC": syntax error'))
    assert database_unreachable(locked)
    assert database_unreachable(PoolTimeout("QueuePool limit of size 1 overflow 0 reached"))
    assert not database_unreachable(wrong)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (InvalidEvent("bad"), problems.INVALID_EVENT),
        (NoChallenge("none"), problems.COURSE_CONFLICT),
        (ContentError("bad file"), problems.INVALID_REQUEST),
        (EventRejected(4, UnknownUser("who")), problems.UNKNOWN_LEARNER),
    ],
)
def test_every_engine_error_has_one_kind(error: Exception, kind: problems.Kind) -> None:
    problem = problems.from_engine(error)  # type: ignore[arg-type]
    assert problem.kind is kind
    if isinstance(error, EventRejected):
        assert problem.index == 4


def test_kinds_have_distinct_types() -> None:
    uris = [kind.uri for kind in problems.KINDS]
    assert len(set(uris)) == len(uris)


@pytest.mark.parametrize(
    ("method", "path", "body", "pointer"),
    [
        (
            "POST",
            "/v1/events",
            '{"type": "LOGIN", "telegram_id": 1001, "details": {"x": "\\ud800"}}',
            "/details",
        ),
        (
            "POST",
            "/v1/events",
            '{"type": "LOGIN", "telegram_id": 1001, "idempotency_key": "\\udfff"}',
            "/idempotency_key",
        ),
        ("PUT", "/v1/learners/1001", '{"first_name": "Ada \\ud83d"}', "/first_name"),
    ],
)
async def test_unpaired_surrogates_are_refused(
    client: AsyncClient,
    keys: Keys,
    learner: int,
    db: AsyncEngine,
    method: str,
    path: str,
    body: str,
    pointer: str,
) -> None:
    before = await row_counts(db)
    response = await client.request(
        method,
        path,
        content=body.encode(),
        headers={**bearer(keys.admin), "Content-Type": "application/json"},
    )
    problem = assert_problem(response, 422, "validation-error")
    assert problem["errors"][0]["pointer"] == pointer
    detail = problem["errors"][0]["detail"].lower()
    assert "surrogate" in detail or "unicode" in detail
    assert await row_counts(db) == before


def _nested(levels: int, inner: object, wrap: Callable[[object], object]) -> object:
    for _ in range(levels):
        inner = wrap(inner)
    return inner


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("criteria", _nested(300, True, lambda inner: {"!": [inner]}), "levels deep"),
        ("examples", [_nested(300, [], lambda inner: [inner])], "levels deep"),
    ],
    ids=["criteria", "examples"],
)
async def test_a_rule_nested_300_levels_deep_is_an_invalid_rule(
    client: AsyncClient, keys: Keys, field: str, value: object, said: str
) -> None:
    """Refused by the rule checks, by name, as at 40 levels (pydantic's walk of the body
    failed from about 250 levels with a 422 of its own and pointers that were not JSON's)."""
    rule = {"slug": "deep", "type": "LESSON_COMPLETED", "title": "Deep", "points": 5}
    rule[field] = value
    admin = bearer(keys.admin)
    checked = await client.post("/v1/rules:validate", json=rule, headers=admin)
    assert checked.status_code == 200, checked.text
    assert checked.json()["valid"] is False
    assert any(said in problem["message"] for problem in checked.json()["problems"])
    preview = await client.post("/v1/rules:preview", json=rule, headers=admin)
    body = assert_problem(preview, 422, "invalid-rule")
    assert said in body["detail"]


@pytest.mark.parametrize("path", ["/v1/rules:validate", "/v1/rules:preview"])
async def test_unpaired_surrogates_in_rules_are_no_server_error(
    client: AsyncClient, keys: Keys, path: str
) -> None:
    rule = (
        '{"slug": "s", "type": "MILESTONE", "title": "\\ud800", "points": 1,'
        ' "criteria": {"==": [{"var": "user.first_name"}, "\\udfff"]}}'
    )
    response = await client.post(
        path,
        content=rule.encode(),
        headers={**bearer(keys.admin), "Content-Type": "application/json"},
    )
    assert response.status_code == (200 if path.endswith("validate") else 422), response.text
    problems = response.json().get("problems") or response.json().get("errors")
    assert "lone surrogate" in str(problems)
