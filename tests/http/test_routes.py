"""Every route in process, as a client sees it: status, shape and what the engine recorded."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from urllib.parse import quote

import pytest
from httpx import AsyncClient

from questline.adapters.http.plugin import plugin
from questline.engine import Engine
from questline.engine.views import LessonView
from tests.engine.conftest import T0
from tests.http.conftest import Keys, bearer


def completed(telegram_id: int, lesson: LessonView, **extra: object) -> dict:
    return {
        "type": "LESSON_COMPLETED",
        "telegram_id": telegram_id,
        "lesson_id": lesson.id,
        "score": 80,
        "occurred_at": T0.isoformat(),
        **extra,
    }


async def test_health_and_ready_need_no_key(client: AsyncClient) -> None:
    assert (await client.get("/v1/health")).json() == {"status": "ok"}
    assert (await client.get("/v1/ready")).json() == {"status": "ok"}


@pytest.mark.parametrize(
    ("path", "key", "status"),
    [
        ("/v1/health", None, 200),
        ("/v1/leaderboard?limit=3", "reader", 200),
        ("/v1/learners/1001/progress", "reader", 200),
        ("/v1/learners/999", "reader", 404),
        ("/v1/leaderboard", None, 401),
        ("/v1/achievements", "reader", 403),
    ],
)
async def test_head_answers_as_get_without_content(
    client: AsyncClient, keys: Keys, learner: int, path: str, key: str | None, status: int
) -> None:
    headers = bearer(getattr(keys, key)) if key else {}
    get = await client.get(path, headers=headers)
    head = await client.head(path, headers=headers)
    assert (get.status_code, head.status_code) == (status, status)
    assert head.content == b""
    for name in ("content-type", "content-length", "www-authenticate"):
        assert head.headers.get(name) == get.headers.get(name)


async def test_head_on_the_award_stream_ends_once_its_headers_are_sent(
    client: AsyncClient, keys: Keys, engine: Engine
) -> None:
    response = await asyncio.wait_for(
        client.head("/v1/awards/stream", headers=bearer(keys.reader)), 5
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.content == b""
    assert plugin.streams(engine).subscribers == 0


async def test_put_registers_then_updates_and_get_reads(client: AsyncClient, keys: Keys) -> None:
    created = await client.put(
        "/v1/learners/77", json={"first_name": "Ada", "username": "ada"}, headers=bearer(keys.admin)
    )
    assert created.status_code == 200
    assert created.json()["display_name"] == "Ada"
    updated = await client.put(
        "/v1/learners/77", json={"first_name": "Ada", "last_name": "L"}, headers=bearer(keys.admin)
    )
    assert updated.status_code == 200
    read = await client.get("/v1/learners/77", headers=bearer(keys.reader))
    assert read.status_code == 200
    assert read.json() == {**updated.json(), "username": None}
    assert read.json()["display_name"] == "Ada L"


async def test_event_returns_its_result_and_awards(
    client: AsyncClient, keys: Keys, learner: int, lessons: list[LessonView]
) -> None:
    response = await client.post(
        "/v1/events", json=completed(learner, lessons[0]), headers=bearer(keys.writer)
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["replayed"] is False
    assert "first-lesson" in {award["slug"] for award in body["awards"]}
    assert all(award["telegram_id"] == learner for award in body["awards"])


async def test_header_key_replays_the_first_result(
    client: AsyncClient, keys: Keys, learner: int, lessons: list[LessonView], engine: Engine
) -> None:
    headers = {**bearer(keys.writer), "Idempotency-Key": "lesson-1-done"}
    first = await client.post("/v1/events", json=completed(learner, lessons[0]), headers=headers)
    again = await client.post("/v1/events", json=completed(learner, lessons[0]), headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == {**first.json(), "replayed": True}
    # the same key in the body agrees with the header: still the replay
    both = await client.post(
        "/v1/events",
        json=completed(learner, lessons[0], idempotency_key="lesson-1-done"),
        headers=headers,
    )
    assert both.status_code == 200
    assert (await engine.stats())["events"] == 1 + len(first.json()["awards"])


async def test_a_solve_of_a_solved_challenge_is_answered_as_such(
    client: AsyncClient, keys: Keys, learner: int, lessons: list[LessonView], engine: Engine
) -> None:
    """Nothing is written for it: it was answered 201 "recorded now", "replayed": false."""
    challenged = next(lesson for lesson in lessons if lesson.challenge)
    solve = {"type": "CHALLENGE_SOLVED", "telegram_id": learner, "lesson_id": challenged.id}
    first = await client.post("/v1/events", json=solve, headers=bearer(keys.writer))
    assert first.status_code == 201 and first.json()["already_solved"] is False
    events = (await engine.stats())["events"]
    keyed = {**bearer(keys.writer), "Idempotency-Key": "solve-again"}
    for _ in range(2):  # its key is not kept: the same answer again
        again = await client.post("/v1/events", json=solve, headers=keyed)
        assert again.status_code == 200
        assert again.json() == {
            "activity_id": first.json()["activity_id"],
            "replayed": False,
            "already_solved": True,
            "awards": [],
        }
    assert (await engine.stats())["events"] == events


async def test_batch_records_in_order(
    client: AsyncClient, keys: Keys, learner: int, lessons: list[LessonView]
) -> None:
    events = [completed(learner, lesson) for lesson in lessons[:3]]
    response = await client.post(
        "/v1/events:batch", json={"events": events}, headers=bearer(keys.writer)
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert len(results) == 3
    assert results[0]["activity_id"] < results[1]["activity_id"] < results[2]["activity_id"]
    assert "first-lesson" in {award["slug"] for award in results[0]["awards"]}


async def test_batch_header_key_makes_the_batch_retry_safe(
    client: AsyncClient, keys: Keys, learner: int, lessons: list[LessonView], engine: Engine
) -> None:
    headers = {**bearer(keys.writer), "Idempotency-Key": "import-7"}
    events = [completed(learner, lesson) for lesson in lessons[:2]]
    first = await client.post("/v1/events:batch", json={"events": events}, headers=headers)
    before = await engine.stats()
    again = await client.post("/v1/events:batch", json={"events": events}, headers=headers)
    assert [result["replayed"] for result in again.json()["results"]] == [True, True]
    assert [r["activity_id"] for r in again.json()["results"]] == [
        r["activity_id"] for r in first.json()["results"]
    ]
    assert await engine.stats() == before


async def test_progress_achievements_and_rank(
    client: AsyncClient, keys: Keys, learner: int, lessons: list[LessonView]
) -> None:
    await client.post(
        "/v1/events", json=completed(learner, lessons[0]), headers=bearer(keys.writer)
    )
    read = bearer(keys.reader)
    progress = (await client.get(f"/v1/learners/{learner}/progress", headers=read)).json()
    assert progress["learner"]["telegram_id"] == learner
    assert progress["lessons_completed"] == 1
    assert progress["modules"][0]["lessons"][0]["status"] == "COMPLETED"

    states = (await client.get(f"/v1/learners/{learner}/achievements", headers=read)).json()
    by_slug = {state["slug"]: state for state in states}
    assert by_slug["first-lesson"]["earned"] is True
    ten = by_slug["ten-lessons"]
    assert ten["earned"] is False and ten["earned_at"] is None
    assert ten["ratio"] == 0.1
    assert ten["parts"] == [
        {"fact": "stats.lessons_completed", "current": 1, "target": 10, "satisfied": False}
    ]
    assert ten["shortfalls"][0]["kind"] == "threshold" and ten["explanation"]

    rank = (await client.get(f"/v1/learners/{learner}/rank", headers=read)).json()
    assert rank["telegram_id"] == learner
    assert rank["standing"]["rank"] == 1


async def test_rank_is_null_before_any_score(client: AsyncClient, keys: Keys, learner: int) -> None:
    rank = await client.get(f"/v1/learners/{learner}/rank", headers=bearer(keys.reader))
    assert rank.json() == {"telegram_id": learner, "standing": None}


async def test_leaderboard_top_and_around(
    client: AsyncClient, keys: Keys, lessons: list[LessonView]
) -> None:
    writer = bearer(keys.writer)
    for telegram_id in range(1, 8):
        await client.put(f"/v1/learners/{telegram_id}", json={}, headers=writer)
        events = [completed(telegram_id, lesson) for lesson in lessons[:telegram_id]]
        response = await client.post("/v1/events:batch", json={"events": events}, headers=writer)
        assert response.status_code == 200, response.text
    top = (await client.get("/v1/leaderboard?limit=3", headers=bearer(keys.reader))).json()
    assert [entry["telegram_id"] for entry in top["entries"]] == [7, 6, 5]
    assert [entry["rank"] for entry in top["entries"]] == [1, 2, 3]
    around = await client.get("/v1/leaderboard?limit=3&around=4", headers=bearer(keys.reader))
    assert [entry["telegram_id"] for entry in around.json()["entries"]] == [5, 4, 3]
    even = await client.get("/v1/leaderboard?limit=4&around=4", headers=bearer(keys.reader))
    assert [entry["telegram_id"] for entry in even.json()["entries"]] == [6, 5, 4, 3]
    for telegram_id, ends in ((7, [7, 6, 5, 4, 3]), (1, [5, 4, 3, 2, 1])):  # full at the ends
        end = await client.get(
            f"/v1/leaderboard?limit=5&around={telegram_id}", headers=bearer(keys.reader)
        )
        assert [entry["telegram_id"] for entry in end.json()["entries"]] == ends
    whole = await client.get("/v1/leaderboard?limit=50&around=4", headers=bearer(keys.reader))
    assert [entry["telegram_id"] for entry in whole.json()["entries"]] == [7, 6, 5, 4, 3, 2, 1]


async def test_leaderboard_of_a_week_and_a_month(
    client: AsyncClient, keys: Keys, lessons: list[LessonView]
) -> None:
    """T0 is a Monday (UTC): one learner completes a lesson then, one the Sunday before."""
    writer, reader = bearer(keys.writer), bearer(keys.reader)
    for telegram_id, moment in ((1, T0), (2, T0 - timedelta(hours=14))):
        await client.put(f"/v1/learners/{telegram_id}", json={}, headers=writer)
        event = completed(telegram_id, lessons[0], occurred_at=moment.isoformat())
        assert (await client.post("/v1/events", json=event, headers=writer)).status_code == 201

    async def board(query: str) -> list[tuple[int, int, int]]:
        response = await client.get(f"/v1/leaderboard?{query}", headers=reader)
        assert response.status_code == 200, response.text
        return [(e["rank"], e["telegram_id"], e["total_score"]) for e in response.json()["entries"]]

    at = quote(T0.isoformat())
    assert await board(f"period=week&at={at}") == [(1, 1, 90)]  # 80 + "first-lesson"
    assert await board(f"period=month&at={at}&around=2") == [(1, 1, 90), (1, 2, 90)]
    assert await board("period=all") == await board(f"period=month&at={at}")
    for query, problem in (
        ("period=year", "period"),
        ("period=week&at=2026-03-02T09:00", "no time zone"),
        ("period=week&at=monday", "at"),
    ):
        response = await client.get(f"/v1/leaderboard?{query}", headers=reader)
        assert response.status_code == 422, query
        assert problem in response.text, response.text


async def test_achievement_catalogue(client: AsyncClient, keys: Keys, engine: Engine) -> None:
    response = await client.get("/v1/achievements", headers=bearer(keys.admin))
    assert response.status_code == 200
    slugs = [rule["slug"] for rule in response.json()]
    assert slugs == [rule.slug for rule in engine.achievement_catalog()]
    assert "first-lesson" in slugs


RULE = {
    "slug": "two-lessons",
    "type": "LESSON_COMPLETED",
    "title": "Two down",
    "points": 5,
    "criteria": {">=": [{"var": "stats.lessons_completed"}, 2]},
}


async def test_rules_validate_reports_pointers(client: AsyncClient, keys: Keys) -> None:
    admin = bearer(keys.admin)
    good = await client.post("/v1/rules:validate", json=RULE, headers=admin)
    assert good.json() == {"valid": True, "problems": []}
    typo = {**RULE, "criteria": {">=": [{"var": "stats.lesons_completed"}, 2]}}
    bad = (await client.post("/v1/rules:validate", json=[RULE, typo], headers=admin)).json()
    assert bad["valid"] is False
    problem = bad["problems"][0]
    assert problem["pointer"].startswith("/1/criteria")
    assert "lessons_completed" in problem["message"]  # the "did you mean"


async def test_rules_explain_and_preview(
    client: AsyncClient, keys: Keys, learner: int, lessons: list[LessonView]
) -> None:
    admin = bearer(keys.admin)
    for lesson in lessons[:2]:
        await client.post("/v1/events", json=completed(learner, lesson), headers=admin)
    explained = await client.post(
        "/v1/rules:explain", json={"slug": "ten-lessons", "telegram_id": learner}, headers=admin
    )
    assert explained.status_code == 200
    assert explained.json()["ratio"] == 0.2
    preview = await client.post("/v1/rules:preview", json=RULE, headers=admin)
    assert preview.status_code == 200
    body = preview.json()
    assert (body["slug"], body["qualifying"]) == ("two-lessons", 1)
    assert body["learners"][0]["telegram_id"] == learner


async def test_openapi_document_is_served_without_a_key(client: AsyncClient) -> None:
    schema = (await client.get("/v1/openapi.json")).json()
    assert schema["openapi"].startswith("3.1")
    assert "/v1/events:batch" in schema["paths"]
    problem = schema["paths"]["/v1/events"]["post"]["responses"]["422"]["content"]
    assert list(problem) == ["application/problem+json"]


@pytest.mark.parametrize(
    ("accept", "module", "achievement"),
    [
        ("ru-RU,ru;q=0.9,en;q=0.8", "Основы Python", "Первые шаги"),
        ("en;q=0.5, ru", "Основы Python", "Первые шаги"),
        ("de-DE", "Python basics", "First steps"),
        ("*", "Python basics", "First steps"),
        ("ru;q=oops, en", "Python basics", "First steps"),
        (None, "Python basics", "First steps"),
    ],
)
async def test_read_routes_honour_accept_language(
    client: AsyncClient,
    keys: Keys,
    learner: int,
    lessons: list[LessonView],
    accept: str | None,
    module: str,
    achievement: str,
) -> None:
    await client.post(
        "/v1/events", json=completed(learner, lessons[0]), headers=bearer(keys.writer)
    )
    headers = bearer(keys.reader) | ({"Accept-Language": accept} if accept else {})
    progress = (await client.get(f"/v1/learners/{learner}/progress", headers=headers)).json()
    assert progress["modules"][0]["title"] == module
    states = (await client.get(f"/v1/learners/{learner}/achievements", headers=headers)).json()
    assert next(s for s in states if s["slug"] == "first-lesson")["title"] == achievement
