"""`questline events ingest` on arbitrary input: each file is recorded, or refused in one line.

Files mix events that must be recorded (each with a fresh idempotency key) with arbitrary JSON
objects, arbitrary JSON values and arbitrary text, or are arbitrary bytes. Whatever comes in,
the command ends with exit code 0 or 1, never another exception; a refusal is one line naming
the file; and chunks are all or nothing: every good event before the failing chunk is stored,
none from it on.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from itertools import count
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from questline.engine import Engine
from questline.engine.models import ActivityLog
from questline.rules.vocabulary import ActivityType
from tests.cli.conftest import Invoke
from tests.cli.test_commands import LEARNER, register

CHUNK = 3
EXAMPLES = count()
SETTINGS = settings(
    max_examples=int(os.environ.get("QUESTLINE_INGEST_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SUMMARY = re.compile(r"^in\.jsonl: (\d+) event\(s\), (\d+) recorded, (\d+) replay\(s\)")
STOPPED = re.compile(
    r"^Error: in\.jsonl, lines? (\d+)(?:-\d+)?: .* "
    r"\((nothing was recorded|\d+ event\(s\) before line \d+ were recorded, .*)\)$"
)
COMMITTED = re.compile(r"^(\d+) event\(s\) before line (\d+) were recorded")

FIELDS = ["type", "user_id", "telegram_id", "lesson_id", "score", "details", "occurred_at"]
any_text = st.text(st.characters(codec=None, exclude_characters="\r\n"), max_size=12)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(st.characters(exclude_categories=[]), max_size=12)  # lone surrogates included
    | st.sampled_from([t.value for t in ActivityType])
    | st.sampled_from(["1000-01-01T00:00:00Z", "9999-12-31T23:59:59-01:00", "2026-01-01"])
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3),
    max_leaves=12,
)
fuzz_objects = st.dictionaries(st.sampled_from(FIELDS) | any_text, json_values, max_size=6)
clean_details = st.dictionaries(
    st.text(max_size=5),
    st.integers(-1000, 1000) | st.text(max_size=8) | st.booleans(),
    max_size=3,
)


def _good(kind: str, lesson: int | None, details: dict[str, Any]) -> dict[str, Any]:
    event: dict[str, Any] = {"type": kind, "telegram_id": LEARNER, "details": details}
    if lesson is not None:
        event["lesson_id"] = lesson
    event["occurred_at"] = "2026-03-02T09:00:00+01:00"
    return event


def good_events(lessons: list[int]) -> st.SearchStrategy[dict[str, Any]]:
    login = st.builds(_good, st.just("LOGIN"), st.none(), clean_details)
    learning = st.builds(
        _good,
        st.sampled_from(["LESSON_STARTED", "LESSON_COMPLETED"]),
        st.sampled_from(lessons),
        clean_details,
    )
    return login | learning


Line = tuple[str, str | None]  # the text, and the key when it is an event that must record


def lines(lessons: list[int]) -> st.SearchStrategy[list[Line]]:
    good = good_events(lessons).map(lambda event: ("good", event))
    other = st.one_of(
        fuzz_objects.map(lambda raw: ("raw", json.dumps(raw))),
        json_values.map(lambda raw: ("raw", json.dumps(raw))),
        any_text.map(lambda raw: ("raw", raw)),
    )
    return st.lists(st.one_of(good, good, other), min_size=1, max_size=8)


def _stored_keys(engine_call: Callable[..., Any]) -> tuple[set[str], int]:
    async def work(engine: Engine) -> tuple[set[str], int]:
        async with engine.sessions() as session:
            keys = await session.scalars(
                select(ActivityLog.idempotency_key).where(ActivityLog.idempotency_key.is_not(None))
            )
            rows = await session.scalar(
                select(func.count())
                .select_from(ActivityLog)
                .where(ActivityLog.activity_type != ActivityType.ACHIEVEMENT_EARNED)
            )
        return set(keys), int(rows or 0)

    return engine_call(work)


def _one_line_outcome(stdout: str, stderr: str, exit_code: int) -> None:
    assert exit_code in (0, 1), (exit_code, stdout, stderr)
    if exit_code == 1:
        assert stderr.startswith("Error: in.jsonl"), stderr
        assert stderr.count("\n") == 1, stderr


def test_arbitrary_lines_are_recorded_or_refused_in_one_line(
    invoke: Invoke, course: list[int], engine_call: Callable[..., Any], tmp_path: Path
) -> None:
    register(invoke)

    @SETTINGS
    @given(lines(course))
    def check(drawn: list[tuple[str, Any]]) -> None:
        example = next(EXAMPLES)
        texts: list[str] = []
        keys: list[str | None] = []
        for number, (kind, value) in enumerate(drawn, start=1):
            if kind == "good":
                key = f"p{example}-{number}"
                texts.append(json.dumps({**value, "idempotency_key": key}))
                keys.append(key)
            else:
                texts.append(value)
                keys.append(None)
        path = tmp_path / "in.jsonl"
        path.write_text("\n".join(texts) + "\n", encoding="utf-8", errors="surrogatepass")
        stored_before, rows_before = _stored_keys(engine_call)

        result = invoke("events", "ingest", "--chunk-size", str(CHUNK), str(path))

        assert result.exception is None or isinstance(result.exception, SystemExit), (
            result.exception
        )
        _one_line_outcome(result.stdout, result.stderr, result.exit_code)
        stored, rows = _stored_keys(engine_call)
        numbers = [n for n, text in enumerate(texts, start=1) if text.strip()]
        if result.exit_code == 0:
            summary = SUMMARY.match(result.stdout.splitlines()[-1])
            assert summary is not None, result.stdout
            assert int(summary[1]) == len(numbers)
            assert rows - rows_before == int(summary[2])
            committed_until = len(texts) + 1
            event("recorded")
        else:
            stop = STOPPED.match(result.stderr.rstrip("\n"))
            assert stop is not None, result.stderr
            if stop[2] == "nothing was recorded":
                committed, committed_until = 0, numbers[0]
            else:
                done = COMMITTED.match(stop[2])
                assert done is not None, result.stderr
                committed, committed_until = int(done[1]), int(done[2])
            # the failing chunk starts at a chunk boundary and holds the named line
            assert numbers.index(committed_until) % CHUNK == 0
            assert committed == numbers.index(committed_until)
            assert committed_until <= int(stop[1])
            assert rows - rows_before <= committed
            event(f"refused after {committed} committed line(s)")
        for number, key in enumerate(keys, start=1):
            if key is not None:
                assert (key in stored) == (number < committed_until), (number, key, result)
        assert stored_before <= stored

    check()


def test_arbitrary_bytes_are_recorded_or_refused_in_one_line(
    invoke: Invoke, engine_call: Callable[..., Any], tmp_path: Path
) -> None:
    register(invoke)

    @SETTINGS
    @given(st.binary(max_size=200))
    def check(data: bytes) -> None:
        path = tmp_path / "in.jsonl"
        path.write_bytes(data)
        _, rows_before = _stored_keys(engine_call)
        result = invoke("events", "ingest", str(path))
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            result.exception
        )
        _one_line_outcome(result.stdout, result.stderr, result.exit_code)
        _, rows = _stored_keys(engine_call)
        event(f"exit code {result.exit_code}")
        if result.exit_code == 1:
            assert rows == rows_before

    check()
