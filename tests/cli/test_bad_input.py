"""Every bad input to the commands gets one line naming the file or line and the problem.

Each case runs through the real `questline` entry point on the test database (SQLite or
MariaDB) and checks that nothing was written; the messages are the same on both databases
unless a case says otherwise.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.exc import OperationalError

from questline.adapters.cli.runtime import database_message
from questline.engine.db import create_engine, is_sqlite
from questline.engine.limits import MAX_DETAILS_BYTES
from questline.rules.loading import CATALOG_DIR
from tests.cli.conftest import Invoke, in_thread, run_cli, write_lines
from tests.cli.test_commands import LEARNER, event, register, stats

LOGIN = {"type": "LOGIN", "telegram_id": LEARNER}


def nested(levels: int) -> str:
    """`details` as JSON text with `levels` objects inside one another."""
    return '{"a":' * (levels - 1) + "{}" + "}" * (levels - 1)


def ingest_one(invoke: Invoke, tmp_path: Path, line: str) -> tuple[int, str]:
    result = invoke("events", "ingest", str(write_lines(tmp_path / "in.jsonl", [line])))
    return result.exit_code, result.stderr


def refused(problem: str) -> str:
    return f"Error: in.jsonl, line 1: {problem} (nothing was recorded)\n"


LONG = "f" * 100_000
SHOWN = "f" * 64 + "…"
LATEST_AND_EARLIEST = "occurred_at: must lie between 1000-01-02 and 9999-12-30 (UTC)"
BAD_LINES = {
    "details 10,000 levels deep": (
        '{"type": "LOGIN", "telegram_id": 1001, "details": ' + nested(10_000) + "}",
        "invalid event: nested more than 16 levels deep",
    ),
    "details 17 levels deep": (
        '{"type": "LOGIN", "telegram_id": 1001, "details": ' + nested(17) + "}",
        "invalid event: details: at " + "/a" * 16 + ": nested more than 16 levels deep",
    ),
    "a field name of 100,000 characters": (
        json.dumps({**LOGIN, LONG: 1}),
        f"invalid event: {SHOWN}: Extra inputs are not permitted",
    ),
    "a telegram_id string of 100,000 characters": (
        json.dumps({"type": "LOGIN", "telegram_id": LONG}),
        f"invalid event: telegram_id: must be an integer, not the string '{SHOWN}'",
    ),
    "a details key of 100,000 characters": (
        json.dumps({**LOGIN, "details": {LONG: [float("nan")]}}),
        f"invalid event: details: at /{SHOWN}/0: NaN is not a JSON number; numbers must be finite",
    ),
    "a string cut short": (
        '{"type": "LOGIN", "telegram_id": 1001, "details": {"note": "ab',
        "not valid JSON (Unterminated string starting at column 60)",
    ),
    "year 1 that is year 0 in UTC": (
        json.dumps({**LOGIN, "occurred_at": "0001-01-01T00:00:00+01:00"}),
        f"invalid event: {LATEST_AND_EARLIEST}",
    ),
    "year 9999 that is year 10000 in UTC": (
        json.dumps({**LOGIN, "occurred_at": "9999-12-31T23:59:59-01:00"}),
        f"invalid event: {LATEST_AND_EARLIEST}",
    ),
    "a lone surrogate in details": (
        '{"type": "LOGIN", "telegram_id": 1001, "details": {"note": "\\ud800"}}',
        "invalid event: details: at /note: text holds a lone surrogate (U+D800), "
        "which is not Unicode",
    ),
    "a lone surrogate in a details key": (
        '{"type": "LOGIN", "telegram_id": 1001, "details": {"\\udfff": 1}}',
        "invalid event: details: at /\\udfff: key text holds a lone surrogate (U+DFFF), "
        "which is not Unicode",
    ),
    "a lone surrogate as a field name": (
        '{"type": "LOGIN", "telegram_id": 1001, "\\ud800": 1}',
        "invalid event: Input should be a valid string, unable to parse raw data as a unicode "
        "string",
    ),
    "telegram_id 2^63": (
        json.dumps({"type": "LOGIN", "telegram_id": 2**63}),
        "invalid event: telegram_id: must be at most 9,223,372,036,854,775,807",
    ),
    "user_id 2^63": (
        json.dumps({"type": "LOGIN", "user_id": 2**63}),
        "invalid event: user_id: must be at most 2,147,483,647",
    ),
    "user_id 2^31": (
        json.dumps({"type": "LOGIN", "user_id": 2**31}),
        "invalid event: user_id: must be at most 2,147,483,647",
    ),
    "lesson_id 10^20": (
        json.dumps({"type": "LESSON_STARTED", "user_id": 1, "lesson_id": 10**20}),
        "invalid event: lesson_id: must be at most 2,147,483,647",
    ),
    "user_id 0": (
        json.dumps({"type": "LOGIN", "user_id": 0}),
        "invalid event: user_id: must be at least 1",
    ),
    "details one byte over the limit": (
        json.dumps({**LOGIN, "details": {"text": "x" * (MAX_DETAILS_BYTES - 10)}}),
        "invalid event: details: 16385 bytes of JSON; the limit is 16384 bytes",
    ),
    "details of 64 KB (too long for a MariaDB TEXT)": (
        json.dumps({**LOGIN, "details": {"text": "é" * 40_000}}),
        "invalid event: details: 80011 bytes of JSON; the limit is 16384 bytes",
    ),
    "NaN in details": (
        '{"type": "LOGIN", "telegram_id": 1001, "details": {"x": NaN}}',
        "invalid event: details: at /x: NaN is not a JSON number; numbers must be finite",
    ),
    "Infinity in details": (
        '{"type": "LOGIN", "telegram_id": 1001, "details": {"x": [-Infinity]}}',
        "invalid event: details: at /x/0: -Infinity is not a JSON number; numbers must be finite",
    ),
    "a number too large for a float in details": (
        '{"type": "LOGIN", "telegram_id": 1001, "details": {"x": 1e400}}',
        "invalid event: details: at /x: Infinity is not a JSON number; numbers must be finite",
    ),
    "a key with a newline": (
        json.dumps({**LOGIN, "idempotency_key": "k1\n"}),
        "invalid event: idempotency_key: must not contain a control character "
        "(U+000A at position 3)",
    ),
    "a key that is a lone surrogate": (
        '{"type": "LOGIN", "telegram_id": 1001, "idempotency_key": "\\ud800"}',
        "invalid event: idempotency_key: must not contain a lone surrogate (U+D800 at position 1)",
    ),
}


@pytest.mark.parametrize(("line", "problem"), BAD_LINES.values(), ids=BAD_LINES.keys())
def test_bad_event_lines_are_refused_in_one_line(
    invoke: Invoke, engine_call: Callable[..., Any], tmp_path: Path, line: str, problem: str
) -> None:
    register(invoke)
    assert ingest_one(invoke, tmp_path, line) == (1, refused(problem))
    assert stats(engine_call)["events"] == 0


def test_the_limits_themselves_are_recorded(
    invoke: Invoke, engine_call: Callable[..., Any], tmp_path: Path
) -> None:
    """16 levels of details, 16,384 bytes of details (stored whole on MariaDB), the year ends."""
    register(invoke)
    lines = [
        '{"type": "LOGIN", "telegram_id": 1001, "details": ' + nested(16) + "}",
        json.dumps({**LOGIN, "details": {"text": "x" * (MAX_DETAILS_BYTES - 11)}}),
        json.dumps({**LOGIN, "details": {"text": "🔑" * ((MAX_DETAILS_BYTES - 11) // 4)}}),
        json.dumps({**LOGIN, "occurred_at": "1000-01-02T00:00:00Z"}),
        json.dumps({**LOGIN, "occurred_at": "9999-12-31T00:59:59+01:00"}),
        json.dumps({**LOGIN, "telegram_id": 2**63 - 1}),
    ]
    register(invoke, telegram_id=2**63 - 1, name="Max")
    result = invoke("events", "ingest", str(write_lines(tmp_path / "edge.jsonl", lines)))
    assert result.exit_code == 0, result.output
    assert "edge.jsonl: 6 event(s), 6 recorded, 0 replay(s)" in result.stdout
    assert stats(engine_call)["events"] == 6


# -- the database fails in the middle of an ingest ------------------------------------------

REFUSAL = "refused by a test trigger"


class DatabaseTrigger:
    """`with trigger(pattern):` the database refuses activity_log rows whose details match
    the LIKE `pattern` (a real error from the server, on SQLite and MariaDB alike)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.message = REFUSAL if is_sqlite(url) else f"(1644, '{REFUSAL}')"

    async def execute(self, statement: str) -> None:
        engine = create_engine(self.url)
        try:
            async with engine.begin() as connection:
                await connection.exec_driver_sql(statement)
        finally:
            await engine.dispose()

    @contextmanager
    def __call__(self, pattern: str) -> Iterator[None]:
        if is_sqlite(self.url):
            create = (
                "CREATE TRIGGER refuse_row BEFORE INSERT ON activity_log "
                f"WHEN NEW.details LIKE '{pattern}' BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
            )
        else:
            like = pattern.replace("%", "%%")  # the driver formats the statement with %
            create = (
                "CREATE TRIGGER refuse_row BEFORE INSERT ON activity_log FOR EACH ROW "
                f"BEGIN IF NEW.details LIKE '{like}' THEN "
                f"SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{REFUSAL}'; END IF; END"
            )
        in_thread(self.execute(create))
        try:
            yield
        finally:
            in_thread(self.execute("DROP TRIGGER refuse_row"))


