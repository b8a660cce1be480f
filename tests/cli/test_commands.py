"""The `questline` commands against the test database (SQLite file or MariaDB)."""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from questline.adapters.cli import QuestlineGroup
from questline.adapters.cli.demo import SAMPLE_COURSE
from questline.adapters.cli.runtime import plugin_manager
from questline.engine import Engine
from questline.engine.migrate import head_revision
from questline.plugins import hookimpl
from questline.rules.loading import CATALOG_DIR
from tests.cli.conftest import Invoke, run_cli, write_lines

LEARNER = 1001


def event(kind: str, lesson: int | None = None, **fields: Any) -> str:
    body: dict[str, Any] = {"type": kind, "telegram_id": LEARNER, **fields}
    if lesson is not None:
        body["lesson_id"] = lesson
    body.setdefault("occurred_at", "2026-03-02T09:00:00+01:00")
    return json.dumps(body)


def register(invoke: Invoke, telegram_id: int = LEARNER, name: str = "Ada") -> None:
    result = invoke("users", "register", str(telegram_id), "--first-name", name)
    assert result.exit_code == 0, result.output


def stats(engine_call: Callable[..., Any]) -> dict[str, int]:
    async def work(engine: Engine) -> dict[str, int]:
        return await engine.stats()

    return engine_call(work)


def lesson_events(lessons: list[int]) -> list[str]:
    return [
        event("LOGIN", idempotency_key="k1"),
        event("LESSON_STARTED", lessons[0], idempotency_key="k2"),
        event("LESSON_COMPLETED", lessons[0], score=90, idempotency_key="k3"),
    ]


# -- content and rules -----------------------------------------------------------------------


def test_content_load_twice_reports_unchanged(invoke: Invoke) -> None:
    first = invoke("content", "load", str(SAMPLE_COURSE))
    assert first.exit_code == 0, first.output
    assert "created: 16 (python-basics, python-basics/values," in first.output
    second = invoke("content", "load", str(SAMPLE_COURSE))
    assert second.exit_code == 0
    assert second.output.splitlines() == ["created: 0", "updated: 0", "unchanged: 16"]


def test_content_load_bad_file_is_one_line(invoke: Invoke, tmp_path: Path) -> None:
    bad = write_lines(tmp_path / "course.yaml", ["modules:", "  - title: No slug"])
    result = invoke("content", "load", str(bad))
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"Error: {bad}: /modules/0/slug: Field required")


def test_rules_validate_catalog(invoke: Invoke) -> None:
    result = invoke("rules", "validate", str(CATALOG_DIR))
    assert result.exit_code == 0
    assert result.output == "14 rules OK in 6 files\n"


def test_rules_test_runs_the_examples(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("rules", "test", str(CATALOG_DIR))
    assert (result.exit_code, result.output) == (0, "34 of 34 examples passed\n")
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(
        "slug: one\ntype: LESSON_COMPLETED\ntitle: One\npoints: 1\n"
        "criteria: {'>=': [{var: stats.lessons_completed}, 1]}\n"
        "examples: [{facts: {stats: {lessons_completed: 0}}, expect: true}]\n"
    )
    result = invoke("rules", "test", str(wrong))
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{wrong.as_posix()}: /examples/0: example: expected true, got false",
        "0 of 1 example passed",
    ]


def test_rules_validate_reports_each_problem(invoke: Invoke, tmp_path: Path) -> None:
    typo = tmp_path / "typo.json"
    typo.write_text(
        json.dumps(
            {
                "slug": "typo",
                "type": "LESSON_COMPLETED",
                "title": "Typo",
                "points": 5,
                "criteria": {">=": [{"var": "stats.lesons_completed"}, 1]},
            }
        )
    )
    broken = tmp_path / "broken.json"
    broken.write_text('{"slug": "broken",')
    odd = write_lines(
        tmp_path / "odd.yaml",
        ["- slug: weird", "  type: MILESTONE", "  title: Weird", "  points: -1",
         "  criteria: {frobnicate: [1]}"],
    )  # fmt: skip
    result = invoke("rules", "validate", str(typo), str(broken), str(odd))
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{typo}: /criteria/>=/0/var: unknown fact "
        '"stats.lesons_completed" (did you mean "stats.lessons_completed"?)',
        f"{broken}: invalid JSON at line 1, column 19: "
        "Expecting property name enclosed in double quotes",
        f"{odd}: /0/points: must be at least 0",
        f'{odd}: /0/criteria: unknown operator "frobnicate" (did you mean "concat"?)',
        "4 errors in 3 files; no rules were changed",
    ]


