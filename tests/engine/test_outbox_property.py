"""Property: for any interleaving of commits, dispatcher crashes and restarts, what the hooks
were handed (deduplicated by id) is exactly what was committed."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from itertools import count

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from questline.engine import Engine, Event, UserProfile
from questline.engine.dispatcher import Dispatcher, DispatchSettings
from questline.engine.models import Achievement, ActivityLog, UserAchievement
from questline.engine.outbox import Delivery
from questline.engine.views import AwardView, LessonView, RecordResult, UserView
from questline.plugins import hookimpl
from questline.rules.vocabulary import ActivityType as A

from .conftest import T0
from .test_outbox import Clock

LEASE = DispatchSettings(lease=timedelta(seconds=30), batch=4)


class Crash(BaseException):
    """The dispatching process dies."""


class Sink:
    """Hears events and awards; can be told to die at its n-th call, before or after noting."""

    def __init__(self) -> None:
        self.awards: dict[str, tuple[int, str]] = {}
        self.events: dict[str, int] = {}
        self.crash_in: int | None = None
        self.noted_before_crash = False

    def _hear(self, note: Callable[[], None]) -> None:
        if self.crash_in == 0:
            self.crash_in = None
            if self.noted_before_crash:  # the effect happened, the acknowledgement did not
                note()
            raise Crash
        if self.crash_in is not None:
            self.crash_in -= 1
        note()

    @hookimpl
    def questline_award_granted(self, award: AwardView, delivery: Delivery) -> None:
        def note() -> None:
            assert self.awards.setdefault(delivery.id, (award.user_id, award.slug)) == (
                award.user_id,
                award.slug,
            )

        self._hear(note)

    @hookimpl
    def questline_event_recorded(self, result: RecordResult, delivery: Delivery) -> None:
        def note() -> None:
            assert self.events.setdefault(delivery.id, result.activity_id) == result.activity_id

        self._hear(note)


commit = st.tuples(st.just("commit"), st.integers(0, 1), st.integers(0, 7))
deliver = st.tuples(st.just("deliver"), st.none() | st.integers(0, 6), st.booleans())
restart = st.tuples(st.just("restart"))
steps = st.lists(st.one_of(commit, deliver, restart), max_size=14)

cohorts = count()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=steps)
async def test_delivered_ids_are_the_committed_awards_and_events(
    engine: Engine, lessons: list[LessonView], plan: list[tuple]
) -> None:
    sink = Sink()
    number = next(cohorts)
    name = f"sink-{number}"
    engine.plugins.register(sink, name=name)
    try:
        users = [
            await engine.register_user(UserProfile(telegram_id=30_000 + 10 * number + n))
            for n in range(2)
        ]
        await _play(engine, lessons, plan, sink, users)
    finally:
        engine.plugins.unregister(name=name)

    awards, events = await _committed(engine, [user.id for user in users])
    delivered_awards = {pair for pair in sink.awards.values() if pair[0] in awards}
    assert delivered_awards == set().union(*awards.values())
    assert set(sink.events.values()) == events
    by_award: dict[tuple[int, str], set[str]] = defaultdict(set)
    for dedupe_id, pair in sink.awards.items():
        by_award[pair].add(dedupe_id)
    assert all(len(ids) == 1 for ids in by_award.values())


async def _play(
    engine: Engine, lessons: list[LessonView], plan: list[tuple], sink: Sink, users: list[UserView]
) -> None:
    clock = Clock()
    for step in plan:
        if step[0] == "commit":
            _, who, lesson = step
            await engine.record(
                Event(
                    type=A.LESSON_COMPLETED,
                    user_id=users[who].id,
                    lesson_id=lessons[lesson % len(lessons)].id,
                    occurred_at=T0,
                )
            )
        elif step[0] == "deliver":
            _, crash_in, noted = step
            sink.crash_in, sink.noted_before_crash = crash_in, noted
            with contextlib.suppress(Crash):
                await Dispatcher(engine, LEASE, clock=clock).deliver_pending()
            sink.crash_in = None
        else:  # a new process: the dead one's leases run out
            clock.advance(LEASE.lease.total_seconds())
    clock.advance(LEASE.lease.total_seconds())
    await Dispatcher(engine, LEASE, clock=clock).deliver_pending()
    assert (await engine.outbox_status())["pending"] == 0


async def _committed(
    engine: Engine, user_ids: list[int]
) -> tuple[dict[int, set[tuple[int, str]]], set[int]]:
    async with engine.sessions() as session:
        rows = await session.execute(
            select(UserAchievement.user_id, Achievement.slug)
            .join(Achievement)
            .where(UserAchievement.user_id.in_(user_ids))
        )
        awards: dict[int, set[tuple[int, str]]] = {user_id: set() for user_id in user_ids}
        for user_id, slug in rows:
            awards[user_id].add((user_id, slug))
        events = set(
            await session.scalars(
                select(ActivityLog.id).where(
                    ActivityLog.user_id.in_(user_ids),
                    ActivityLog.activity_type != A.ACHIEVEMENT_EARNED,
                )
            )
        )
    return awards, events
