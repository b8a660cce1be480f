"""`questline events ingest FILE.jsonl`: record a file of events, one JSON object per line.

Lines are read in chunks; every line of a chunk is parsed and validated before the chunk is
recorded in one transaction, so a bad line stops the ingest with its line number and nothing
of its chunk is written (earlier chunks stay recorded, and replaying the file is safe when the
events carry idempotency keys). With `--skip-invalid --rejects FILE`, a line that cannot be
parsed or that the engine refuses is written to the rejects file with its number and reason
instead, and the chunk is recorded without it. A database error while a chunk is written (a
lost connection, a constraint) stops the ingest either way, naming the chunk's lines.

Progress goes to stderr: a bar on a terminal, otherwise (a log file, cron, systemd, CI) a plain
line every `--progress-interval` seconds.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import TextIO

import click
from pydantic import ValidationError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.exc import DBAPIError

from questline.adapters.cli.runtime import console, database_message, open_engine, run
from questline.engine import Engine, Event, EventRejected
from questline.engine.limits import MAX_DETAILS_DEPTH
from questline.plain_errors import one_line, plain_message, shortened
from questline.rules.parsing import BOM, nesting_problem, utf8_problem, without_bom

DEFAULT_CHUNK = 500
DEFAULT_PROGRESS_INTERVAL = 10.0
ALREADY_SOLVED = "challenge(s) already solved"


class BadLine(click.ClickException):
    """A line that could not be recorded; the message names the file, line and problem."""


@dataclass
class Rejects:
    """Where refused lines go with `--skip-invalid`: one JSON object per line."""

    handle: TextIO
    count: int = 0

    def add(self, number: int, reason: str, text: str) -> None:
        record = {"line": number, "reason": reason, "text": text.rstrip("\r\n")}
        self.handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.count += 1


@dataclass
class IngestSummary:
    """What the events recorded so far did: `replays` carried an idempotency key recorded
    before and `already_solved` solved a challenge solved before; neither wrote anything."""

    events: int = 0
    replays: int = 0
    already_solved: int = 0
    awards: Counter[str] = field(default_factory=Counter)

    @property
    def recorded(self) -> int:
        """Events written now, the rest being replays and challenges already solved."""
        return self.events - self.replays - self.already_solved

    def not_written(self) -> list[str]:
        """The events that wrote nothing, by kind ("2 replay(s)"): the kinds there are."""
        kinds = ((self.replays, "replay(s)"), (self.already_solved, ALREADY_SOLVED))
        return [f"{count} {kind}" for count, kind in kinds if count]


def validation_message(error: ValidationError) -> str:
    """Pydantic's errors as one line: `field: message; …`."""
    parts = []
    for item in error.errors():
        message = plain_message(item)
        where = ".".join(shortened(str(part)) for part in item["loc"])
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def parse_line(text: str) -> Event:
    """One event from one line of JSON; ValueError names what is wrong."""
    if text.startswith(BOM):
        raise ValueError("not valid JSON (a byte order mark, U+FEFF, may only start the file)")
    try:
        raw = json.loads(text.rstrip())
    except json.JSONDecodeError as error:
        # some messages end in "at" themselves ("Unterminated string starting at")
        problem = error.msg.removesuffix(" at")
        raise ValueError(f"not valid JSON ({problem} at column {error.colno})") from None
    except RecursionError:
        raise ValueError(f"invalid event: {nesting_problem(MAX_DETAILS_DEPTH)}") from None
    if not isinstance(raw, dict):
        raise ValueError("expected a JSON object with the event's fields")
    try:
        return Event.model_validate(raw)
    except ValidationError as error:
        raise ValueError(f"invalid event: {validation_message(error)}") from None