def test_rules_validate_needs_no_database(invoke: Invoke) -> None:
    result = invoke("rules", "validate", str(CATALOG_DIR), DATABASE_URL="postgresql://nowhere/x")
    assert result.exit_code == 0, result.output


def test_rules_load_is_idempotent_and_refuses_bad_files(invoke: Invoke, tmp_path: Path) -> None:
    first = invoke("rules", "load", str(CATALOG_DIR))
    assert first.exit_code == 0, first.output
    assert first.output.startswith("created: 14 (")
    again = invoke("rules", "load", str(CATALOG_DIR))
    assert again.output.splitlines() == ["created: 0", "updated: 0", "unchanged: 14"]
    broken = tmp_path / "broken.json"
    broken.write_text("[")
    bad = invoke("rules", "load", str(broken))
    assert bad.exit_code == 1
    assert bad.output.splitlines()[-1] == "1 error in 1 file; no rules were changed"


def test_rules_diff_says_what_a_load_would_change_and_writes_nothing(
    invoke: Invoke, course: list[int], tmp_path: Path
) -> None:
    assert invoke("rules", "load", str(CATALOG_DIR)).exit_code == 0
    register(invoke)
    events = write_lines(tmp_path / "events.jsonl", lesson_events(course[:1]))
    assert invoke("events", "ingest", str(events)).exit_code == 0  # Ada holds first-lesson
    rules = json.loads((CATALOG_DIR / "lessons.json").read_text())
    first = next(rule for rule in rules if rule["slug"] == "first-lesson")
    changed = [
        {**first, "points": 25, "enabled": False},
        {**first, "slug": "brand-new", "points": 7},
        next(rule for rule in rules if rule["slug"] == "ten-lessons"),
    ]
    path = tmp_path / "changed.json"
    path.write_text(json.dumps(changed))
    before = invoke("leaderboard").output

    result = invoke("rules", "diff", str(path))
    assert result.exit_code == 0, result.output
    *changes, left_alone = result.output.splitlines()
    assert changes == [
        "first-lesson: points 10 → 25, disabled; 1 learner(s) hold it and keep it;"
        " each of their totals +15 (+15 in all)",
        "brand-new: new rule (7 points)",
        "ten-lessons: unchanged",
        "1 new, 1 changed, 1 unchanged; nothing was written (`questline rules load` loads them)",
    ]
    # the catalogue's other rules: a rule renamed or left out of the files keeps awarding
    assert left_alone.startswith("not in these files, left enabled: first-challenge, ")
    assert "streak-7" in left_alone and "first-lesson" not in left_alone
    assert invoke("leaderboard").output == before
    broken = tmp_path / "broken.json"
    broken.write_text('{"slug": "x"')
    refused = invoke("rules", "diff", str(broken))
    assert refused.exit_code == 1 and "invalid JSON" in refused.output


@pytest.mark.parametrize(
    ("slug", "language", "needed"),
    [
        ("weekly-podium", "en", ": needs your rank last week <= 3 (your rank last week is none)"),
        ("monthly-champion", None, " needs leaderboard.last_month_rank == 1 (now none)"),
        ("monthly-champion", "ru", ": нужно ваше место в прошлом месяце == 1 (сейчас нет)"),
    ],
)
def test_rules_explain_a_rank_the_learner_does_not_have(
    invoke: Invoke, slug: str, language: str | None, needed: str
) -> None:
    assert invoke("rules", "load", str(CATALOG_DIR)).exit_code == 0
    register(invoke)
    args = ("--lang", language) if language else ()
    explained = invoke("rules", "explain", slug, "--user", str(LEARNER), *args)
    assert explained.exit_code == 0, explained.output
    assert explained.output.splitlines()[-1] == f"Ada{needed}"