@pytest.fixture
def database_trigger(cli_url: str) -> DatabaseTrigger:
    return DatabaseTrigger(cli_url)


def test_a_database_error_names_the_lines_and_what_was_committed(
    invoke: Invoke,
    engine_call: Callable[..., Any],
    tmp_path: Path,
    database_trigger: DatabaseTrigger,
) -> None:
    """A trigger refuses the third row: the first chunk stays, re-running completes the file."""
    register(invoke)
    lines = [event("LOGIN", idempotency_key=f"k{n}", details={"n": n}) for n in range(1, 6)]
    path = write_lines(tmp_path / "flaky.jsonl", lines)
    with database_trigger('%"n": 3%'):
        result = invoke("events", "ingest", "--chunk-size", "2", str(path))
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: flaky.jsonl, lines 3-4: database error: {database_trigger.message} "
        "(2 event(s) before line 3 were recorded, nothing from it on; "
        "re-running the file is safe for events that carry an idempotency_key)\n"
    )
    assert stats(engine_call)["events"] == 2
    again = invoke("events", "ingest", "--chunk-size", "2", str(path))
    assert again.exit_code == 0, again.output
    assert "flaky.jsonl: 5 event(s), 3 recorded, 2 replay(s)" in again.stdout
    assert stats(engine_call)["events"] == 5


