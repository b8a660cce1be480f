"""`questline demo` and its simulated learners."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from questline.adapters.cli.simulation import PERSONAS, CourseLesson, simulate
from questline.rules.vocabulary import ActivityType
from tests.cli.conftest import run_cli

LESSONS = [
    CourseLesson(1, 10, ("float",), 10),
    CourseLesson(2, 10, ("6",), 10),
    CourseLesson(3, 15),
]
END = datetime(2026, 3, 18, 15, 30, tzinfo=UTC)


def run_simulation(seed: int = 7):  # type: ignore[no-untyped-def]
    return simulate(
        LESSONS, learners=20, days=21, end=END, zone=ZoneInfo("Europe/Berlin"), seed=seed
    )


def test_simulation_is_deterministic_and_ends_before_now() -> None:
    first, second = run_simulation(), run_simulation()
    assert first.events == second.events
    assert first.learners == second.learners
    assert run_simulation(seed=8).events != first.events
    moments = [event.occurred_at for event in first.events]
    assert moments == sorted(moments)
    assert moments[-1] < END
    assert moments[0] >= first.start


def test_simulation_has_every_persona_and_wrong_answers_first() -> None:
    simulation = run_simulation()
    assert {learner.persona.name for learner in simulation.learners} == {
        persona.name for persona in PERSONAS
    }
    kinds = Counter(event.type for event in simulation.events)
    assert kinds[ActivityType.CHALLENGE_ATTEMPTED] > kinds[ActivityType.CHALLENGE_SOLVED] > 0
    assert kinds[ActivityType.LESSON_COMPLETED] > 0
    solved = [e for e in simulation.events if e.type is ActivityType.CHALLENGE_SOLVED]
    assert {event.score for event in solved} == {10}


def test_demo_runs_twice_on_a_fresh_file(tmp_path: Path) -> None:
    database = tmp_path / "var" / "demo.db"
    args = ["demo", "--database", str(database), "--learners", "6", "--weeks", "2"]
    env = {"COLUMNS": "160", "DATABASE_URL": "postgresql://ignored/by-the-demo"}
    first = run_cli(args, env)
    assert first.exit_code == 0, first.output
    for heading in ("Awards: ", "Who earned what, when", "Top 10", "Spotlight: ", "Progress of"):
        assert heading in first.output
    assert "🎓 First steps" in first.output
    assert "events recorded in" in first.output
    assert database.exists()

    again = run_cli([*args[:3], "--learners", "2", "--weeks", "1"], env)
    assert again.exit_code == 0, again.output
    assert "2 learners, 1 week(s)" in again.output
