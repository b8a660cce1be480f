"""`questline outbox status|list|retry|run` against the test database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from questline.adapters.cli.runtime import plugin_manager
from questline.engine import Engine
from questline.engine.dispatcher import Dispatcher, DispatchSettings
from questline.plugins import hookimpl
from questline.rules.loading import CATALOG_DIR
from tests.cli.conftest import Invoke, write_lines
from tests.cli.test_commands import lesson_events, register


class Refusing:
    @hookimpl
    def questline_award_granted(self) -> None:
        raise RuntimeError("chat service refused")


def test_outbox_commands(
    invoke: Invoke, course: list[int], engine_call: Callable[..., Any], tmp_path: Path
) -> None:
    assert invoke("rules", "load", str(CATALOG_DIR)).exit_code == 0
    register(invoke)
    events = write_lines(tmp_path / "events.jsonl", lesson_events(course))
    assert invoke("events", "ingest", str(events)).exit_code == 0

    # one award; the three events too if an installed plugin listens to them
    events_heard = bool(plugin_manager().hook.questline_event_recorded.get_hookimpls())
    written = 1 + (3 if events_heard else 0)
    status = invoke("outbox", "status")
    assert status.output == f"pending: {written}  done: 0  dead: 0\n"
    listed = invoke("outbox", "list", "--status", "pending")
    assert listed.exit_code == 0 and listed.output.count("award.granted") == 1

    async def dead_letter(engine: Engine) -> int:
        engine.plugins.register(Refusing(), name="refusing")
        await Dispatcher(engine, DispatchSettings(max_attempts=1)).deliver_pending()
        [dead] = await engine.outbox_entries(status="dead")
        return dead.id

    dead_id = engine_call(dead_letter)
    assert invoke("outbox", "status").output == f"pending: 0  done: {written - 1}  dead: 1\n"
    dead = invoke("outbox", "list", "--status", "dead")
    assert "refusing: RuntimeError: chat service refused" in dead.output

    retried = invoke("outbox", "retry", str(dead_id))
    assert retried.output == "1 entry pending again\n"
    ran = invoke("outbox", "run", "--once")
    assert ran.output == f"1 entry handled; now pending: 0  done: {written}  dead: 0\n"
    assert invoke("outbox", "status").output == f"pending: 0  done: {written}  dead: 0\n"


def test_outbox_bad_input_is_one_line(invoke: Invoke) -> None:
    cases = [
        (("retry",), "give entry ids or --all-dead (not both)"),
        (("retry", "999"), "Error: no outbox entry 999"),
        (("retry", "0"), "0 is not in the range x>=1"),
        (("list", "--status", "lost"), "'lost' is not one of 'pending', 'done', 'dead'"),
        (("run", "--lease", "0"), "0.0 is not in the range x>=0.1"),
    ]
    for args, message in cases:
        result = invoke("outbox", *args)
        assert result.exit_code != 0, args
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output
