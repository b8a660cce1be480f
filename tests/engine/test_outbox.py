"""The transactional outbox and its dispatcher: written with the event, delivered at least once."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from contextvars import ContextVar
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine import Engine, Event, UserProfile
from questline.engine.db import create_engine
from questline.engine.dispatcher import Dispatcher, DispatchSettings
from questline.engine.errors import QuestlineError
from questline.engine.facade import EventRejected
from questline.engine.models import OutboxEntry
from questline.engine.outbox import Delivery
from questline.engine.timestamps import utcnow
from questline.engine.views import AwardView, LessonView, UserView
from questline.plugins import DeliverElsewhere, DeliveryHeld, RetryLater, hookimpl
from questline.rules.vocabulary import ActivityType as A

from .conftest import T0, make_engine

SETTINGS = DispatchSettings(
    lease=timedelta(seconds=30),
    max_attempts=3,
    backoff_base=timedelta(seconds=10),
)


class Clock:
    def __init__(self) -> None:
        self.now = utcnow() + timedelta(seconds=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Sink:
    """Notes every award it is handed; fails the first `failures` calls."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.awards: list[tuple[str, str, int]] = []

    @hookimpl
    async def questline_award_granted(
        self, engine: Engine, award: AwardView, delivery: Delivery
    ) -> None:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("receiver unavailable")
        self.awards.append((delivery.id, award.slug, delivery.attempt))


class Listener:
    """Listens to both topics (so that both are written) and does nothing."""

    @hookimpl
    def questline_event_recorded(self) -> None:
        pass

    @hookimpl
    def questline_award_granted(self) -> None:
        pass


@pytest.fixture(autouse=True)
def listening(engine: Engine) -> None:
    engine.plugins.register(Listener(), name="listener")


async def entries(db: AsyncEngine) -> list[OutboxEntry]:
    async with db.connect() as connection:
        rows = await connection.execute(select(OutboxEntry).order_by(OutboxEntry.id))
        return list(rows)  # type: ignore[arg-type]


def complete(user: UserView, lesson: LessonView, **fields: Any) -> Event:
    return Event(
        type=A.LESSON_COMPLETED, user_id=user.id, lesson_id=lesson.id, occurred_at=T0, **fields
    )


async def test_each_recorded_event_and_award_is_written_in_its_transaction(
    engine: Engine, db: AsyncEngine, learner: UserView, lessons: list[LessonView]
) -> None:
    result = await engine.record(complete(learner, lessons[0], score=80))

    written = await entries(db)
    assert [(e.topic, e.status, e.user_id, e.activity_id) for e in written] == [
        ("event.recorded", "pending", learner.id, result.activity_id),
        ("award.granted", "pending", learner.id, result.activity_id),
    ]
    assert json.loads(written[1].payload)["slug"] == "first-lesson"
    assert json.loads(written[0].payload)["event"]["score"] == 80
    assert len({e.dedupe_id for e in written}) == 2


async def test_an_event_whose_awards_outgrow_a_text_column_is_recorded(
    engine: Engine, db: AsyncEngine, learner: UserView, lessons: list[LessonView], tmp_path: Path
) -> None:
    """Two awards with long descriptions: the event's entry is over 65,535 bytes, which
    MariaDB's TEXT refused (the event could not be recorded at all; SQLite took it)."""
    rule = {"type": "LESSON_COMPLETED", "title": "Long", "points": 1, "criteria": True}
    long = [{**rule, "slug": f"long-{n}", "description": "x" * 30_000} for n in range(2)]
    (tmp_path / "long.json").write_text(json.dumps(long))
    await engine.load_rules([tmp_path / "long.json"])
    result = await engine.record(complete(learner, lessons[0], details={"note": "y" * 15_000}))
    [recorded] = [e for e in await entries(db) if e.topic == "event.recorded"]
    assert len(recorded.payload.encode()) > 65_535
    slugs = {award["slug"] for award in json.loads(recorded.payload)["awards"]}
    assert {"long-0", "long-1"} <= slugs == {award.slug for award in result.awards}


