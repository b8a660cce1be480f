"""Reminders: each learner's settings, and the claims a scheduler sends and settles
(docs/engine.md, "Reminders")."""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy.ext.asyncio import AsyncSession

from questline.engine import catalogue, reminders
from questline.engine.errors import QuestlineError, UnknownUser
from questline.engine.facets.base import EngineBase
from questline.engine.periods import moment_at
from questline.engine.reminder_times import parse_zone
from questline.engine.reminders import KEEP, Keep
from questline.engine.views import ReminderClaim, ReminderSettingsView

MAX_REMINDER_BATCH = 1000


class Reminders(EngineBase):
    """Learners' reminder settings, and exactly-once claims for the schedulers that send them."""

    async def reminder_settings(
        self, *, user_id: int | None = None, telegram_id: int | None = None
    ) -> ReminderSettingsView:
        """The learner's reminders (time zone None: never set up)."""
        async with self.sessions.reading() as session:
            user = await catalogue.find_user(session, user_id=user_id, telegram_id=telegram_id)
            return reminders.view(await reminders.stored(session, user.id), self.reminder_policy)

    async def set_reminders(
        self,
        *,
        user_id: int | None = None,
        telegram_id: int | None = None,
        time_zone: str | None = None,
        daily_at: time | Keep | None = KEEP,
        streak_nudge: bool | None = None,
        stopped: bool | None = None,
        at: datetime | None = None,
    ) -> ReminderSettingsView:
        """Change the learner's reminders as of `at` (now) and reschedule them.

        `time_zone` is an IANA name or a UTC offset ("+03:00"), required the first time;
        `daily_at` a local time outside quiet hours (None: no daily reminder); `stopped`
        pauses every reminder (True) or resumes them (False). Arguments left out keep their
        value.
        """
        policy = self.reminder_policy
        changes = reminders.Changes(
            time_zone=parse_zone(time_zone) if time_zone is not None else None,
            daily_at=daily_at
            if isinstance(daily_at, Keep) or daily_at is None
            else policy.checked_daily(daily_at),
            streak_nudge=streak_nudge,
            stopped=stopped,
        )
        now = moment_at(at)

        async def work(session: AsyncSession) -> ReminderSettingsView:
            user = await catalogue.find_user(session, user_id=user_id, telegram_id=telegram_id)
            return await reminders.change(session, user.id, changes, policy, now)

        return await self._write(work)

    async def reminders_back(
        self,
        *,
        user_id: int | None = None,
        telegram_id: int | None = None,
        at: datetime | None = None,
    ) -> bool:
        """The learner talks to the bot again: lift the hold a 403 (or `reminders_away`) put
        on their reminders. Returns whether there was one (an unknown learner has none)."""
        now = moment_at(at)
        async with self.sessions.reading() as session:
            try:
                user = await catalogue.find_user(session, user_id=user_id, telegram_id=telegram_id)
            except UnknownUser:
                return False
            row = await reminders.stored(session, user.id)
            if row is None or row.blocked_at is None:
                return False
            learner = user.id

        async def work(session: AsyncSession) -> bool:
            return await reminders.unblock(session, learner, self.reminder_policy, now)

        return await self._write(work)

    async def reminders_away(
        self,
        *,
        user_id: int | None = None,
        telegram_id: int | None = None,
        at: datetime | None = None,
    ) -> bool:
        """The learner blocked the bot (Telegram says so at once, before any 403): hold their
        reminders until `reminders_back`. Returns whether a hold began (an unknown learner,
        or one who never set up reminders, has none to hold)."""
        now = moment_at(at)

        async def work(session: AsyncSession) -> bool:
            try:
                user = await catalogue.find_user(session, user_id=user_id, telegram_id=telegram_id)
            except UnknownUser:
                return False
            return await reminders.hold(session, user.id, now)

        return await self._write(work)

    async def due_reminders(self, now: datetime, limit: int = 100) -> list[ReminderClaim]:
        """Claim up to `limit` reminders due at `now`, each for its sender alone: a reminder
        is claimed once per learner, local day and kind, whatever the number of callers.

        Settle each claim with `reminder_sent`, `reminder_blocked` or `reminder_failed`; a
        claim left unsettled is claimed again when its lease ends (docs/engine.md).
        """
        if not 1 <= limit <= MAX_REMINDER_BATCH:
            raise QuestlineError(f"limit must be 1 to {MAX_REMINDER_BATCH}, not {limit}")
        moment = moment_at(now)

        async def work(session: AsyncSession) -> list[ReminderClaim]:
            return await reminders.claim_due(
                session, moment, limit, self.reminder_policy, self.zone
            )

        return await self._write(work)

    async def reminder_sending(self, claim: ReminderClaim, *, at: datetime | None = None) -> bool:
        """About to send `claim`: its lease starts again from `at` (now), to cover this send;
        False if it was retaken or settled meanwhile (another sender has it: do not send)."""
        now = moment_at(at)

        async def work(session: AsyncSession) -> bool:
            return await reminders.renew(session, claim, now, self.reminder_policy)

        return await self._write(work)

    async def reminder_sent(self, claim: ReminderClaim, *, at: datetime | None = None) -> bool:
        """Telegram accepted the reminder; False if the claim had been retaken or settled."""
        now = moment_at(at)

        async def work(session: AsyncSession) -> bool:
            return await reminders.settle(session, claim, reminders.Status.SENT, now)

        return await self._write(work)

    async def reminder_blocked(self, claim: ReminderClaim, *, at: datetime | None = None) -> bool:
        """The learner blocked the bot (403): no reminders until `reminders_back`."""
        now = moment_at(at)

        async def work(session: AsyncSession) -> bool:
            return await reminders.block(session, claim, now)

        return await self._write(work)

    async def reminder_failed(
        self,
        claim: ReminderClaim,
        error: str,
        *,
        retry_at: datetime | None = None,
        at: datetime | None = None,
    ) -> bool:
        """Sending failed: tried again from `retry_at` (still that day, outside quiet hours,
        at most `max_attempts` in all), or given up when it is None."""
        now = moment_at(at)

        async def work(session: AsyncSession) -> bool:
            if retry_at is None:
                return await reminders.settle(
                    session, claim, reminders.Status.FAILED, now, error=error
                )
            return await reminders.postpone(session, claim, moment_at(retry_at), error)

        return await self._write(work)