def test_rules_explain_and_preview(invoke: Invoke, course: list[int], tmp_path: Path) -> None:
    assert invoke("rules", "load", str(CATALOG_DIR)).exit_code == 0
    register(invoke)
    events = write_lines(tmp_path / "events.jsonl", lesson_events(course))
    assert invoke("events", "ingest", str(events)).exit_code == 0

    explained = invoke("rules", "explain", "ten-lessons", "--user", str(LEARNER))
    assert explained.exit_code == 0, explained.output
    assert "Ten down (ten-lessons, 50 points)" in explained.output
    assert "Ada needs 9 more completed lessons (1/10)" in explained.output
    explained = invoke("rules", "explain", "ten-lessons", "--user", str(LEARNER), "--lang", "ru")
    assert "Ada: пройдите ещё 9 уроков (1/10)" in explained.output
    refused = invoke("rules", "explain", "ten-lessons", "--user", str(LEARNER), "--lang", "fr")
    assert refused.exit_code == 2 and "'fr' is not one of 'en', 'ru'" in refused.output
    earned = invoke("rules", "explain", "first-lesson", "--user", str(LEARNER))
    assert "Ada earned it on 2026-03-02 08:0" in earned.output
    unknown = invoke("rules", "explain", "no-such-rule", "--user", str(LEARNER))
    assert unknown.exit_code == 1
    assert unknown.stderr == 'Error: no enabled achievement with slug "no-such-rule"\n'

    rule = {
        "slug": "scored-80",
        "type": "MILESTONE",
        "title": "Eighty",
        "points": 5,
        "criteria": {">=": [{"var": "stats.total_score"}, 80]},
    }
    (tmp_path / "rule.json").write_text(json.dumps(rule))
    before = invoke("leaderboard").output
    preview = invoke("rules", "preview", str(tmp_path / "rule.json"))
    assert preview.exit_code == 0, preview.output
    assert "Eighty (scored-80): 1 learner(s) would qualify" in preview.output
    assert "Ada" in preview.output
    assert invoke("leaderboard").output == before
    broken = [{**rule, "points": -1}, {**rule, "slug": "typo", "criteria": {"var": "stats.pints"}}]
    (tmp_path / "broken.json").write_text(json.dumps(broken))
    refused = invoke("rules", "preview", str(tmp_path / "broken.json"))
    assert refused.exit_code == 1
    assert refused.output.splitlines()[:2] == [  # a line per problem, as `rules validate`
        f"{(tmp_path / 'broken.json').as_posix()}: /0/points: must be at least 0",
        f"{(tmp_path / 'broken.json').as_posix()}: /1/criteria/var: unknown fact "
        '"stats.pints" (did you mean "stats.points"?)',
    ]


# -- events ----------------------------------------------------------------------------------


def test_ingest_then_replay(
    invoke: Invoke, course: list[int], engine_call: Callable[..., Any], tmp_path: Path
) -> None:
    assert invoke("rules", "load", str(CATALOG_DIR)).exit_code == 0
    register(invoke)
    events = write_lines(tmp_path / "events.jsonl", lesson_events(course))
    first = invoke("events", "ingest", str(events))
    assert first.exit_code == 0, first.output
    assert "events.jsonl: 3 event(s), 3 recorded, 0 replay(s), 1 award(s) granted" in first.output
    assert "  first-lesson: 1" in first.output
    counts = stats(engine_call)

    again = invoke("events", "ingest", str(events))
    assert again.exit_code == 0, again.output
    assert "events.jsonl: 3 event(s), 0 recorded, 3 replay(s), 0 award(s) granted" in again.output
    assert stats(engine_call) == counts