async def test_replays_rollbacks_and_backfills_write_nothing(
    engine: Engine, db: AsyncEngine, learner: UserView, lessons: list[LessonView]
) -> None:
    event = complete(learner, lessons[0], idempotency_key="once")
    await engine.record(event)
    await engine.record(event)
    with pytest.raises(EventRejected):
        await engine.record_many(
            [
                complete(learner, lessons[1]),
                Event(type=A.LESSON_STARTED, user_id=learner.id, lesson_id=10**6),
            ]
        )
    await engine.backfill("first-lesson")

    assert [e.topic for e in await entries(db)] == ["event.recorded", "award.granted"]


async def test_a_failing_hook_is_retried_with_backoff_then_dead_lettered(
    engine: Engine, learner: UserView, lessons: list[LessonView]
) -> None:
    sink = Sink(failures=10)
    engine.plugins.register(sink, name="sink")
    clock = Clock()
    dispatcher = Dispatcher(engine, SETTINGS, clock=clock, jitter=lambda: 0.0)
    await engine.record(complete(learner, lessons[0]))

    assert await dispatcher.deliver_pending() == 2  # the event (no listener) and the award
    [dead_or_pending] = await engine.outbox_entries(status="pending")
    assert dead_or_pending.attempts == 1
    assert dead_or_pending.last_error == "sink: RuntimeError: receiver unavailable"
    assert dead_or_pending.available_at == clock.now + timedelta(seconds=5)  # 10 s, jitter ×0.5

    assert await dispatcher.deliver_pending() == 0  # not due yet
    clock.advance(5)
    assert await dispatcher.deliver_pending() == 1
    [entry] = await engine.outbox_entries(status="pending")
    assert entry.available_at == clock.now + timedelta(seconds=10)  # doubled
    clock.advance(10)
    await dispatcher.deliver_pending()

    assert await engine.outbox_status() == {"pending": 0, "done": 1, "dead": 1}
    [dead] = await engine.outbox_entries(status="dead")
    assert dead.attempts == 3 and sink.awards == []

    sink.failures = 0
    assert await engine.retry_outbox([dead.id]) == 1
    clock.advance(1)
    await dispatcher.deliver_pending()
    assert sink.awards == [(dead.dedupe_id, "first-lesson", 1)]
    assert await engine.outbox_status() == {"pending": 0, "done": 2, "dead": 0}


async def test_retry_names_what_cannot_be_retried(
    engine: Engine, learner: UserView, lessons: list[LessonView]
) -> None:
    await engine.record(complete(learner, lessons[0]))
    [award, _event] = await engine.outbox_entries()
    with pytest.raises(QuestlineError, match=f"outbox entry {award.id} is pending, not dead"):
        await engine.retry_outbox([award.id])
    with pytest.raises(QuestlineError, match="no outbox entry 999999"):
        await engine.retry_outbox([999_999])
    assert await engine.retry_outbox() == 0


async def test_a_plugin_that_succeeded_is_not_called_again_when_another_fails(
    engine: Engine, learner: UserView, lessons: list[LessonView]
) -> None:
    good, flaky = Sink(), Sink(failures=1)
    engine.plugins.register(good, name="good")
    engine.plugins.register(flaky, name="flaky")
    clock = Clock()
    dispatcher = Dispatcher(engine, SETTINGS, clock=clock)
    await engine.record(complete(learner, lessons[0]))

    await dispatcher.deliver_pending()
    clock.advance(60)
    await dispatcher.deliver_pending()

    assert len(good.awards) == 1
    assert [(slug, attempt) for _, slug, attempt in flaky.awards] == [("first-lesson", 2)]
    assert good.awards[0][0] == flaky.awards[0][0]  # one dedupe id for both


class Crash(BaseException):
    """The dispatching process dies here."""


