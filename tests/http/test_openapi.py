"""docs/openapi.json is exactly the document the API serves (the CI check for the schema)."""

from __future__ import annotations

import json
from pathlib import Path

from httpx import AsyncClient

from questline.adapters.http.openapi import render

COMMITTED = Path(__file__).parents[2] / "docs" / "openapi.json"
REGENERATE = "python -m questline.adapters.http.openapi > docs/openapi.json"


async def test_committed_document_matches_the_served_one(client: AsyncClient) -> None:
    served = (await client.get("/v1/openapi.json")).json()
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert served == committed, f"docs/openapi.json is stale; run: {REGENERATE}"
    assert COMMITTED.read_text(encoding="utf-8") == render(), f"run: {REGENERATE}"


def test_every_problem_response_is_problem_json() -> None:
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    for path, item in committed["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    assert list(response["content"]) == ["application/problem+json"], (
                        method,
                        path,
                        status,
                    )


def test_every_route_that_reads_the_database_lists_its_503() -> None:
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    missing = [
        (method, path)
        for path, item in committed["paths"].items()
        for method, operation in item.items()
        if path not in ("/v1/health", "/v1/openapi.json") and "503" not in operation["responses"]
    ]
    assert missing == []