def test_ingest_shows_plain_progress_lines_when_stderr_is_not_a_terminal(
    invoke: Invoke, course: list[int], tmp_path: Path
) -> None:
    register(invoke)
    events = write_lines(tmp_path / "events.jsonl", lesson_events(course))
    args = ("--chunk-size", "2", "--progress-interval", "0")
    result = invoke("events", "ingest", str(events), *args)
    assert result.exit_code == 0, result.output
    progress = re.compile(r"events\.jsonl: (\d) of 3 lines, [\d,]+ events/s, (\d) recorded")
    lines = [progress.fullmatch(line) for line in result.stderr.splitlines()]
    assert [match and match.groups() for match in lines] == [("2", "2"), ("3", "3")]
    assert "events.jsonl: 3 event(s), 3 recorded" in result.stdout


def test_ingest_broken_json_names_the_line_and_writes_nothing(
    invoke: Invoke, course: list[int], engine_call: Callable[..., Any], tmp_path: Path
) -> None:
    register(invoke)
    lines = [*lesson_events(course), '{"type": "LOGIN", "telegram_id": 1001', event("LOGIN")]
    result = invoke("events", "ingest", str(write_lines(tmp_path / "bad.jsonl", lines)))
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: bad.jsonl, line 4: not valid JSON (Expecting ',' delimiter at column 38) "
        "(nothing was recorded)\n"
    )
    assert stats(engine_call)["events"] == 0


def test_ingest_unknown_user_names_the_line(
    invoke: Invoke, course: list[int], engine_call: Callable[..., Any], tmp_path: Path
) -> None:
    register(invoke)
    stranger = json.dumps({"type": "LOGIN", "telegram_id": 999})
    lines = [event("LOGIN"), "", stranger, event("LOGIN")]
    result = invoke("events", "ingest", str(write_lines(tmp_path / "who.jsonl", lines)))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: who.jsonl, line 3: ")
    assert "999" in result.stderr
    assert result.stderr.endswith("(nothing was recorded)\n")
    assert result.stderr.count("\n") == 1
    assert stats(engine_call)["events"] == 0


def test_ingest_keeps_earlier_chunks(
    invoke: Invoke, course: list[int], engine_call: Callable[..., Any], tmp_path: Path
) -> None:
    register(invoke)
    lines = [event("LOGIN"), event("LOGIN"), event("LOGIN"), event("LOGIN", course[0])]
    path = write_lines(tmp_path / "chunks.jsonl", lines)
    result = invoke("events", "ingest", "--chunk-size", "2", str(path))
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: chunks.jsonl, line 4: invalid event: LOGIN takes no lesson_id "
        "(2 event(s) before line 3 were recorded, nothing from it on; "
        "re-running the file is safe for events that carry an idempotency_key)\n"
    )
    assert stats(engine_call)["events"] == 2


def test_ingest_tells_replays_and_solved_challenges_from_recorded_events(
    invoke: Invoke, course: list[int], engine_call: Callable[..., Any], tmp_path: Path
) -> None:
    """A replay (its key recorded before) and a challenge solved again write nothing: the
    summary and the message of a stopped ingest do not count them as recorded."""
    register(invoke)
    first = write_lines(tmp_path / "first.jsonl", [event("LOGIN", idempotency_key="k1")])
    assert invoke("events", "ingest", str(first)).exit_code == 0
    lines = [
        event("LOGIN", idempotency_key="k1"),
        event("CHALLENGE_SOLVED", course[0]),
        event("CHALLENGE_SOLVED", course[0]),
        event("LOGIN"),
    ]
    result = invoke("events", "ingest", str(write_lines(tmp_path / "again.jsonl", lines)))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        "again.jsonl: 4 event(s), 2 recorded, 1 replay(s), 1 challenge(s) already solved, "
        "0 award(s) granted\n"
    )
    assert stats(engine_call)["events"] == 3

    path = write_lines(tmp_path / "stopped.jsonl", [*lines, event("LOGIN", course[0])])
    result = invoke("events", "ingest", "--chunk-size", "2", str(path))
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: stopped.jsonl, line 5: invalid event: LOGIN takes no lesson_id "
        "(1 event(s) before line 5 were recorded and 1 replay(s) and 2 challenge(s) already "
        "solved were not, nothing from it on; re-running the file is safe for events that "
        "carry an idempotency_key)\n"
    )
    assert stats(engine_call)["events"] == 4