async def test_entries_of_a_dead_dispatcher_are_delivered_after_the_lease_with_the_same_id(
    engine: Engine, learner: UserView, lessons: list[LessonView]
) -> None:
    heard: list[str] = []
    events: list[str] = []

    class Dying:
        @hookimpl
        def questline_event_recorded(self, delivery: Delivery) -> None:
            events.append(delivery.id)

        @hookimpl
        def questline_award_granted(self, delivery: Delivery) -> None:
            heard.append(delivery.id)
            if len(heard) == 1:
                raise Crash

    engine.plugins.register(Dying(), name="dying")
    clock = Clock()
    await engine.record(complete(learner, lessons[0]))
    with pytest.raises(Crash):
        await Dispatcher(engine, SETTINGS, clock=clock).deliver_pending()

    restarted = Dispatcher(engine, SETTINGS, clock=clock)
    assert await restarted.deliver_pending() == 0  # still leased to the dead one
    clock.advance(SETTINGS.lease.total_seconds())
    assert await restarted.deliver_pending() == 1  # the entry it died at; the event's was done
    assert len(heard) == 2 and heard[0] == heard[1]
    assert len(events) == 1
    assert await engine.outbox_status() == {"pending": 0, "done": 2, "dead": 0}


async def test_concurrent_dispatchers_deliver_each_entry_once(
    db: AsyncEngine, database_url: str, learner: UserView, lessons: list[LessonView]
) -> None:
    """Two engines on their own connection pools, as two processes would be."""
    sink = Sink()
    engines = [await make_engine(db), Engine(create_engine(database_url))]
    for engine in engines:
        engine.plugins.register(sink, name="sink")
    await engines[0].record_many(
        [complete(learner, lesson) for lesson in lessons]
        + [Event(type=A.LOGIN, user_id=learner.id, occurred_at=T0)] * 20
    )
    settings = DispatchSettings(batch=3)
    try:
        counts = await asyncio.gather(
            *(Dispatcher(engine, settings).deliver_pending() for engine in engines)
        )
    finally:
        for engine in engines:
            await engine.shutdown()
    status = await engines[0].outbox_status()
    assert sum(counts) == status["done"] and status["pending"] == 0
    ids = [dedupe_id for dedupe_id, _, _ in sink.awards]
    assert len(ids) == len(set(ids)) > 1


async def test_a_batch_that_outlasts_its_lease_leaves_what_another_dispatcher_took(
    engine: Engine, learner: UserView, lessons: list[LessonView]
) -> None:
    """The first delivery takes longer than the lease (Telegram asked to wait); meanwhile a
    second dispatcher takes the whole batch again. The entry in hand may go twice (at least
    once); the entries after it go once."""
    clock = Clock()
    slow, other = (
        Dispatcher(engine, SETTINGS, clock=clock),
        Dispatcher(engine, SETTINGS, clock=clock),
    )
    heard: list[str] = []

    class Slow:
        @hookimpl
        async def questline_event_recorded(self, delivery: Delivery) -> None:
            heard.append(delivery.id)
            if len(heard) == 1:
                clock.advance(SETTINGS.lease.total_seconds() + 1)
                assert await other.deliver_pending() == 3

    engine.plugins.register(Slow(), name="slow")
    await engine.record_many(
        [
            Event(type=A.LOGIN, user_id=learner.id, occurred_at=T0, idempotency_key=f"k{n}")
            for n in range(3)
        ]
    )
    assert await slow.deliver_pending() == 1  # claimed 3, delivered 1, left 2 to the other
    assert sorted(Counter(heard).values()) == [1, 1, 2] and heard[0] == heard[1]
    assert await engine.outbox_status() == {"pending": 0, "done": 3, "dead": 0}