@pytest.fixture
def another_writer(
    invoke: Invoke, cli_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[sqlite3.Connection]:
    """Another process's write transaction on the SQLite test database (a registered learner),
    holding the write lock past the busy timeout (shortened here) while the test runs."""
    if not is_sqlite(cli_url):
        pytest.skip("SQLite's write lock")
    register(invoke)
    monkeypatch.setattr("questline.engine.db.SQLITE_BUSY_TIMEOUT_MS", 50)
    holder = sqlite3.connect(make_url(cli_url).database or "", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield holder
    finally:
        holder.close()


def test_a_database_locked_by_another_writer_is_named(
    invoke: Invoke,
    another_writer: sqlite3.Connection,
    engine_call: Callable[..., Any],
    tmp_path: Path,
) -> None:
    result = invoke("events", "ingest", str(write_lines(tmp_path / "in.jsonl", [event("LOGIN")])))
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: in.jsonl, line 1: database error: the database is locked by another writer "
        "(nothing was recorded)\n",
    )
    assert stats(engine_call)["events"] == 0


def test_reading_commands_answer_while_another_process_writes(
    invoke: Invoke, another_writer: sqlite3.Connection
) -> None:
    """SQLite in WAL mode: what only reads needs no lock (the writer's work is not seen)."""
    another_writer.execute("DELETE FROM outbox")
    results = [
        invoke(*command)
        for command in (["leaderboard", "--top", "3"], ["outbox", "status"], ["db", "current"])
    ]
    assert [(result.exit_code, result.stderr) for result in results] == [(0, "")] * 3
    assert "(up to date)" in results[2].stdout


def test_a_lock_met_while_writing_is_named() -> None:
    error = OperationalError("INSERT …", {}, sqlite3.OperationalError("database is locked"))
    assert database_message(error) == "database error: the database is locked by another writer"


def test_skip_invalid_records_the_good_lines_and_writes_the_refused_ones(
    invoke: Invoke, engine_call: Callable[..., Any], tmp_path: Path
) -> None:
    register(invoke)
    lines = [
        event("LOGIN", idempotency_key="a"),
        '{"type": "LOGIN", "telegram_id": ',
        event("LOGIN", idempotency_key="b"),
        json.dumps({**LOGIN, "telegram_id": 424242}),
        event("LOGIN", score=5),
        event("LOGIN", idempotency_key="c"),
    ]
    path = write_lines(tmp_path / "mixed.jsonl", lines)
    rejects = tmp_path / "rejects.jsonl"
    args = ("events", "ingest", "--chunk-size", "4", "--skip-invalid", "--rejects", str(rejects))
    result = invoke(*args, str(path))
    assert result.exit_code == 0, result.output
    assert (
        f"mixed.jsonl: 3 event(s), 3 recorded, 0 replay(s), 0 award(s) granted,"
        f" 3 rejected (see {rejects})"
    ) in result.stdout
    refused = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [(item["line"], item["text"]) for item in refused] == [
        (2, lines[1]),
        (4, lines[3]),
        (5, lines[4]),
    ]
    assert refused[0]["reason"].startswith("not valid JSON")
    assert refused[1]["reason"] == "unknown user: no learner with telegram_id 424242"
    assert refused[2]["reason"] == "invalid event: LOGIN takes no score"
    assert stats(engine_call)["events"] == 3

    again = invoke(*args, str(path))  # replays change nothing; the rejects file is rewritten
    assert "3 event(s), 0 recorded, 3 replay(s)" in again.stdout
    assert len(rejects.read_text().splitlines()) == 3
    assert stats(engine_call)["events"] == 3


def test_skip_invalid_with_many_refused_lines_in_one_chunk_keeps_their_order(
    invoke: Invoke, engine_call: Callable[..., Any], tmp_path: Path
) -> None:
    register(invoke)
    lines = []
    for number in range(8):  # a good line, a line the engine refuses, a broken line, …
        lines.append(event("LOGIN", idempotency_key=f"good-{number}"))
        lines.append(json.dumps({**LOGIN, "telegram_id": 500_000 + number}))
        lines.append('{"type": "LOGIN"')
    path = write_lines(tmp_path / "messy.jsonl", lines)
    rejects = tmp_path / "rejects.jsonl"
    args = ("events", "ingest", "--skip-invalid", "--rejects", str(rejects), str(path))
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert "messy.jsonl: 8 event(s), 8 recorded" in result.stdout
    refused = [json.loads(line)["line"] for line in rejects.read_text().splitlines()]
    assert refused == sorted(number for number in range(1, 25) if number % 3 != 1)
    assert stats(engine_call)["events"] == 8


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--skip-invalid"], "--skip-invalid and --rejects FILE go together"),
        (["--rejects", "out.jsonl"], "--skip-invalid and --rejects FILE go together"),
        (["--skip-invalid", "--rejects", "SELF"], "--rejects must not be the file being ingested"),
        (["--skip-invalid", "--rejects", "LINK"], "--rejects must not be the file being ingested"),
    ],
)
def test_skip_invalid_needs_a_rejects_file_of_its_own(
    invoke: Invoke, tmp_path: Path, options: list[str], message: str
) -> None:
    path = write_lines(tmp_path / "in.jsonl", [event("LOGIN")])
    link = tmp_path / "hard-link.jsonl"
    link.hardlink_to(path)
    named = {"SELF": str(path), "LINK": str(link)}
    options = [named.get(option, option) for option in options]
    result = invoke("events", "ingest", *options, str(path))
    assert result.exit_code == 2 and message in result.stderr
    assert path.read_text().strip() == event("LOGIN")


