"""`questline leaderboard`: the all-time, weekly and monthly boards, and the period close job."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

import click

from questline.adapters.cli.render import leaderboard_table
from questline.adapters.cli.runtime import console, open_engine, run
from questline.engine.leaderboard import MAX_TOP
from questline.engine.periods import Period, moment_at, start_of
from questline.engine.views import ClosedPeriod, LeaderboardEntry

TITLES = {"all": "all time", "week": "this week", "month": "this month"}


class Moment(click.ParamType):
    """An ISO 8601 time with a UTC offset, e.g. 2026-03-30T08:00+02:00."""

    name = "time"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 time (e.g. 2026-03-30T08:00+02:00)")
        if moment.tzinfo is None:
            self.fail(f"{value!r} has no UTC offset (e.g. 2026-03-30T08:00+02:00 or ...Z)")
        return moment


AT = click.option(
    "--at",
    type=Moment(),
    help="Take the week or month holding this time (ISO 8601 with an offset; default now).",
)


def period_name(period: str, at: datetime | None, zone: tzinfo) -> str | None:
    """The week's dates or the month holding `at` in `zone`; None for all time or the current
    week or month."""
    if period == Period.ALL:
        return None
    kind = Period(period)
    first = start_of(kind, moment_at(at).astimezone(zone).date())
    if first == start_of(kind, moment_at(None).astimezone(zone).date()):
        return None
    if kind is Period.MONTH:
        return f"{first:%B %Y}"
    return f"week {first} – {first + timedelta(days=6)}"


async def _board(
    top: int, period: str, at: datetime | None, rebuild: bool
) -> tuple[list[LeaderboardEntry], int | None, str | None]:
    async with open_engine() as engine:
        ranked = await engine.rebuild_leaderboard() if rebuild else None
        entries = await engine.top(top, period=period, at=at)
        return entries, ranked, period_name(period, at, engine.zone)


@click.group(invoke_without_command=True)
@click.option("--top", "top", default=10, show_default=True, type=click.IntRange(1, MAX_TOP))
@click.option(
    "--period",
    type=click.Choice(list(TITLES)),
    default="all",
    show_default=True,
    help="All time, or this week (Monday to Sunday) or month in QUESTLINE_TIMEZONE.",
)
@AT
@click.option("--rebuild", is_flag=True, help="Recompute every stored all-time rank first.")
@click.pass_context
def leaderboard(
    ctx: click.Context, top: int, period: str, at: datetime | None, rebuild: bool
) -> None:
    """Show a leaderboard (competition ranking: ties share a rank)."""
    if ctx.invoked_subcommand is not None:
        return
    entries, ranked, name = run(_board(top, period, at, rebuild))
    out = console()
    if ranked is not None:
        out.print(f"rebuilt the ranks of {ranked} learner(s)")
    if not entries:
        if name:
            out.print(f"nobody is on the leaderboard for {name}")
        else:
            scope = "" if period == Period.ALL else f" for {TITLES[period]}"
            out.print(f"nobody is on the leaderboard{scope} yet")
        return
    out.print(leaderboard_table(entries, f"Leaderboard, {name or TITLES[period]} — top {top}"))


async def _close(period: str, at: datetime | None) -> ClosedPeriod:
    async with open_engine() as engine:
        return await engine.close_period(period, at=at)


@leaderboard.command("close-period")
@click.option("--period", type=click.Choice(["week", "month"]), default="week", show_default=True)
@AT
def close_period(period: str, at: datetime | None) -> None:
    """Award the period rules for the last finished week or month, once.

    Run it from a scheduler after each Monday 00:00 (or 1st of the month) in QUESTLINE_TIMEZONE;
    running it again, or from several hosts, grants nothing twice.
    """
    closed = run(_close(period, at))
    span = f"{closed.period} {closed.first_day} – {closed.last_day}"
    if closed.already_closed:
        console().print(f"{span} was already closed at {closed.closed_at:%Y-%m-%d %H:%M} UTC")
        return
    out = console()
    out.print(f"closed {span}: {closed.learners} learner(s), {len(closed.awards)} award(s)")
    for award in closed.awards:
        out.print(f"  {award.slug} → learner {award.user_id} (Telegram id {award.telegram_id})")