@pytest.mark.parametrize(
    ("seconds", "waited"),
    [(40, timedelta(seconds=40)), (1e12, timedelta(days=1)), (float("nan"), None), (-5, None)],
)
async def test_a_receiver_asking_to_wait_is_not_tried_sooner_and_at_most_a_day_later(
    engine: Engine, learner: UserView, seconds: float, waited: timedelta | None
) -> None:
    class Busy:
        @hookimpl
        def questline_event_recorded(self) -> None:
            raise RetryLater("the receiver asks to wait", seconds)

    engine.plugins.register(Busy(), name="busy")
    clock = Clock()
    await engine.record(Event(type=A.LOGIN, user_id=learner.id, occurred_at=T0))
    assert await Dispatcher(engine, SETTINGS, clock=clock).deliver_pending() == 1
    [entry] = await engine.outbox_entries(status="pending")
    assert entry.attempts == 1 and "the receiver asks to wait" in (entry.last_error or "")
    backoff = entry.available_at - clock.now
    assert backoff == waited if waited is not None else backoff <= SETTINGS.backoff_base


async def test_a_topic_nobody_listens_to_is_not_written(
    engine: Engine, db: AsyncEngine, learner: UserView, lessons: list[LessonView]
) -> None:
    engine.plugins.unregister(name="listener")
    await engine.record(Event(type=A.LOGIN, user_id=learner.id, occurred_at=T0))
    assert await entries(db) == []
    engine.plugins.register(Sink(), name="sink")  # awards only
    await engine.record(complete(learner, lessons[0]))
    assert [e.topic for e in await entries(db)] == ["award.granted"]


def test_settings_refuse_nonsense_and_backoff_stays_within_its_bounds() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        DispatchSettings(max_attempts=0)
    with pytest.raises(ValueError, match="positive"):
        DispatchSettings(lease=timedelta(0))
    settings = DispatchSettings(
        backoff_base=timedelta(seconds=2), backoff_cap=timedelta(seconds=60)
    )
    assert settings.backoff(1, 0.0) == timedelta(seconds=1)
    assert settings.backoff(3, 0.999) < timedelta(seconds=8)
    assert settings.backoff(30, 0.0) == timedelta(seconds=30)


caller: ContextVar[str | None] = ContextVar("caller", default=None)


async def test_awards_reach_the_hooks_in_the_task_of_the_call_that_earned_them(
    engine: Engine, lessons: list[LessonView]
) -> None:
    """Concurrent record() calls share group transactions in a drain task, yet each award is
    handed over in its own caller's context (the bot collects an update's awards there), and
    never first by the background pass."""
    heard: list[tuple[int, str | None]] = []

    class Witness:
        @hookimpl
        def questline_award_granted(self, award: AwardView) -> None:
            heard.append((award.telegram_id, caller.get()))

    engine.plugins.register(Witness(), name="witness")
    engine.start_dispatcher(DispatchSettings(poll_seconds=0.001))
    learners = [
        await engine.register_user(UserProfile(telegram_id=2000 + n, first_name=f"L{n}"))
        for n in range(6)
    ]

    async def walk(learner: UserView) -> None:
        caller.set(f"learner {learner.telegram_id}")
        for lesson in lessons[:3]:
            await engine.record(complete(learner, lesson, score=90))

    await asyncio.gather(*(walk(learner) for learner in learners))

    assert len(heard) >= 2 * len(learners)  # first-lesson and first-module at least
    assert all(context == f"learner {telegram_id}" for telegram_id, context in heard)


async def test_a_stopping_dispatcher_settles_the_batch_in_hand_and_claims_no_more(
    engine: Engine, learner: UserView, lessons: list[LessonView]
) -> None:
    entered, release = asyncio.Event(), asyncio.Event()
    heard: list[str] = []

    class Slow:
        @hookimpl
        async def questline_award_granted(self, delivery: Delivery) -> None:
            heard.append(delivery.id)
            entered.set()
            await release.wait()

    engine.plugins.unregister(name="listener")
    engine.plugins.register(Slow(), name="slow")
    await engine.record_many([complete(learner, lesson) for lesson in lessons])
    dispatcher = Dispatcher(engine, DispatchSettings(batch=1))
    dispatcher.start()
    await entered.wait()
    stopping = asyncio.create_task(dispatcher.stop())
    await asyncio.sleep(0)
    release.set()
    await stopping

    status = await engine.outbox_status()
    assert len(heard) == 1 and status["done"] == 1  # the batch in hand, marked
    assert status["pending"] > 0  # the rest waits for the next dispatcher, unclaimed