# -- the database URL ---------------------------------------------------------------------------


def test_an_unknown_option_in_the_database_url_is_one_line(cli_database: str) -> None:
    url = f"{cli_database}?bogus=1"
    result = run_cli(["leaderboard"], {"DATABASE_URL": url})
    assert result.exit_code == 1
    shown = result.stderr.removeprefix("Error: DATABASE_URL ").partition(" has option")[0]
    assert "***" in shown or "sqlite" in shown  # the password never shows
    assert result.stderr.endswith(" driver does not accept: bogus\n")
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "sqlite+aiosqlite:///q.db?bogus=1",
            "Error: DATABASE_URL sqlite+aiosqlite:///q.db?bogus=1 has option(s) the "
            "sqlite+aiosqlite driver does not accept: bogus\n",
        ),
        (
            "sqlite+aiosqlite:///q.db?timeout=3&bogus=1",
            "Error: DATABASE_URL sqlite+aiosqlite:///q.db?bogus=1&timeout=3 has option(s) the "
            "sqlite+aiosqlite driver does not accept: bogus\n",
        ),
        (
            "mysql+aiomysql://u:secret@127.0.0.1:1/q?bogus=1",
            "Error: DATABASE_URL mysql+aiomysql://u:***@127.0.0.1:1/q?bogus=1&charset=utf8mb4 "
            "has option(s) the mysql+aiomysql driver does not accept: bogus\n",
        ),
        (
            "mysql+aiomysql://u:secret@127.0.0.1:1/q?connect_timeout=soon",
            "Error: DATABASE_URL mysql+aiomysql://u:***@127.0.0.1:1/q?charset=utf8mb4&"
            "connect_timeout=soon has an option with a bad value: "
            "invalid literal for int() with base 10: 'soon'\n",
        ),
        (
            "sqlite+aiosqlite:///q.db?timeout=soon",
            "Error: DATABASE_URL sqlite+aiosqlite:///q.db?timeout=soon has an option with a bad "
            "value: could not convert string to float: 'soon'\n",
        ),
    ],
)
def test_database_url_options(url: str, message: str) -> None:
    result = run_cli(["leaderboard"], {"DATABASE_URL": url})
    assert (result.exit_code, result.stderr) == (1, message)