# -- awards, leaderboard, progress -----------------------------------------------------------


def test_backfill_leaderboard_and_progress(
    invoke: Invoke, course: list[int], tmp_path: Path
) -> None:
    register(invoke)
    register(invoke, 1002, "Boris")
    events = write_lines(tmp_path / "events.jsonl", lesson_events(course))
    assert invoke("events", "ingest", str(events)).exit_code == 0
    assert invoke("rules", "load", str(CATALOG_DIR)).exit_code == 0

    backfill = invoke("awards", "backfill", "first-lesson")
    assert backfill.exit_code == 0, backfill.output
    assert "first-lesson: 2 learner(s) scanned, 1 award(s) granted" in backfill.output
    again = invoke("awards", "backfill", "first-lesson")
    assert "first-lesson: 2 learner(s) scanned, 0 award(s) granted" in again.output
    missing = invoke("awards", "backfill", "nope")
    assert missing.exit_code == 1
    assert missing.stderr == 'Error: no enabled rule with slug "nope"\n'
    typo = invoke("awards", "backfill", "ten-lesson")
    assert typo.stderr == (
        'Error: no enabled rule with slug "ten-lesson" (did you mean "ten-lessons"?)\n'
    )

    board = invoke("leaderboard", "--top", "5", "--rebuild")
    assert board.exit_code == 0, board.output
    assert "rebuilt the ranks of" in board.output
    ada = next(line for line in board.output.splitlines() if "Ada" in line)
    assert [cell.strip() for cell in ada.split("│")[1:6]] == ["1", "Ada", "100", "1", "1"]

    progress = invoke("progress", str(LEARNER))
    assert progress.exit_code == 0, progress.output
    assert "Progress of Ada" in progress.output
    assert "✔ Values and types (90)" in progress.output
    assert "lessons completed: 1 · score: 100" in progress.output
    assert "complete 9 more lessons (1/10)" in progress.output  # phrased, in English
    in_russian = invoke("progress", str(LEARNER), "--lang", "ru")
    assert "пройдите ещё 9 уроков (1/10)" in in_russian.output
    stranger = invoke("progress", "999")
    assert stranger.exit_code == 1
    assert stranger.stderr.count("\n") == 1


def test_empty_leaderboard(invoke: Invoke) -> None:
    result = invoke("leaderboard")
    assert result.exit_code == 0
    assert result.output == "nobody is on the leaderboard yet\n"


# -- plugins ---------------------------------------------------------------------------------


def test_plugins_lists_builtin_facts_and_installed_plugins(invoke: Invoke) -> None:
    result = invoke("plugins")
    assert result.exit_code == 0, result.output
    assert "questline.facts" in result.output
    assert "questline_fact_providers" in result.output
    for entry_point in entry_points(group="questline"):
        assert entry_point.name in result.output


def test_plugins_add_commands(cli_url: str) -> None:
    class Greeter:
        @hookimpl
        def questline_cli_commands(self, cli: click.Group) -> None:
            @cli.command()
            def hello() -> None:
                click.echo("hello from a plugin")

    manager = plugin_manager()
    manager.register(Greeter(), name="greeter")
    try:
        group = QuestlineGroup(name="questline")
        result = CliRunner().invoke(group, ["hello"])
        assert result.output == "hello from a plugin\n"
        assert "hello" in CliRunner().invoke(group, ["--help"]).output
    finally:
        manager.unregister(name="greeter")


# -- database errors -------------------------------------------------------------------------


def test_bad_database_url_is_one_line(tmp_path: Path) -> None:
    result = run_cli(["leaderboard"], {"DATABASE_URL": "postgresql://host/db"})
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: unsupported database driver 'postgresql'")
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_unmigrated_database_asks_for_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    url = f"sqlite+aiosqlite:///{path}"
    result = run_cli(["leaderboard"], {"DATABASE_URL": url})
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: database {url} is not migrated (its file does not exist); "
        "run `questline db upgrade`\n"
    )
    assert not path.exists()  # not created empty by connecting
    path.touch()
    result = run_cli(["leaderboard"], {"DATABASE_URL": url})
    assert result.exit_code == 1
    assert result.stderr == (f"Error: database {url} is not migrated; run `questline db upgrade`\n")


