"""Property-based tests of the live API from its own OpenAPI document, with schemathesis:
no 5xx, every response conforms to the schema, and the links (register a learner, then send
events and read their progress) hold."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

from questline.adapters.cli.runtime import OFFLINE_DATABASE
from questline.adapters.http.app import create_app
from questline.adapters.http.settings import HttpSettings
from questline.engine import Engine
from tests.http.live import LiveApi, live_api

EXAMPLES = 12
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def api(database_url: str) -> Iterator[LiveApi]:
    with live_api(database_url, HttpSettings(rate_limit="100000/minute")) as api:
        yield api


@pytest.fixture(scope="module")
def api_schema(api: LiveApi) -> schemathesis.schemas.BaseSchema:
    schema = schemathesis.openapi.from_url(f"{api.base_url}/v1/openapi.json")
    schema.config.update(base_url=api.base_url)
    # the key is added to each case (see below); generated keys would only be refused
    schema.config.generation.update(with_security_parameters=False)
    # Valid in form yet refused for what JSON Schema cannot say: an unknown learner or lesson
    # (404), an unpublished lesson or a reused idempotency key (409), and an Idempotency-Key
    # header that differs from the body's key (400).
    schema.config.checks.positive_data_acceptance.expected_statuses = [
        "2xx",
        "400",
        "401",
        "403",
        "404",
        "409",
        "429",
    ]
    # an admitted stream never ends by itself; tests/http/test_stream.py covers it
    return schema.exclude(path="/v1/awards/stream")


def operations() -> list[tuple[str, str, GenerationMode]]:
    """Every operation of the document (read from an app without a database) with valid
    inputs and, when it takes any, with invalid ones."""
    document = create_app(Engine(OFFLINE_DATABASE)).openapi()
    cases = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if path == "/v1/awards/stream":
                continue
            cases.append((method.upper(), path, GenerationMode.POSITIVE))
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            # a schema of a title and a description only: any JSON value is valid
            takes_anything = body is not None and not set(body["schema"]) - {
                "title",
                "description",
            }
            if (operation.get("parameters") or body) and not takes_anything:
                cases.append((method.upper(), path, GenerationMode.NEGATIVE))
    return sorted(cases)


@pytest.mark.parametrize(("method", "path", "mode"), operations())
def test_every_operation_conforms(
    api: LiveApi,
    api_schema: schemathesis.schemas.BaseSchema,
    method: str,
    path: str,
    mode: GenerationMode,
) -> None:
    @given(case=api_schema[path][method].as_strategy(mode))
    @SETTINGS
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=auth, excluded_checks=excluded)

    # a rule document valid in form may still read facts or call operators that do not exist,
    # which JSON Schema cannot say: the preview refuses it with 422 invalid-rule
    excluded = [positive_data_acceptance] if path == "/v1/rules:preview" else []
    auth = {"Authorization": f"Bearer {api.admin_key}"}

    check()


def test_links_from_a_learner_to_events_and_progress(
    api: LiveApi, api_schema: schemathesis.schemas.BaseSchema
) -> None:
    steps: list[tuple[str, int]] = []

    class Workflow(api_schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return {"headers": {"Authorization": f"Bearer {api.admin_key}"}}

        def after_call(self, response: requests.Response, case: schemathesis.Case) -> None:
            steps.append((case.operation.label, response.status_code))

    Workflow.run(settings=settings(SETTINGS, stateful_step_count=6))
    done = {label for label, status in steps if status < 300}
    assert "PUT /v1/learners/{telegram_id}" in done
    assert done & {"GET /v1/learners/{telegram_id}/progress", "POST /v1/events"}