# -- course files ---------------------------------------------------------------------------

COURSES = {
    "deep.json": (
        '{"modules": ' + "[" * 10_000 + "]" * 10_000 + "}",
        "nested more than 100 levels deep",
    ),
    "deep.yaml": (
        "modules:\n" + "- " * 10_000 + "1\n",
        "not valid YAML at line 2, column 199: nested more than 100 levels deep",
    ),
    "order.yaml": (
        "modules:\n- {slug: m, title: M, order: 100000000000000000000}\n",
        "/modules/0/order: must be at most 2,147,483,647",
    ),
    "nan.yaml": (
        "modules:\n- {slug: m, title: M, order: .nan}\n",
        "/modules/0/order: NaN is not a JSON number; numbers must be finite",
    ),
    "surrogate.json": (
        '{"modules": [{"slug": "m", "title": "\\udc00", "order": 1}]}',
        "/modules/0/title: text holds a lone surrogate (U+DC00), which is not Unicode",
    ),
    "points.yaml": (
        "modules:\n- slug: m\n  title: M\n  order: 1\n  lessons:\n  - slug: l\n    title: L\n"
        "    order: 1\n    challenge: {question: Q, answers: [a], points: 1000000000000}\n",
        "/modules/0/lessons/0/challenge/points: must be at most 1,000,000",
    ),
    "long-key.json": (
        json.dumps({"modules": [{"slug": "m", "title": "M", "order": 1, LONG: 1}]}),
        f"/modules/0/{SHOWN}: Extra inputs are not permitted",
    ),
    "alias.yaml": (
        "modules:\n- {slug: m, title: &t M, description: *t, order: 1}\n",
        "not valid YAML at line 2, column 39: aliases (*name) are not supported; "
        "write the value out",
    ),
}