def numbered_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Non-blank lines with their 1-based line numbers; a byte order mark may start the file.

    Bytes that are not UTF-8 raise UnicodeDecodeError, whose offset counts from the start of
    the block being decoded: :func:`not_utf8` says where they lie in the file.
    """
    with path.open(encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            text = without_bom(text) if number == 1 else text
            if text.strip():
                yield number, text


def _line_breaks(data: bytes) -> int:
    """How many lines `data` ends, as text mode reads them: at LF, CRLF or a lone CR."""
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")


def not_utf8(path: Path) -> str:
    """`path` and where its first bytes that are not UTF-8 lie: the line, and the offset of
    the first bad byte from the start of the file."""
    number, offset = 1, 0
    with path.open("rb") as handle:
        for raw in handle:
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as error:
                number += _line_breaks(raw[: error.start])
                problem = utf8_problem(error.reason, offset + error.start)
                return f"{path.name}, line {number}: {problem}"
            number += _line_breaks(raw)
            offset += len(raw)
    return f"{path.name}: not UTF-8 text"  # it changed since it was read


def _stopped(
    path: Path, where: str, problem: str, chunk_start: int, summary: IngestSummary
) -> BadLine:
    # a lone surrogate echoed from the line (a field name) is shown as its escape
    problem = problem.encode("utf-8", "backslashreplace").decode("utf-8")
    return BadLine(f"{path.name}, {where}: {problem} ({_done(summary, chunk_start)})")


def _done(summary: IngestSummary, chunk_start: int) -> str:
    """What a stopped ingest recorded: the events before line `chunk_start`."""
    if not summary.events:
        return "nothing was recorded"
    skipped = " and ".join(summary.not_written())
    also = f" and {skipped} were not" if skipped else ""
    return (
        f"{summary.recorded} event(s) before line {chunk_start} were recorded{also}, "
        f"nothing from it on; re-running the file is safe for events that carry an "
        f"idempotency_key"
    )


async def _record_chunk(
    engine: Engine,
    path: Path,
    chunk: list[tuple[int, str]],
    summary: IngestSummary,
    rejects: Rejects | None,
) -> None:
    lines: list[tuple[int, str, Event]] = []
    refused: list[tuple[int, str, str]] = []
    try:
        for number, text in chunk:
            try:
                lines.append((number, text, parse_line(text)))
            except ValueError as error:
                if rejects is None:
                    where = f"line {number}"
                    raise _stopped(path, where, str(error), chunk[0][0], summary) from None
                refused.append((number, str(error), text))
        await _record_lines(engine, path, lines, summary, None if rejects is None else refused)
    finally:
        if rejects is not None:
            for number, reason, text in sorted(refused):
                rejects.add(number, reason, text)


async def _record_lines(
    engine: Engine,
    path: Path,
    lines: list[tuple[int, str, Event]],
    summary: IngestSummary,
    refused: list[tuple[int, str, str]] | None,
) -> None:
    """Record `lines` in order, in one transaction when none is refused.

    A line the engine refuses stops the command; with `refused` (--skip-invalid) it is noted
    there once the lines before it are recorded, and the rest goes on after it, so each line
    is recorded at most twice however many are refused.
    """
    while lines:
        try:
            events = [event for _, _, event in lines]
            results = await engine.record_many(events, chunk_size=len(events))
        except EventRejected as rejected:
            number, text, _ = lines[rejected.index]
            problem = one_line(rejected.error)
            if refused is None:
                where, first = f"line {number}", lines[0][0]
                raise _stopped(path, where, problem, first, summary) from None
            await _record_lines(engine, path, lines[: rejected.index], summary, refused)
            refused.append((number, problem, text))
            lines = lines[rejected.index + 1 :]
            continue
        except DBAPIError as error:
            # the transaction was rolled back; which of its lines the database refused is not
            # known (rows are written together), so every line it held is named
            first, last = lines[0][0], lines[-1][0]
            where = f"line {first}" if first == last else f"lines {first}-{last}"
            raise _stopped(path, where, database_message(error), first, summary) from None
        for result in results:
            summary.events += 1
            if result.replayed:
                summary.replays += 1
            elif result.already_solved:
                summary.already_solved += 1
            else:
                summary.awards.update(award.slug for award in result.awards)
        return


Advance = Callable[[int, IngestSummary], None]
"""Told after each chunk: how many lines it held, and the summary so far."""


@dataclass
class PlainProgress:
    """Progress as a plain line on stderr, at most once every `interval` seconds."""

    name: str
    total: int | None
    """Lines in the file; None for a pipe, which is read once."""
    interval: float
    done: int = 0
    started: float = field(default_factory=time.monotonic)
    shown: float = field(default_factory=time.monotonic)

    def __call__(self, lines: int, summary: IngestSummary) -> None:
        self.done += lines
        now = time.monotonic()
        if now - self.shown < self.interval:
            return
        self.shown = now
        rate = summary.events / max(now - self.started, 1e-6)
        of = f" of {self.total:,}" if self.total is not None else ""
        click.echo(
            f"{self.name}: {self.done:,}{of} lines, {rate:,.0f} events/s, "
            f"{summary.recorded:,} recorded",
            err=True,
        )


@contextmanager
def progress_shown(path: Path, total: int | None, interval: float) -> Iterator[Advance]:
    """A progress bar when stderr is a terminal, plain lines (:class:`PlainProgress`) if not."""
    err = console(stderr=True)
    if not err.is_terminal:
        yield PlainProgress(path.name, total, interval)
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=err) as progress:
        task = progress.add_task(f"ingesting {path.name}", total=total)
        yield lambda lines, _: progress.advance(task, lines)


def _line_count(path: Path) -> int | None:
    """The lines to record, for the progress bar; None for a pipe (read once, not counted)."""
    if not path.is_file():
        return None
    try:
        return sum(1 for _ in numbered_lines(path))
    except UnicodeDecodeError:
        raise BadLine(not_utf8(path)) from None
    except OSError as error:
        raise BadLine(f"{path.name}: cannot read: {error.strerror or error}") from None


def _next_chunk(
    path: Path, lines: Iterator[tuple[int, str]], size: int, summary: IngestSummary, start: int
) -> list[tuple[int, str]]:
    """The next `size` lines (from line `start` on); a byte that is not UTF-8 (the file changed
    since it was counted, or a pipe) or a read error stops the ingest in one line."""
    try:
        return list(islice(lines, size))
    except UnicodeDecodeError as error:
        where = not_utf8(path) if path.is_file() else f"{path.name}: not UTF-8 ({error.reason})"
        raise BadLine(f"{where} ({_done(summary, start)})") from None
    except OSError as error:
        reason = error.strerror or error
        raise BadLine(f"{path.name}: cannot read: {reason} ({_done(summary, start)})") from None


def _rejects_file(path: Path) -> TextIO:
    try:
        return path.open("w", encoding="utf-8")
    except OSError as error:
        raise click.ClickException(f"cannot write --rejects {path}: {error.strerror}") from None


async def _ingest(
    path: Path, chunk_size: int, rejects_path: Path | None, interval: float
) -> tuple[IngestSummary, int]:
    """Record the file; its summary and how many lines were rejected (with --rejects, whose
    file is written only once the database is there: a refused start leaves an earlier one
    as it was)."""
    total = _line_count(path)
    summary = IngestSummary()
    async with open_engine() as engine:
        with ExitStack() as stack:
            rejects = None
            if rejects_path is not None:
                rejects = Rejects(stack.enter_context(_rejects_file(rejects_path)))
            with progress_shown(path, total, interval) as advance:
                lines = numbered_lines(path)
                start = 1
                while chunk := _next_chunk(path, lines, chunk_size, summary, start):
                    await _record_chunk(engine, path, chunk, summary, rejects)
                    advance(len(chunk), summary)
                    start = chunk[-1][0] + 1
    return summary, rejects.count if rejects is not None else 0


class EventsGroup(click.Group):
    """`questline events`; plugins may add subcommands (the NATS adapter's `publish`)."""

    @staticmethod
    def _plugin_commands(ctx: click.Context) -> None:
        from questline.adapters.cli import QuestlineGroup

        root = ctx.find_root().command
        if isinstance(root, QuestlineGroup):
            root.load_plugin_commands()

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._plugin_commands(ctx)
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            self._plugin_commands(ctx)
        return super().get_command(ctx, cmd_name)


@click.group(cls=EventsGroup)
def events() -> None:
    """Learner activity events."""


@events.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--chunk-size",
    default=DEFAULT_CHUNK,
    show_default=True,
    type=click.IntRange(min=1),
    help="Events per transaction.",
)
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Record the valid events; write each refused line to --rejects instead of stopping.",
)
@click.option(
    "--rejects",
    "rejects_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="With --skip-invalid: the JSON Lines file of refused lines (line, reason, text).",
)
@click.option(
    "--progress-interval",
    default=DEFAULT_PROGRESS_INTERVAL,
    show_default=True,
    type=click.FloatRange(min=0),
    help="When stderr is not a terminal: seconds between plain progress lines.",
)
def ingest(
    file: Path,
    chunk_size: int,
    skip_invalid: bool,
    rejects_path: Path | None,
    progress_interval: float,
) -> None:
    """Record the events of a JSON Lines file, one event object per line.

    Fields: type, user_id or telegram_id, lesson_id, score, details, occurred_at (ISO 8601 with
    an offset) and idempotency_key (a key seen before is a replay: nothing new is written).
    The first refused line stops the ingest, unless --skip-invalid is given.
    """
    if skip_invalid != (rejects_path is not None):
        raise click.UsageError("--skip-invalid and --rejects FILE go together")
    if rejects_path is not None and (
        rejects_path.resolve() == file.resolve()
        or (rejects_path.exists() and rejects_path.samefile(file))  # a hard link to it
    ):
        raise click.UsageError("--rejects must not be the file being ingested")
    summary, rejected = run(_ingest(file, chunk_size, rejects_path, progress_interval))
    awarded = sum(summary.awards.values())
    solved = f", {summary.already_solved} {ALREADY_SOLVED}" if summary.already_solved else ""
    refused = f", {rejected} rejected (see {rejects_path})" if rejects_path else ""
    click.echo(
        f"{file.name}: {summary.events} event(s), {summary.recorded} recorded, "
        f"{summary.replays} replay(s){solved}, {awarded} award(s) granted{refused}"
    )
    for slug, count in sorted(summary.awards.items()):
        click.echo(f"  {slug}: {count}")
