"""`questline freezes grant|list`: an admin gives streak freezes; the learner's freezes show."""

from __future__ import annotations

from typing import Any

import pytest

from questline.engine import Engine, UserProfile
from tests.cli.conftest import Invoke


@pytest.fixture
def ada(engine_call: Any) -> None:
    async def work(engine: Engine) -> None:
        await engine.register_user(UserProfile(telegram_id=7, first_name="Ada"))

    engine_call(work)


def test_grant_then_list(invoke: Invoke, ada: None) -> None:
    granted = invoke("freezes", "grant", "7", "2", "--reason", "came back after a flu")
    assert granted.exit_code == 0, granted.output
    assert granted.output == "Ada (Telegram id 7) holds 2 streak freeze(s): 2 given, 0 used\n"
    listed = invoke("freezes", "list", "7")
    assert listed.exit_code == 0, listed.output
    assert "holds 2 streak freeze(s)" in listed.output
    assert "came back after a flu" in listed.output
    assert "days covered by a freeze: none yet" in listed.output
    progress = invoke("progress", "7")
    assert "streak freezes: 2" in progress.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["grant", "7", "0", "--reason", "x"], "Invalid value for 'AMOUNT': 0 is not in the range"),
        (["grant", "7", "101", "--reason", "x"], "101 is not in the range 1<=x<=100"),
        (["grant", "7", "1"], "Missing option '--reason'"),
        (["grant", "7", "1", "--reason", " "], "Error: a grant needs a reason"),
        (
            ["grant", "8", "1", "--reason", "x"],
            "Error: unknown user: no learner with telegram_id 8",
        ),
        (["list", "8"], "Error: unknown user: no learner with telegram_id 8"),
        (["list", "0"], "Invalid value for 'TELEGRAM_ID'"),
    ],
)
def test_bad_grants_are_refused_in_one_line(
    invoke: Invoke, ada: None, args: list[str], message: str
) -> None:
    result = invoke("freezes", *args)
    assert result.exit_code in (1, 2)
    assert message in result.stderr
    listed = invoke("freezes", "list", "7")
    assert "holds 0 streak freeze(s): 0 given, 0 used" in listed.output