@pytest.mark.parametrize(("name", "text", "problem"), [(k, *v) for k, v in COURSES.items()])
def test_bad_course_files_are_one_line(
    invoke: Invoke,
    engine_call: Callable[..., Any],
    tmp_path: Path,
    name: str,
    text: str,
    problem: str,
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = invoke("content", "load", str(path))
    assert (result.exit_code, result.stderr) == (1, f"Error: {path}: {problem}\n")
    assert stats(engine_call)["modules"] == 0


def test_a_course_file_that_is_not_utf8_is_one_line(
    invoke: Invoke, engine_call: Callable[..., Any], tmp_path: Path
) -> None:
    path = tmp_path / "bin.yaml"
    path.write_bytes(b"modules: []\n\xff\xfe")
    result = invoke("content", "load", str(path))
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: {path}: not UTF-8 text (invalid start byte at byte 12)\n",
    )
    assert stats(engine_call)["modules"] == 0


# -- rule files -----------------------------------------------------------------------------

RULE = '{"slug": "r", "type": "MILESTONE", "title": "R", "points": %s, "criteria": %s}'
RULES = {
    "deep.json": ("[" * 10_000 + "]" * 10_000, "nested more than 100 levels deep"),
    "deep.yaml": (
        "- " * 10_000 + "1\n",
        "invalid YAML at line 1, column 201: nested more than 100 levels deep",
    ),
    "nan.json": (
        RULE % ("1", '{">=": [{"var": "stats.points"}, NaN]}'),
        "/criteria/>=/1: NaN is not a JSON number; numbers must be finite",
    ),
    "inf.yaml": (
        "slug: r\ntype: MILESTONE\ntitle: R\npoints: 1\n"
        "criteria: {'>=': [{var: stats.points}, .inf]}\n",
        "/criteria/>=/1: Infinity is not a JSON number; numbers must be finite",
    ),
    "points.json": (
        RULE % ("1000000000000", '{">=": [{"var": "stats.points"}, 1]}'),
        "/points: must be at most 1,000,000",
    ),
    "long-field.json": (
        RULE % ("1", f'true, "{LONG}": 1'),
        f'/{SHOWN}: unknown field "{SHOWN}" (allowed: slug, type, title, description, '
        "language, icon, points, streak_freezes, criteria, enabled, examples)",
    ),
    "long-fact.json": (
        RULE % ("1", json.dumps({"==": [{"var": "f" * 10_000}, 1]})),
        f'/criteria/==/0/var: unknown fact "{SHOWN}"',
    ),
    "long-operator.json": (
        RULE % ("1", json.dumps({"f" * 10_000: [1, 1]})),
        f'/criteria: unknown operator "{SHOWN}"',
    ),
    "surrogate.json": (
        RULE.replace('"R"', '"\\ud800"') % ("1", "true"),
        "/title: text holds a lone surrogate (U+D800), which is not Unicode",
    ),
}


