"""Exactly-once: replays change nothing, concurrent recording awards once, batches equal singles."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from itertools import count
from pathlib import Path
from types import SimpleNamespace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine import Engine, Event, UserProfile
from questline.engine.facts import FactContext
from questline.engine.models import ActivityLog, UserAchievement
from questline.engine.views import LessonView, UserView
from questline.plugins import hookimpl
from questline.plugins.manager import build_plugin_manager
from questline.rules.facts import FactSpec, FactType
from questline.rules.vocabulary import ActivityType as A

from .conftest import T0, caller_score, lesson_for, row_counts


async def test_replaying_an_event_returns_the_first_result_and_changes_nothing(
    engine: Engine, db: AsyncEngine, learner: UserView, lessons: list[LessonView]
) -> None:
    event = Event(
        type=A.LESSON_COMPLETED,
        user_id=learner.id,
        lesson_id=lessons[0].id,
        score=50,
        idempotency_key="lesson-1-done",
    )
    first = await engine.record(event)
    after_first = await row_counts(db)
    replay = await engine.record(event)
    assert replay.replayed and not first.replayed
    assert (replay.activity_id, replay.awards) == (first.activity_id, first.awards)
    assert await row_counts(db) == after_first


async def test_sixteen_concurrent_recorders_award_each_achievement_once(
    engine: Engine, db: AsyncEngine, learner: UserView, lessons: list[LessonView]
) -> None:
    """16 tasks record all lessons for one learner at once (on MariaDB: 16 connections)."""

    async def recorder(worker: int) -> list[str]:
        awarded = []
        for lesson in lessons:
            result = await engine.record(
                Event(
                    type=A.LESSON_COMPLETED,
                    user_id=learner.id,
                    lesson_id=lesson.id,
                    score=worker,
                    occurred_at=T0 + timedelta(hours=worker),
                )
            )
            awarded += [award.slug for award in result.awards]
        return awarded

    results = await asyncio.gather(*(recorder(worker) for worker in range(16)))
    awarded = [slug for result in results for slug in result]
    assert len(awarded) == len(set(awarded))
    report = await engine.progress(user_id=learner.id)
    assert report.lessons_completed == len(lessons)
    assert {lp.score for mp in report.modules for lp in mp.lessons} == {15}
    async with db.connect() as connection:
        awards = await connection.scalar(select(func.count()).select_from(UserAchievement))
        completions = await connection.scalar(
            select(func.count()).where(ActivityLog.activity_type == A.LESSON_COMPLETED)
        )
    assert awards == len(awarded)
    assert completions == 16 * len(lessons)


EVENT_KINDS = [
    A.LOGIN,
    A.LESSON_STARTED,
    A.LESSON_COMPLETED,
    A.CHALLENGE_ATTEMPTED,
    A.CHALLENGE_SOLVED,
]


@st.composite
def event_sequences(draw: st.DrawFn) -> list[tuple[int, A, int, int | None, int, str | None]]:
    """(learner index, kind, lesson index, score, hours after T0, idempotency key) tuples."""
    items = draw(
        st.lists(
            st.tuples(
                st.integers(0, 2),
                st.sampled_from(EVENT_KINDS),
                st.integers(0, 5),
                st.integers(0, 100),
                st.integers(0, 24 * 12),
                st.one_of(st.none(), st.sampled_from(["a", "b", "c"])),
            ),
            min_size=1,
            max_size=25,
        )
    )
    return sorted(items, key=lambda item: item[4])


def to_events(
    items: list[tuple[int, A, int, int | None, int, str | None]],
    users: list[UserView],
    lessons: list[LessonView],
) -> list[Event]:
    events = []
    for who, kind, lesson, score, hours, key in items:
        events.append(
            Event(
                type=kind,
                user_id=users[who].id,
                lesson_id=None if kind is A.LOGIN else lesson_for(kind, lesson, lessons).id,
                score=caller_score(kind, score),
                occurred_at=T0 + timedelta(hours=hours),
                idempotency_key=f"{key}-{kind}-{lesson}" if key else None,
            )
        )
    return events


async def observed(engine: Engine, user: UserView) -> list[object]:
    """What a learner can see of themselves: progress and achievements (ids left out)."""
    report = await engine.progress(user_id=user.id)
    statuses = await engine.achievements(user_id=user.id)
    return [replace(report, user=None), [(s.slug, s.earned_at, s.progress) for s in statuses]]


cohorts = count()


async def cohort(engine: Engine) -> list[UserView]:
    """Three new learners, distinct from every other cohort of the test run."""
    number = next(cohorts)
    return [
        await engine.register_user(UserProfile(telegram_id=10_000 + 10 * number + n))
        for n in range(3)
    ]


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(items=event_sequences(), chunk_size=st.integers(1, 8))
async def test_record_many_equals_recording_one_by_one(
    engine: Engine, lessons: list[LessonView], items: list, chunk_size: int
) -> None:
    """The same events, for two cohorts: one event at a time, and in chunks of `chunk_size`."""
    singles_cohort, batch_cohort = await cohort(engine), await cohort(engine)
    singles = [await engine.record(e) for e in to_events(items, singles_cohort, lessons)]
    batched = await engine.record_many(
        to_events(items, batch_cohort, lessons), chunk_size=chunk_size
    )
    assert [(r.replayed, [a.slug for a in r.awards]) for r in batched] == [
        (r.replayed, [a.slug for a in r.awards]) for r in singles
    ]
    ranks = {entry.user_id: entry.rank for entry in await engine.top(10_000)}
    for single, batch in zip(singles_cohort, batch_cohort, strict=True):
        assert await observed(engine, batch) == await observed(engine, single)
        assert ranks.get(batch.id) == ranks.get(single.id)


class ConflictingWriter:
    """A fact provider that, once, writes the award the rule is about to grant (as an outside
    writer would), so that the transaction's flush meets the unique constraint."""

    namespace = "intruder"

    def __init__(self) -> None:
        self.achievement_id: int | None = None
        self.intrusions = 0

    def specs(self) -> list[FactSpec]:
        return [FactSpec("intruder.ready", FactType.BOOL, "Always true.", frozenset(A))]

    async def provide(self, context: FactContext, names: frozenset[str]) -> dict[str, bool]:
        if self.intrusions == 0 and self.achievement_id is not None:
            self.intrusions += 1
            context.session.add(
                UserAchievement(user_id=context.user.id, achievement_id=self.achievement_id)
            )
        return {"ready": True}


async def test_an_award_conflict_is_not_an_error_and_not_a_second_award(
    db: AsyncEngine, tmp_path: Path
) -> None:
    writer = ConflictingWriter()
    manager = build_plugin_manager(load_entry_points=False)
    manager.register(SimpleNamespace(questline_fact_providers=hookimpl(lambda: [writer])))
    engine = Engine(db, plugin_manager=manager)
    rule = tmp_path / "rule.json"
    rule.write_text(
        '{"slug": "ready", "type": "MILESTONE", "title": "Ready", "points": 1,'
        ' "criteria": {"var": "intruder.ready"}}'
    )
    await engine.load_rules([rule])
    writer.achievement_id = engine.rulebook.rules[0].achievement_id
    user = await engine.register_user(UserProfile(telegram_id=4242))
    result = await engine.record(Event(type=A.LOGIN, user_id=user.id))
    assert writer.intrusions == 1
    assert [award.slug for award in result.awards] == ["ready"]
    async with db.connect() as connection:
        awards = await connection.scalar(select(func.count()).select_from(UserAchievement))
    assert awards == 1
    await engine.shutdown()
