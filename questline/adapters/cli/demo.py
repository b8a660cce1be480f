"""`questline demo`: a fresh SQLite database, the sample course and rules, simulated learners."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

import questline.engine
from questline.adapters.cli.pictures import card_png, heatmap_png, leaderboard_png, save_pngs
from questline.adapters.cli.render import (
    achievements_table,
    leaderboard_table,
    modules_table,
    moment,
    totals_line,
)
from questline.adapters.cli.runtime import console, open_engine, run
from questline.adapters.cli.simulation import CourseLesson, Simulation, simulate
from questline.engine import Engine
from questline.engine.content import read_course
from questline.engine.views import AchievementStatus, AwardView, LeaderboardEntry
from questline.rules import RuleDocument
from questline.rules.loading import CATALOG_DIR

SAMPLE_COURSE = Path(questline.engine.__file__).parent / "sample" / "course.yaml"
DEFAULT_DATABASE = Path("var/demo.db")
CHUNK = 250
SAMPLE_AWARDS = 10


def _recreate(path: Path) -> str:
    """Delete the SQLite file (and its journals) and return the URL of a fresh one there."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-journal", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    return f"sqlite+aiosqlite:///{path.resolve()}"


async def _course(engine: Engine) -> list[CourseLesson]:
    """The published lessons in course order, with their challenges' accepted answers."""
    answers = {
        (module.slug, lesson.slug): tuple(lesson.challenge.accepted)
        for module in read_course(SAMPLE_COURSE).modules
        for lesson in module.lessons
        if lesson.challenge is not None
    }
    return [
        CourseLesson(
            id=lesson.id,
            minutes=lesson.estimated_duration or 10,
            answers=answers.get((module.slug, lesson.slug), ()),
            points=lesson.challenge.points if lesson.challenge else 0,
        )
        for module in await engine.modules()
        for lesson in module.lessons
    ]


async def _record(engine: Engine, simulation: Simulation, out: Console) -> list[AwardView]:
    """Feed the simulated events in time order, a chunk per transaction, with a progress bar."""
    awards: list[AwardView] = []
    events = simulation.events
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=out) as progress:
        task = progress.add_task("recording events", total=len(events))
        for start in range(0, len(events), CHUNK):
            chunk = events[start : start + CHUNK]
            for result in await engine.record_many(chunk, chunk_size=CHUNK):
                awards.extend(result.awards)
            progress.advance(task, len(chunk))
    return awards


async def _answer_live(
    engine: Engine, simulation: Simulation, names: dict[int, str], out: Console
) -> list[AwardView]:
    """A few learners answer a challenge right now through the engine, a wrong answer first."""
    awards: list[AwardView] = []
    if simulation.live:
        out.rule("Right now: challenge answers")
    for live in simulation.live:
        lesson = await engine.lesson(live.lesson_id)
        question = lesson.challenge.question if lesson.challenge else lesson.title
        for answer in live.answers:
            outcome = await engine.answer_challenge(
                lesson_id=live.lesson_id, answer=answer, telegram_id=live.telegram_id
            )
            verdict = f"solved, +{outcome.score}" if outcome.solved else "not quite"
            earned = "".join(f" → {a.icon or '•'} {a.title}" for a in outcome.awards)
            line = f'{names[live.telegram_id]}: "{question}" → "{answer}": {verdict}{earned}'
            out.print(Text(line), soft_wrap=True)
            awards.extend(outcome.awards)
    return awards


async def _close_periods(engine: Engine, names: dict[int, str], out: Console) -> list[AwardView]:
    """Close the last finished week and month, as the bot's closer would have: their podium
    and champion rules are awarded once."""
    awards: list[AwardView] = []
    for period in ("week", "month"):
        closed = await engine.close_period(period)
        earned = ", ".join(
            f"{award.icon or '•'} {award.title} → {names.get(award.telegram_id, award.telegram_id)}"
            for award in closed.awards
        )
        out.print(
            f"closed the {period} {closed.first_day} – {closed.last_day}: "
            f"{closed.learners} learner(s) on its board" + (f"; {earned}" if earned else ""),
            soft_wrap=True,
        )
        awards.extend(closed.awards)
    return awards


def _awards_table(documents: list[RuleDocument], awards: list[AwardView]) -> Table:
    counts = Counter(award.slug for award in awards)
    table = Table(title=f"Awards: {len(awards)} in all", title_justify="left")
    table.add_column("achievement")
    table.add_column("slug")
    table.add_column("points", justify="right")
    table.add_column("earned by", justify="right")
    for document in sorted(documents, key=lambda doc: (-counts[doc.slug], doc.slug)):
        title = Text(f"{document.icon or '•'} {document.title_in()}")
        table.add_row(title, document.slug, str(document.points), str(counts[document.slug]))
    return table