@pytest.mark.parametrize(("name", "text", "problem"), [(k, *v) for k, v in RULES.items()])
def test_bad_rule_files_are_one_line(
    invoke: Invoke, tmp_path: Path, name: str, text: str, problem: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = invoke("rules", "validate", str(path))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{path.as_posix()}: {problem}",
        "1 error in 1 file; no rules were changed",
    ]


def test_links_that_leave_a_rule_folder_are_skipped_and_named(
    invoke: Invoke, tmp_path: Path
) -> None:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "milestones.json").write_bytes((CATALOG_DIR / "milestones.json").read_bytes())
    outside = tmp_path / "elsewhere"
    (outside / "more").mkdir(parents=True)
    (outside / "more" / "x.json").write_text("not JSON", encoding="utf-8")
    (folder / "passwd.json").symlink_to("/etc/passwd")
    (folder / "more").symlink_to(outside / "more", target_is_directory=True)
    result = invoke("rules", "validate", str(folder))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:2] == [
        f"{folder.as_posix()}/more: links to a place outside the folder; skipped",
        f"{folder.as_posix()}/passwd.json: links to a place outside the folder; skipped",
    ]
    assert lines[2].endswith(" OK in 1 file, 2 warning(s)")


@pytest.mark.mysql_only
def test_a_connection_killed_mid_chunk_names_the_lines_and_what_was_committed(
    invoke: Invoke, cli_url: str, engine_call: Callable[..., Any], tmp_path: Path
) -> None:
    """MariaDB's KILL drops the ingest's connection while it writes the second chunk."""
    register(invoke)
    lines = [event("LOGIN", idempotency_key=f"k{n}", details={"n": n}) for n in range(1, 6)]
    path = write_lines(tmp_path / "killed.jsonl", lines)
    trigger = DatabaseTrigger(cli_url)
    in_thread(
        trigger.execute(
            "CREATE TRIGGER refuse_row BEFORE INSERT ON activity_log FOR EACH ROW "
            "BEGIN IF NEW.details LIKE '%%\"n\": 3%%' THEN SET @slept = SLEEP(60); END IF; END"
        )
    )
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            running = pool.submit(invoke, "events", "ingest", "--chunk-size", "2", str(path))
            in_thread(_kill_the_sleeping_insert(cli_url))
            result = running.result(timeout=60)
    finally:
        in_thread(trigger.execute("DROP TRIGGER refuse_row"))
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: killed.jsonl, lines 3-4: database error: "
        "(2013, 'Lost connection to MySQL server during query') "
        "(2 event(s) before line 3 were recorded, nothing from it on; "
        "re-running the file is safe for events that carry an idempotency_key)\n"
    )
    assert stats(engine_call)["events"] == 2
    again = invoke("events", "ingest", "--chunk-size", "2", str(path))
    assert "killed.jsonl: 5 event(s), 3 recorded, 2 replay(s)" in again.stdout
    assert stats(engine_call)["events"] == 5


async def _kill_the_sleeping_insert(url: str) -> None:
    """Wait until an INSERT sleeps in the trigger, then KILL its connection."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            for _ in range(600):
                found = await connection.scalar(
                    text(
                        "SELECT ID FROM information_schema.PROCESSLIST "
                        "WHERE DB = DATABASE() AND STATE = 'User sleep'"
                    )
                )
                if found is not None:
                    await connection.execute(text(f"KILL CONNECTION {int(found)}"))
                    return
                await asyncio.sleep(0.05)
        raise AssertionError("the ingest never reached the sleeping INSERT")
    finally:
        await engine.dispose()


@pytest.mark.parametrize("name", ["Eve\n 1. Mallory  999 pts", "A\tB", "A\u2028B"])
def test_a_name_that_would_break_a_line_is_refused(invoke: Invoke, name: str) -> None:
    result = invoke("users", "register", "303", "--first-name", name)
    assert result.exit_code == 2
    assert "Invalid value for '--first-name': must not contain " in result.output
