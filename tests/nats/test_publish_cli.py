"""`questline events publish`: a bad file is refused in one line naming the line, and
nothing of it is published."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
from nats.js.errors import NotFoundError

from questline.adapters.nats.settings import NatsSettings
from tests.nats.helpers import invoke, stream_messages

GOOD = json.dumps({"type": "LOGIN", "user_id": 1, "occurred_at": "2026-03-02T09:00:00+00:00"})


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ('{"type": "LOGIN", "user_id": 1', "not valid JSON (Expecting ',' delimiter at column 31)"),
        ('{"type": "LOGIN", "lesson_id": 3, "user_id": 1}', "invalid event: LOGIN takes no"),
        ("[1, 2]", "expected a JSON object with the event's fields"),
        ('{"type": "LOGIN", "user_id": 1, "idempotency_key": ""}', "invalid event: idempotency"),
    ],
)
async def test_a_bad_line_publishes_nothing(
    settings: NatsSettings, nats_env: dict[str, str], tmp_path: Path, bad: str, message: str
) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(f"{GOOD}\n\n{GOOD}\n{bad}\n{GOOD}\n", encoding="utf-8")
    result = await invoke(["events", "publish", str(path)], nats_env)
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: in.jsonl, line 4: {message}")
    assert result.output.rstrip().endswith("(nothing was published)")
    assert result.output.count("\n") == 1
    assert await _stored(settings) == 0


async def test_a_file_that_is_not_utf8_is_refused(nats_env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(GOOD.encode() + b"\n" + '{"details": {"é": 1}}'.encode("latin-1") + b"\n")
    result = await invoke(["events", "publish", str(path)], nats_env)
    assert result.exit_code == 1
    offset = len(GOOD) + 1 + len('{"details": {"')  # counted from the file's start
    assert result.output == (
        f"Error: latin1.jsonl, line 2: not UTF-8 text (invalid continuation byte at byte "
        f"{offset})\n"
    )


async def test_publishing_needs_the_url(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(GOOD + "\n", encoding="utf-8")
    result = await invoke(["events", "publish", str(path)], {"QUESTLINE_NATS_URL": ""})
    assert result.exit_code == 1
    assert result.output == "Error: QUESTLINE_NATS_URL is not set; give the NATS server's URL\n"


async def test_bad_partitions_option_is_named(nats_env: dict[str, str]) -> None:
    result = await invoke(["worker", "--partitions", "2-9"], nats_env)
    assert result.exit_code == 2
    assert '"2-9" is outside the partitions 0-3 (QUESTLINE_NATS_PARTITIONS)' in result.output


async def _stored(settings: NatsSettings) -> int:
    """Messages in the events stream (0 when nothing ever created it)."""
    try:
        return await stream_messages(settings, settings.stream)
    except NotFoundError:
        return 0


async def test_a_pipe_is_published_whole(
    settings: NatsSettings, nats_env: dict[str, str], tmp_path: Path
) -> None:
    """`questline events publish <(…)`: every line is checked before any is sent, so a pipe
    is read into a file first (it was read by the check, and nothing was left to publish)."""
    lines = [
        json.dumps({"type": "LOGIN", "user_id": n, "occurred_at": "2026-03-02T09:00:00+00:00"})
        for n in range(1, 4)
    ]
    pipe = tmp_path / "events"
    os.mkfifo(pipe)
    feeder = threading.Thread(target=pipe.write_text, args=("\n".join(lines) + "\n",))
    feeder.start()
    result = await invoke(["events", "publish", str(pipe)], nats_env)
    feeder.join(5)
    assert result.exit_code == 0, result.output
    # named as given: a pipe's own name is a number ("63" for /dev/fd/63)
    assert f"{pipe}: 3 event(s) published to {settings.stream}" in result.output
    assert await _stored(settings) == 3