class Absent:
    """A plugin whose receiver is in another process (like the Telegram plugin without its bot)."""

    def __init__(self) -> None:
        self.calls = 0

    @hookimpl
    def questline_award_granted(self) -> None:
        self.calls += 1
        raise DeliverElsewhere("not here")


async def test_an_entry_a_plugin_can_deliver_only_elsewhere_waits_for_that_process(
    engine: Engine, db: AsyncEngine, database_url: str, learner: UserView, lessons: list[LessonView]
) -> None:
    sink, absent = Sink(), Absent()
    engine.plugins.register(sink, name="sink")
    engine.plugins.register(absent, name="receiver")
    clock = Clock()
    await engine.record(complete(learner, lessons[0]))
    here = Dispatcher(engine, SETTINGS, clock=clock)
    assert await here.deliver_pending() == 2
    award = (await entries(db))[1]
    # the sink has it; the receiver's part waits, and no attempt was spent on it
    assert (award.status, award.attempts, award.delivered_to) == ("pending", 0, "listener,sink")
    assert len(sink.awards) == 1 and absent.calls == 1
    assert await here.deliver_pending() == 0  # not due again yet
    clock.advance(SETTINGS.elsewhere_wait.total_seconds())
    # due again, but not for this dispatcher: it leaves the entry to the others for good
    assert await here.deliver_pending() == 0 and absent.calls == 1

    other = Engine(create_engine(database_url))  # the process where the receiver runs
    delivered = Sink()
    other.plugins.register(delivered, name="receiver")
    try:
        assert await Dispatcher(other, SETTINGS, clock=clock).deliver_pending() == 1
    finally:
        await other.shutdown()
    assert [slug for _, slug, _ in delivered.awards] == ["first-lesson"]
    assert len(sink.awards) == 1  # not called again
    assert await engine.outbox_status() == {"pending": 0, "done": 2, "dead": 0}


class Holder:
    """A plugin that shows an award later in this process (like the bot inside an update):
    holds its first delivery of each entry, takes later ones at once."""

    def __init__(self) -> None:
        self.held: list[str] = []
        self.taken: list[str] = []

    @hookimpl
    def questline_award_granted(self, delivery: Delivery) -> None:
        if delivery.id not in self.held:
            self.held.append(delivery.id)
            raise DeliveryHeld("shown later")
        self.taken.append(delivery.id)


async def held_award(
    engine: Engine, clock: Clock, learner: UserView, lesson: LessonView
) -> tuple[Holder, Dispatcher]:
    """`engine` with a Holder, a Sink and a dispatcher of its own (not running), after one
    pass over an award's entry, which the Holder held."""
    engine.plugins.register(Sink(), name="sink")
    holder = Holder()
    engine.plugins.register(holder, name="holder")
    dispatcher = engine.dispatcher = Dispatcher(engine, SETTINGS, clock=clock)
    await engine.record(complete(learner, lesson))
    await dispatcher.deliver_pending()
    return holder, dispatcher


async def test_a_held_entry_is_done_once_its_holder_delivered_it(
    engine: Engine, db: AsyncEngine, learner: UserView, lessons: list[LessonView]
) -> None:
    clock = Clock()
    holder, _ = await held_award(engine, clock, learner, lessons[0])

    award = (await entries(db))[1]
    assert (award.status, award.attempts, award.delivered_to) == ("pending", 0, "listener,sink")
    clock.advance(SETTINGS.lease.total_seconds())  # held longer than a lease: nobody takes it
    assert await Dispatcher(engine, SETTINGS, clock=clock).deliver_pending() == 0

    await engine.settle_held(holder.held, delivered=True)
    assert await engine.outbox_status() == {"pending": 0, "done": 2, "dead": 0}
    clock.advance(SETTINGS.hold.total_seconds())
    assert await Dispatcher(engine, SETTINGS, clock=clock).deliver_pending() == 0
    assert holder.taken == []  # shown once, by its holder