def _sample_table(awards: list[AwardView], names: dict[int, str], engine: Engine) -> Table:
    """Awards spread over the simulated weeks: who earned what, when."""
    ordered = sorted(awards, key=lambda award: award.earned_at)
    step = max(len(ordered) // SAMPLE_AWARDS, 1)
    table = Table(title="Who earned what, when (a sample)", title_justify="left")
    table.add_column("when")
    table.add_column("learner")
    table.add_column("achievement")
    for award in ordered[::step][:SAMPLE_AWARDS]:
        table.add_row(
            moment(award.earned_at, engine.zone),
            Text(names[award.telegram_id]),
            Text(f"{award.icon or '•'} {award.title}"),
        )
    return table


async def _pictures(
    engine: Engine,
    folder: Path,
    top: list[LeaderboardEntry],
    spotlight: LeaderboardEntry,
    statuses: list[AchievementStatus],
) -> list[tuple[str, Path]]:
    """The spotlight learner's heat-map and latest award card, and the leaderboard, as PNG
    files in `folder`: what each shows, and its path."""
    calendar = await engine.activity_calendar(user_id=spotlight.user_id)
    shows = {"heatmap.png": f"{spotlight.display_name}'s last 12 weeks"}
    pictures = {"heatmap.png": heatmap_png(calendar)}
    earned = [status for status in statuses if status.earned_at is not None]
    if earned:
        latest = max(earned, key=lambda status: (status.earned_at, status.points))
        shows["card.png"] = f"{spotlight.display_name}'s card for {latest.title}"
        pictures["card.png"] = card_png(latest, spotlight.display_name)
    shows["leaderboard.png"] = "the leaderboard"
    pictures["leaderboard.png"] = leaderboard_png(top, "Leaderboard — top 10")
    return [(shows[path.name], path) for path in save_pngs(folder, pictures)]


async def _demo(
    database: Path, learners: int, weeks: int, seed: int, pictures: Path | None
) -> None:
    out = console()
    began = time.perf_counter()
    url = _recreate(database)
    out.rule("questline demo")
    async with open_engine(url, migrate=True) as engine:
        out.print(f"database: {database} (created afresh, migrated to the newest revision)")
        await engine.load_content(SAMPLE_COURSE)
        rules = await engine.load_rules([CATALOG_DIR])
        documents = engine.validate_rules([CATALOG_DIR])
        lessons = await _course(engine)
        modules = await engine.modules(published_only=False)
        out.print(
            f"sample course: {len(modules)} modules, "
            f"{sum(len(module.lessons) for module in modules)} lessons "
            f"({len(lessons)} published); rules: {len(rules.created)} achievements"
        )
        simulation = simulate(
            lessons,
            learners=learners,
            days=weeks * 7,
            end=datetime.now(UTC),
            zone=engine.zone,
            seed=seed,
        )
        names = {}
        for learner in simulation.learners:
            user = await engine.register_user(learner.profile)
            names[user.telegram_id] = f"{user.display_name} ({learner.persona.name})"
        out.print(
            f"{len(simulation.learners)} learners, {weeks} week(s) from "
            f"{simulation.start:%Y-%m-%d} to today, {len(simulation.events)} events (seed {seed})"
        )
        recording = time.perf_counter()
        awards = await _record(engine, simulation, out)
        recorded = time.perf_counter() - recording
        awards += await _answer_live(engine, simulation, names, out)
        awards += await _close_periods(engine, names, out)

        out.rule("Achievements")
        out.print(_awards_table(documents, awards))
        out.print(_sample_table(awards, names, engine))
        top = await engine.top(10)
        out.rule("Leaderboard")
        out.print(leaderboard_table(top, "Top 10 (ties share a rank)"))
        this_week = await engine.top(5, period="week")
        if this_week:
            out.print(leaderboard_table(this_week, "This week (since Monday): top 5"))
        if top:
            spotlight = top[min(2, len(top) - 1)]
            report = await engine.progress(user_id=spotlight.user_id)
            statuses = await engine.achievements(user_id=spotlight.user_id, locale="en")
            out.rule(f"Spotlight: {report.user.display_name}")
            out.print(modules_table(report))
            out.print(totals_line(report))
            out.print(achievements_table(statuses, engine.zone))
            written = await _pictures(engine, pictures or database.parent, top, spotlight, statuses)
            out.rule("Pictures")
            for shows, path in written:
                out.print(Text(f"{shows}: {path}"), soft_wrap=True)
    rate = len(simulation.events) / recorded if recorded else 0
    out.rule()
    out.print(
        f"{len(simulation.events)} events recorded in {recorded:.1f} s ({rate:.0f}/s); "
        f"demo finished in {time.perf_counter() - began:.1f} s"
    )
    out.print(f"explore it: DATABASE_URL={url} questline leaderboard --period week", soft_wrap=True)


@click.command()
@click.option(
    "--database",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_DATABASE,
    show_default=True,
    help="SQLite file the demo deletes and creates afresh (DATABASE_URL is not used).",
)
@click.option("--learners", default=24, show_default=True, type=click.IntRange(1, 1000))
@click.option("--weeks", default=4, show_default=True, type=click.IntRange(1, 52))
@click.option("--seed", default=7, show_default=True, help="Same seed, same learners and events.")
@click.option(
    "--pictures",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the PNG pictures (default: the database's folder).",
)
def demo(database: Path, learners: int, weeks: int, seed: int, pictures: Path | None) -> None:
    """Simulate a learning community and show its awards and leaderboard.

    Creates a fresh SQLite database (--database, default var/demo.db, deleted first), loads
    the sample course and the default rules, registers simulated learners — daily learners
    building streaks, weekend learners, dropouts, night owls, challenge solvers who answer
    wrong first — records weeks of their activity ending today, and prints the awards, the
    leaderboard and one learner's progress; it also draws that learner's activity heat-map,
    their latest achievement card and the leaderboard as PNG files (--pictures).
    """
    run(_demo(database, learners, weeks, seed, pictures))