def test_db_upgrade_and_current(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{path}"}
    before = run_cli(["db", "current"], env)
    assert (before.exit_code, before.stdout) == (
        0,
        f"{env['DATABASE_URL']}: no database file yet (newest is {head_revision()}; "
        "run `questline db upgrade`)\n",
    )
    assert not path.exists()  # not created empty by connecting
    first = run_cli(["db", "upgrade"], env)
    assert first.exit_code == 0, first.output
    assert "migrated from an empty database to revision" in first.output
    assert "is up to date" in run_cli(["db", "upgrade"], env).output
    assert "(up to date)" in run_cli(["db", "current"], env).output


def test_bad_time_zone_is_one_line(invoke: Invoke) -> None:
    result = invoke("rules", "validate", str(CATALOG_DIR), QUESTLINE_TIMEZONE="Mars/Olympus")
    assert result.exit_code == 1
    assert result.stderr == (
        'Error: unknown time zone "Mars/Olympus" (use an IANA name such as "UTC")\n'
    )


def test_ingest_refuses_a_file_that_is_not_utf8(invoke: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(b'{"type": "LOGIN", "details": {"name": "Jos\xe9"}}\n')
    result = invoke("events", "ingest", str(path))
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: latin1.jsonl, line 1: not UTF-8 text (invalid continuation byte at byte 42)\n"
    )


def test_a_byte_that_is_not_utf8_is_placed_in_the_file(invoke: Invoke, tmp_path: Path) -> None:
    """Past the first 8 KB the byte is counted from the file's start, not from its block;
    lines end at LF, CRLF or a lone CR, as they are read."""
    path = tmp_path / "long.jsonl"
    lines = [event("LOGIN") + end for end in ("\n", "\r\n", "\r") * 100]
    head = "".join(lines).encode("utf-8")
    assert len(head) > 3 * 8192
    path.write_bytes(head + b'{"type": "LOGIN", "details": {"name": "Jos\xe9"}}\n')
    result = invoke("events", "ingest", str(path))
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: long.jsonl, line 301: not UTF-8 text (invalid continuation byte at byte "
        f"{len(head) + 42})\n"
    )


BOM = "\ufeff"


def test_a_byte_order_mark_may_start_an_events_file(
    invoke: Invoke, engine_call: Callable[..., Any], tmp_path: Path
) -> None:
    register(invoke)
    path = tmp_path / "bom.jsonl"
    path.write_text(BOM + event("LOGIN") + "\n", encoding="utf-8")
    result = invoke("events", "ingest", str(path))
    assert result.exit_code == 0, result.output
    assert "bom.jsonl: 1 event(s), 1 recorded" in result.output
    assert stats(engine_call)["events"] == 1


def test_a_byte_order_mark_on_a_later_line_is_refused(
    invoke: Invoke, engine_call: Callable[..., Any], tmp_path: Path
) -> None:
    register(invoke)
    path = write_lines(tmp_path / "bom.jsonl", [event("LOGIN"), BOM + event("LOGIN")])
    result = invoke("events", "ingest", str(path))
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: bom.jsonl, line 2: not valid JSON (a byte order mark, U+FEFF, may only start "
        "the file) (nothing was recorded)\n"
    )
    assert stats(engine_call)["events"] == 0


def test_a_byte_order_mark_may_start_course_and_rule_files(
    invoke: Invoke, engine_call: Callable[..., Any], tmp_path: Path
) -> None:
    course = {"modules": [{"slug": "m", "title": "M", "order": 1}]}
    (tmp_path / "course.json").write_text(BOM + json.dumps(course), encoding="utf-8")
    (tmp_path / "course.yaml").write_text(BOM + "modules: []\n", encoding="utf-8")
    rule = (CATALOG_DIR / "milestones.json").read_text(encoding="utf-8")
    (tmp_path / "rules.json").write_text(BOM + rule, encoding="utf-8")
    for args in (
        ("content", "load", str(tmp_path / "course.json")),
        ("content", "load", str(tmp_path / "course.yaml")),
        ("rules", "validate", str(tmp_path / "rules.json")),
        ("rules", "load", str(tmp_path / "rules.json")),
    ):
        result = invoke(*args)
        assert result.exit_code == 0, (args, result.output)
    assert stats(engine_call)["modules"] == 1


def test_db_rebuild_aggregates_recounts_from_the_log(
    invoke: Invoke, engine_call: Callable[..., Any]
) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import select, update

    from questline.engine import Event, UserProfile
    from questline.engine.models import LearnerTotals
    from questline.rules.vocabulary import ActivityType

    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    async def record_and_spoil(engine: Engine) -> None:
        user = await engine.register_user(UserProfile(telegram_id=777))
        for day in range(3):
            login = Event(type=ActivityType.LOGIN, user_id=user.id)
            await engine.record(login.model_copy(update={"occurred_at": start + timedelta(day)}))
        async with engine.db.begin() as connection:
            await connection.execute(update(LearnerTotals).values(logins=99, days_active=0))

    async def figures(engine: Engine) -> tuple[int, int]:
        async with engine.db.connect() as connection:
            row = await connection.execute(select(LearnerTotals.logins, LearnerTotals.days_active))
            logins, days = row.one()
            return logins, days

    engine_call(record_and_spoil)
    result = invoke("db", "rebuild-aggregates")
    assert result.exit_code == 0, result.output
    assert "aggregates rebuilt for 1 learner(s) from the activity log" in result.output
    assert engine_call(figures) == (3, 3)


def _fed(path: Path, data: bytes) -> threading.Thread:
    """A named pipe at `path`, fed `data` by a thread (as `<(cat file)` or a shell pipe)."""
    os.mkfifo(path)

    def feed() -> None:
        with path.open("wb") as pipe:
            pipe.write(data)

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    return feeder


def test_ingest_reads_a_pipe_once(invoke: Invoke, tmp_path: Path) -> None:
    register(invoke)
    lines = [event("LOGIN", idempotency_key=f"pipe-{n}") for n in range(3)]
    feeder = _fed(tmp_path / "events", "\n".join(lines).encode() + b"\n")
    result = invoke("events", "ingest", str(tmp_path / "events"))
    feeder.join(5)
    assert result.exit_code == 0, result.output
    assert "events: 3 event(s), 3 recorded" in result.output


def test_a_byte_that_is_not_utf8_late_in_a_pipe_stops_with_what_was_recorded(
    invoke: Invoke, tmp_path: Path
) -> None:
    register(invoke)
    lines = [event("LOGIN", idempotency_key=f"late-{n}") for n in range(400)]
    data = "\n".join(lines).encode() + b'\n{"type": "LOGIN", "details": {"x": "\xff"}}\n'
    feeder = _fed(tmp_path / "events", data)
    result = invoke("events", "ingest", "--chunk-size", "50", str(tmp_path / "events"))
    feeder.join(5)
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: events: not UTF-8 (invalid start byte) (")
    assert "event(s) before line" in line and "were recorded" in line


def test_rejects_are_written_only_once_the_database_is_there(
    invoke: Invoke, tmp_path: Path
) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text(event("LOGIN") + "\n")
    missing = tmp_path / "no-such-folder" / "rejects.jsonl"
    result = invoke("events", "ingest", str(events), "--skip-invalid", "--rejects", str(missing))
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: cannot write --rejects {missing}: No such file or directory\n",
    )
    earlier = tmp_path / "rejects.jsonl"
    earlier.write_text("kept\n")
    unmigrated = f"sqlite+aiosqlite:///{tmp_path / 'none.db'}"
    result = invoke(
        "events",
        "ingest",
        str(events),
        "--skip-invalid",
        "--rejects",
        str(earlier),
        DATABASE_URL=unmigrated,
    )
    assert result.exit_code == 1 and "not migrated" in result.stderr
    assert earlier.read_text() == "kept\n"