async def test_a_held_entry_its_holder_could_not_deliver_takes_the_usual_path_at_once(
    engine: Engine, learner: UserView, lessons: list[LessonView]
) -> None:
    clock = Clock()
    holder, dispatcher = await held_award(engine, clock, learner, lessons[0])

    await engine.settle_held(holder.held, delivered=False)
    assert await dispatcher.deliver_pending() == 1  # due now, not after the hold
    assert holder.taken == holder.held
    sink = engine.plugins.get_plugin("sink")
    assert len(sink.awards) == 1  # the others are not called again
    assert await engine.outbox_status() == {"pending": 0, "done": 2, "dead": 0}


async def test_a_held_entry_of_a_process_that_died_is_delivered_when_the_hold_ends(
    engine: Engine, learner: UserView, lessons: list[LessonView]
) -> None:
    clock = Clock()
    holder, _ = await held_award(engine, clock, learner, lessons[0])  # then the process dies

    restarted = Dispatcher(engine, SETTINGS, clock=clock)
    clock.advance(SETTINGS.hold.total_seconds() - 1)
    assert await restarted.deliver_pending() == 0
    clock.advance(1)
    assert await restarted.deliver_pending() == 1
    assert holder.taken == holder.held  # the same delivery id: receivers can drop a repeat
    assert await engine.outbox_status() == {"pending": 0, "done": 2, "dead": 0}


async def test_a_held_entry_that_another_plugin_failed_is_retried_for_that_one_only(
    engine: Engine, learner: UserView, lessons: list[LessonView]
) -> None:
    clock = Clock()
    flaky = Sink(failures=1)
    engine.plugins.register(flaky, name="flaky")
    holder, dispatcher = await held_award(engine, clock, learner, lessons[0])

    await engine.settle_held(holder.held, delivered=True)
    clock.advance(60)
    assert await dispatcher.deliver_pending() == 1
    assert [slug for _, slug, _ in flaky.awards] == ["first-lesson"]
    assert holder.taken == []
    assert await engine.outbox_status() == {"pending": 0, "done": 2, "dead": 0}


@pytest.mark.parametrize("shown", [True, False], ids=["shown", "not-shown"])
async def test_a_held_award_settled_while_a_slower_hook_still_runs_is_settled_after_it(
    engine: Engine, db: AsyncEngine, learner: UserView, lessons: list[LessonView], shown: bool
) -> None:
    """The bot's update holds an award and ends (settling it) while a slower plugin's hook of
    the same entry still runs in the background hand-over: the settlement waits for it."""
    release = asyncio.Event()

    class Slow:
        @hookimpl
        async def questline_award_granted(self) -> None:
            await release.wait()

    engine.plugins.register(Slow(), name="slow")  # called after the holder (pluggy: LIFO)
    holder = Holder()
    engine.plugins.register(holder, name="holder")
    engine.start_dispatcher(DispatchSettings(handoff_wait=timedelta(seconds=0.05)))
    await engine.record(complete(learner, lessons[0]))  # back after the wait; Slow still runs
    await engine.settle_held(holder.held, delivered=shown)  # the update is done
    release.set()
    for _ in range(200):
        if (await entries(db))[1].claim_token is None:
            break
        await asyncio.sleep(0.01)
    if shown:
        assert await engine.outbox_status() == {"pending": 0, "done": 2, "dead": 0}
    else:  # due again at once for the usual path, without a second call to Slow
        assert await Dispatcher(engine, SETTINGS).deliver_pending() == 1
        assert holder.taken == holder.held
    assert await engine.outbox_status() == {"pending": 0, "done": 2, "dead": 0}


