"""Leaderboards: pages of a board, and closing weeks and months."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from questline.engine import catalogue, closing, leaderboard
from questline.engine.db import answering
from questline.engine.errors import QuestlineError
from questline.engine.facets.base import EngineBase
from questline.engine.periods import Period, last_finished, moment_at, period_named, period_of
from questline.engine.timestamps import utcnow
from questline.engine.views import ClosedPeriod, LeaderboardEntry


class Boards(EngineBase):
    """The all-time, weekly and monthly boards, and the close of a finished period."""

    def _board(self, period: str, at: datetime | None) -> leaderboard.Standings:
        """The board of `period` ("all", "week" or "month"): for a week or month, the one
        holding `at` (default now) in the engine's time zone."""
        kind = period_named(period)
        if kind is Period.ALL:
            return leaderboard.ALL_TIME
        return leaderboard.period_board(kind, period_of(kind, moment_at(at), self.zone))

    async def top(
        self, limit: int = 10, *, period: str = "all", at: datetime | None = None
    ) -> list[LeaderboardEntry]:
        """The first `limit` (1 to `leaderboard.MAX_TOP`) entries of the board of `period`
        (see `_board`)."""
        if not 1 <= limit <= leaderboard.MAX_TOP:
            raise QuestlineError(f"limit must be 1 to {leaderboard.MAX_TOP:,}, not {limit}")
        board = self._board(period, at)
        async with answering(self.sessions.seconds), self.reader.connect() as connection:
            return await leaderboard.top(connection, limit, board)

    async def around(
        self,
        *,
        user_id: int | None = None,
        telegram_id: int | None = None,
        radius: int = 2,
        period: str = "all",
        at: datetime | None = None,
    ) -> list[LeaderboardEntry]:
        """The learner's entry on the board of `period` with `radius` entries either side
        (empty if they are not on it)."""
        board = self._board(period, at)
        async with answering(self.sessions.seconds), self.reader.connect() as connection:
            entries = await leaderboard.around(
                connection, radius, board, user_id=user_id, telegram_id=telegram_id
            )
        if not entries:  # not on the board, or no such learner (UnknownUser)
            async with self.sessions.reading() as session:
                await catalogue.find_user(session, user_id=user_id, telegram_id=telegram_id)
        return entries

    async def close_period(
        self, period: str = "week", *, at: datetime | None = None
    ) -> ClosedPeriod:
        """Close the last week or month finished at `at` (default now): evaluate the rules
        reading its leaderboard facts for every learner on its board and grant what holds,
        once, however many processes call this (a later call reports the first close).

        Awards are earned at `at` (so their points count in the period holding it) and are
        announced through the outbox like an event's.
        """
        kind = period_named(period)
        if kind is Period.ALL:
            raise QuestlineError('"all" never closes; close a week or a month')
        moment = moment_at(at)
        if moment > utcnow():
            raise QuestlineError(f"cannot close as of {moment.isoformat()}: it is in the future")
        start = last_finished(kind, moment, self.zone)
        course = await self.course()
        rules = closing.period_rules(self.rulebook.rules, kind)

        async def work(session: AsyncSession) -> ClosedPeriod:
            return await closing.close(session, self.recorder, course, rules, kind, start, moment)

        try:
            return await self._write(work)
        except IntegrityError:
            async with self.sessions() as session:
                row = await closing.find(session, kind, start)
            if row is None:
                raise
            return closing.closed_view(row, (), again=True)

    async def period_close(
        self, period: str = "week", *, at: datetime | None = None
    ) -> ClosedPeriod | None:
        """How the last week or month finished at `at` (default now) was closed; None while it
        is not closed yet."""
        kind = period_named(period)
        if kind is Period.ALL:
            raise QuestlineError('"all" never closes; ask about a week or a month')
        start = last_finished(kind, moment_at(at), self.zone)
        async with self.sessions() as session:
            row = await closing.find(session, kind, start)
        return None if row is None else closing.closed_view(row, (), again=True)

    async def rebuild_leaderboard(self) -> int:
        """Recompute every learner's all-time total from their lesson scores and the awards
        they hold, and store the ranks of the active ones; returns the rows ranked."""
        return await self._write(leaderboard.rebuild)
