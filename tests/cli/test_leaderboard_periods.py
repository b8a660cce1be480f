"""`questline leaderboard --period week|month|all` and `leaderboard close-period`."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from questline.engine import Engine, Event, UserProfile
from questline.rules.vocabulary import ActivityType as A
from tests.cli.conftest import Invoke, in_thread

# Kathmandu is UTC+5:45: Sunday 29 March 2026 23:30 there is 17:45 UTC; Monday 00:30 is 18:45
SUNDAY = "2026-03-29T17:45:00+00:00"
MONDAY = "2026-03-29T18:45:00+00:00"
ZONE = {"QUESTLINE_TIMEZONE": "Asia/Kathmandu"}
PODIUM = {
    "slug": "top-3-week",
    "type": "MILESTONE",
    "title": "Podium",
    "points": 30,
    "criteria": {
        "and": [
            {"!!": {"var": "leaderboard.last_week_rank"}},
            {"<=": [{"var": "leaderboard.last_week_rank"}, 3]},
        ]
    },
}


def rows(output: str) -> list[list[str]]:
    """The table's body rows as cells."""
    return [
        [cell.strip() for cell in line.split("│")[1:6]]
        for line in output.splitlines()
        if line.startswith("│") and line.split("│")[1].strip().isdigit()
    ]


@pytest.fixture
def week(cli_url: str, course: list[int]) -> None:
    """Ann scores on Sunday night, Bob on Monday just after midnight (Kathmandu time)."""

    async def work() -> None:
        engine = Engine(cli_url, timezone="Asia/Kathmandu")
        try:
            for telegram_id, name, score, at in ((1, "Ann", 90, SUNDAY), (2, "Bob", 40, MONDAY)):
                profile = UserProfile(telegram_id=telegram_id, first_name=name)
                user = await engine.register_user(profile)
                await engine.record(
                    Event(
                        type=A.LESSON_COMPLETED,
                        user_id=user.id,
                        lesson_id=course[0],
                        score=score,
                        occurred_at=at,
                    )
                )
        finally:
            await engine.shutdown()

    in_thread(work())


def test_week_month_and_all_time_boards(invoke: Invoke, week: None) -> None:
    last_week = invoke("leaderboard", "--period", "week", "--at", SUNDAY, **ZONE)
    assert last_week.exit_code == 0, last_week.output
    assert "Leaderboard, week 2026-03-23 – 2026-03-29 — top 10" in last_week.output
    assert rows(last_week.output) == [["1", "Ann", "90", "1", "0"]]
    this_week = invoke("leaderboard", "--period", "week", "--at", MONDAY, **ZONE)
    assert rows(this_week.output) == [["1", "Bob", "40", "1", "0"]]
    month = invoke("leaderboard", "--period", "month", "--at", MONDAY, **ZONE)
    assert rows(month.output) == [["1", "Ann", "90", "1", "0"], ["2", "Bob", "40", "1", "0"]]
    assert "Leaderboard, March 2026 — top 10" in month.output
    assert rows(invoke("leaderboard", **ZONE).output) == rows(month.output)
    empty = invoke("leaderboard", "--period", "week", "--at", "2026-05-01T00:00Z", **ZONE)
    assert empty.output == "nobody is on the leaderboard for week 2026-04-27 – 2026-05-03\n"
    now = datetime.now(UTC).isoformat()
    current = invoke("leaderboard", "--period", "month", "--at", now, **ZONE)
    assert current.output == "nobody is on the leaderboard for this month yet\n"


def test_close_period_awards_once(invoke: Invoke, week: None, tmp_path: Path) -> None:
    rules = tmp_path / "podium.json"
    rules.write_text(json.dumps([PODIUM]))
    assert invoke("rules", "load", str(rules)).exit_code == 0
    closed = invoke("leaderboard", "close-period", "--period", "week", "--at", MONDAY, **ZONE)
    assert closed.exit_code == 0, closed.output
    summary, award = closed.output.splitlines()
    assert summary == "closed week 2026-03-23 – 2026-03-29: 1 learner(s), 1 award(s)"
    assert re.fullmatch(r"  top-3-week → learner \d+ \(Telegram id 1\)", award), award
    again = invoke("leaderboard", "close-period", "--at", MONDAY, **ZONE)
    assert again.exit_code == 0
    assert again.output.startswith("week 2026-03-23 – 2026-03-29 was already closed at ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "year"], "Invalid value for '--period': 'year' is not one of"),
        (["--at", "yesterday"], "'yesterday' is not an ISO 8601 time"),
        (["--at", "2026-03-30T08:00"], "'2026-03-30T08:00' has no UTC offset"),
        (["close-period", "--period", "all"], "Invalid value for '--period': 'all' is not one"),
        (["close-period", "--at", "9999-01-01T00:00Z"], "Error: cannot close as of 9999-01-01"),
    ],
)
def test_bad_periods_and_times(invoke: Invoke, args: list[str], message: str) -> None:
    result = invoke("leaderboard", *args)
    assert result.exit_code in (1, 2)
    assert message in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("Error: ")