async def test_a_receiver_asking_to_wait_is_asked_nothing_more_until_then(
    engine: Engine, learner: UserView
) -> None:
    """Telegram answers 429 with retry_after=40: the batch's other entries are not sent into
    the flood, one after another, each earning its own 429; they wait, with no attempt
    counted, and go once the wait is over."""
    calls: list[str] = []

    class Flooded:
        @hookimpl
        def questline_event_recorded(self, delivery: Delivery) -> None:
            calls.append(delivery.id)
            if len(calls) == 1:
                raise RetryLater("Too Many Requests: retry after 40", 40)

    engine.plugins.register(Flooded(), name="flooded")
    for n in range(3):
        await engine.record(
            Event(type=A.LOGIN, user_id=learner.id, occurred_at=T0, idempotency_key=f"w{n}")
        )
    clock = Clock()
    dispatcher = Dispatcher(engine, SETTINGS, clock=clock)
    await dispatcher.deliver_pending()
    assert len(calls) == 1
    pending = await engine.outbox_entries(status="pending")
    assert sorted(entry.attempts for entry in pending) == [0, 0, 1]
    clock.advance(39)
    await dispatcher.deliver_pending()
    assert len(calls) == 1
    clock.advance(1)
    await dispatcher.deliver_pending()
    assert sorted(Counter(calls).values()) == [1, 1, 2]
    assert await engine.outbox_status() == {"pending": 0, "done": 3, "dead": 0}


async def test_a_receiver_asking_to_wait_for_one_learner_holds_up_no_other(
    engine: Engine, learner: UserView
) -> None:
    """Telegram's 429 is about one chat: a `RetryLater` naming the learner pauses the plugin
    for that learner's entries only; the others' go at once."""
    other = await engine.register_user(UserProfile(telegram_id=1002, first_name="Grace"))
    calls: list[int] = []

    class FloodedChat:
        @hookimpl
        def questline_event_recorded(self, event: Event) -> None:
            assert event.user_id is not None
            calls.append(event.user_id)
            if calls == [learner.id]:
                raise RetryLater("retry after 40", 40, user_id=learner.id)

    engine.plugins.register(FloodedChat(), name="flooded")
    for n, user in enumerate((learner, learner, other, other)):
        await engine.record(
            Event(type=A.LOGIN, user_id=user.id, occurred_at=T0, idempotency_key=f"c{n}")
        )
    clock = Clock()
    dispatcher = Dispatcher(engine, SETTINGS, clock=clock)
    await dispatcher.deliver_pending()
    assert calls == [learner.id, other.id, other.id]
    pending = await engine.outbox_entries(status="pending")
    assert sorted(entry.attempts for entry in pending) == [0, 1]  # the other waits, uncounted
    clock.advance(40)
    await dispatcher.deliver_pending()
    assert calls[3:] == [learner.id, learner.id]  # asked again only once the wait is over
    assert await engine.outbox_status() == {"pending": 0, "done": 4, "dead": 0}


async def test_a_held_award_waiting_for_another_plugin_is_not_taken_by_its_holder_again(
    engine: Engine, learner: UserView, lessons: list[LessonView]
) -> None:
    """The bot's update holds (and shows) an award while another plugin's receiver has asked
    to wait: the entry waits for that one only; the holder is not called for it again."""
    awards: list[str] = []
    events: list[str] = []

    class Flooded:
        @hookimpl
        def questline_event_recorded(self, delivery: Delivery) -> None:
            events.append(delivery.id)
            if len(events) == 1:
                raise RetryLater("retry after 40", 40)

        @hookimpl
        def questline_award_granted(self, delivery: Delivery) -> None:
            awards.append(delivery.id)

    engine.plugins.register(Flooded(), name="flooded")
    holder = Holder()
    engine.plugins.register(holder, name="holder")
    clock = Clock()
    dispatcher = Dispatcher(engine, SETTINGS, clock=clock)
    await engine.record(complete(learner, lessons[0]))  # the event's entry, then the award's
    await dispatcher.deliver_pending()  # Flooded asks to wait; the holder holds the award
    assert awards == [] and len(holder.held) == 1
    await dispatcher.settle_held(holder.held, delivered=True)  # shown by the update
    clock.advance(40)
    flooded_again = Dispatcher(engine, SETTINGS, clock=clock)
    assert await flooded_again.deliver_pending() == 2
    assert holder.taken == [] and awards == holder.held  # not sent a second time
    assert await engine.outbox_status() == {"pending": 0, "done": 2, "dead": 0}
