"""Recording events: the progress state machine, the activity log and awards of every rule type."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine import Engine, Event
from questline.engine.models import ActivityLog, ProgressStatus, UserAchievement, UserProgress
from questline.engine.views import LessonView, UserView
from questline.rules.vocabulary import ActivityType as A

from .conftest import T0


async def progress_row(db: AsyncEngine, user: UserView, lesson: LessonView) -> UserProgress:
    async with db.connect() as connection:
        row = (
            await connection.execute(
                select(UserProgress.__table__).where(
                    UserProgress.user_id == user.id, UserProgress.lesson_id == lesson.id
                )
            )
        ).one()
    return row


def event(kind: A, user: UserView, lesson: LessonView | None = None, **fields: object) -> Event:
    """An event at 09:00 on T0 unless told otherwise (wall-clock time would wake the night owl)."""
    fields.setdefault("occurred_at", T0)
    return Event(type=kind, user_id=user.id, lesson_id=lesson.id if lesson else None, **fields)


async def test_start_then_complete_moves_through_the_states(
    engine: Engine, db: AsyncEngine, learner: UserView, lessons: list[LessonView]
) -> None:
    lesson = lessons[0]
    await engine.record(event(A.LESSON_STARTED, learner, lesson, occurred_at=T0))
    row = await progress_row(db, learner, lesson)
    assert (row.status, row.attempts, row.completed_at) == (ProgressStatus.IN_PROGRESS, 1, None)
    assert row.started_at is not None

    await engine.record(event(A.LESSON_STARTED, learner, lesson, occurred_at=T0))
    assert (await progress_row(db, learner, lesson)).attempts == 2

    later = T0 + timedelta(minutes=30)
    await engine.record(event(A.LESSON_COMPLETED, learner, lesson, score=70, occurred_at=later))
    row = await progress_row(db, learner, lesson)
    assert (row.status, row.score, row.attempts) == (ProgressStatus.COMPLETED, 70, 2)


async def test_recompletion_keeps_the_best_score_and_never_double_counts(
    engine: Engine, db: AsyncEngine, learner: UserView, lessons: list[LessonView]
) -> None:
    lesson = lessons[0]
    first = await engine.record(event(A.LESSON_COMPLETED, learner, lesson, score=90))
    again = await engine.record(event(A.LESSON_COMPLETED, learner, lesson, score=40))
    row = await progress_row(db, learner, lesson)
    assert (row.status, row.score, row.attempts) == (ProgressStatus.COMPLETED, 90, 0)
    assert [a.slug for a in first.awards] == ["first-lesson"]
    assert again.awards == ()
    report = await engine.progress(user_id=learner.id)
    assert report.lessons_completed == 1


async def test_completing_without_a_start_is_allowed(
    engine: Engine, db: AsyncEngine, learner: UserView, lessons: list[LessonView]
) -> None:
    """No start, no attempt; the learner began when they completed it."""
    await engine.record(event(A.LESSON_COMPLETED, learner, lessons[1], score=10))
    row = await progress_row(db, learner, lessons[1])
    assert (row.status, row.attempts, row.started_at) == (ProgressStatus.COMPLETED, 0, T0)


async def test_activity_log_holds_the_event_and_each_award(
    engine: Engine, db: AsyncEngine, learner: UserView, lessons: list[LessonView]
) -> None:
    result = await engine.record(
        event(A.LESSON_COMPLETED, learner, lessons[0], score=5, details={"source": "test"})
    )
    async with db.connect() as connection:
        rows = (
            await connection.execute(select(ActivityLog.__table__).order_by(ActivityLog.id))
        ).all()
    assert [row.activity_type for row in rows] == [A.LESSON_COMPLETED, A.ACHIEVEMENT_EARNED]
    assert rows[0].id == result.activity_id
    assert (rows[0].entity_type, rows[0].entity_id) == ("lesson", lessons[0].id)
    assert json.loads(rows[0].details) == {"source": "test", "score": 5}
    assert json.loads(rows[1].details) == {"slug": "first-lesson"}
    async with db.connect() as connection:
        award = (await connection.execute(select(UserAchievement.__table__))).one()
    assert award.activity_id == result.activity_id


async def slugs_earned(engine: Engine, user: UserView) -> set[str]:
    return {s.slug for s in await engine.achievements(user_id=user.id) if s.earned_at}


async def test_every_catalog_rule_type_is_awarded_through_record(
    engine: Engine, learner: UserView, lessons: list[LessonView]
) -> None:
    """LESSON_COMPLETED, MODULE_COMPLETED, STREAK, CHALLENGES_SOLVED and MILESTONE rules fire."""
    first_module = [lesson for lesson in lessons if lesson.module_id == lessons[0].module_id]
    for day, lesson in enumerate(first_module):
        moment = T0 + timedelta(days=day)
        await engine.record(event(A.LESSON_STARTED, learner, lesson, occurred_at=moment))
        await engine.record(
            event(A.LESSON_COMPLETED, learner, lesson, score=100, occurred_at=moment)
        )
    outcome = await engine.answer_challenge(
        user_id=learner.id, lesson_id=lessons[0].id, answer="FLOAT"
    )
    assert outcome.solved and outcome.score == 10
    assert "first-challenge" in {award.slug for award in outcome.awards}
    earned = await slugs_earned(engine, learner)
    assert {"first-lesson", "first-module", "streak-3", "first-challenge"} <= earned
    report = await engine.progress(user_id=learner.id)
    assert report.streak_longest == 3
    # the challenge's 10 points count for a lesson already scored 100: the best score is kept
    assert report.total_score == 300 + report.points


async def test_awards_that_read_award_counts_fire_in_the_same_record(
    engine: Engine, learner: UserView, lessons: list[LessonView]
) -> None:
    """ "Collector" (achievement points) fires in the same call that crosses its threshold."""
    awards: list[str] = []
    for day, lesson in enumerate(lessons):
        moment = T0 + timedelta(days=day)
        result = await engine.record(
            event(A.LESSON_COMPLETED, learner, lesson, score=100, occurred_at=moment)
        )
        awards += [award.slug for award in result.awards]
    assert "hundred-points" in awards
    assert "score-500" in awards
    assert len(awards) == len(set(awards))


async def test_wrong_answer_is_an_attempt_only(
    engine: Engine, db: AsyncEngine, learner: UserView, lessons: list[LessonView]
) -> None:
    outcome = await engine.answer_challenge(
        user_id=learner.id, lesson_id=lessons[0].id, answer="int"
    )
    assert (outcome.solved, outcome.score, outcome.awards) == (False, None, ())
    async with db.connect() as connection:
        kinds = (await connection.execute(select(ActivityLog.activity_type))).scalars().all()
    assert kinds == [A.CHALLENGE_ATTEMPTED]


async def test_locked_achievements_show_progress_and_what_is_missing(
    engine: Engine, learner: UserView, lessons: list[LessonView]
) -> None:
    for lesson in lessons[:4]:
        await engine.record(event(A.LESSON_COMPLETED, learner, lesson))
    statuses = {s.slug: s for s in await engine.achievements(user_id=learner.id)}
    ten = statuses["ten-lessons"]
    assert ten.earned_at is None
    assert ten.progress is not None and ten.progress.ratio == 0.4
    assert ten.explanation == "needs 6 more completed lessons (4/10)"
    assert [(s.fact, s.current, s.target) for s in ten.shortfalls] == [
        ("stats.lessons_completed", 4, 10)
    ]
    assert statuses["first-lesson"].earned_at is not None


async def test_rules_about_the_event_are_explained_by_their_description(
    engine: Engine, learner: UserView
) -> None:
    statuses = {s.slug: s for s in await engine.achievements(user_id=learner.id)}
    owl = statuses["night-owl"]
    assert (owl.earned_at, owl.shortfalls, owl.progress) == (None, (), None)
    assert (
        owl.explanation
        == owl.description
        == ("Complete a lesson between 22:00 and 04:59, the community's time.")
    )


async def test_a_rule_about_the_event_without_a_description_says_what_it_waits_for(
    engine: Engine, learner: UserView, tmp_path: Path
) -> None:
    late = {
        "and": [{"==": [{"var": "event.type"}, "LOGIN"]}, {">=": [{"var": "event.local_hour"}, 22]}]
    }
    rule = {
        "slug": "late-login",
        "type": "MILESTONE",
        "title": "Late",
        "points": 1,
        "criteria": late,
    }
    (tmp_path / "late.json").write_text(json.dumps(rule))
    await engine.load_rules([tmp_path / "late.json"])
    for locale, text in (
        (None, "earned at the moment of an event that meets it; nothing to count before"),
        ("ru", "выдаётся в момент подходящего события; заранее копить нечего"),
    ):
        statuses = {s.slug: s for s in await engine.achievements(user_id=learner.id, locale=locale)}
        assert statuses["late-login"].explanation == text  # was empty


async def test_a_rule_about_the_event_says_what_the_learner_misses_first(
    engine: Engine, learner: UserView, tmp_path: Path
) -> None:
    """Its conditions on the learner's facts are explained as any rule's (all of it was
    hidden behind the sentence, as if nothing else were missing)."""
    low = {
        "and": [
            {"<": [{"var": "lesson.score"}, 50]},
            {">=": [{"var": "stats.lessons_completed"}, 3]},
        ]
    }
    rule = {"slug": "low-score", "type": "MILESTONE", "title": "Low", "points": 1, "criteria": low}
    (tmp_path / "low.json").write_text(json.dumps(rule))
    await engine.load_rules([tmp_path / "low.json"])
    statuses = {s.slug: s for s in await engine.achievements(user_id=learner.id)}
    status = statuses["low-score"]
    assert [(s.fact, s.current, s.target) for s in status.shortfalls] == [
        ("stats.lessons_completed", 0, 3)
    ]
    assert status.explanation == (
        "needs 3 more completed lessons (0/3); "
        "earned at the moment of an event that meets it; nothing to count before"
    )


async def test_a_rule_met_before_it_was_loaded_says_so(
    engine: Engine, learner: UserView, lessons: list[LessonView], tmp_path: Path
) -> None:
    """Loaded after the learner's activity and not backfilled, it holds but is not earned:
    the explanation was empty (`rules explain` printed the learner's name alone)."""
    await engine.record(
        Event(type=A.LESSON_COMPLETED, user_id=learner.id, lesson_id=lessons[0].id, occurred_at=T0)
    )
    rule = {
        "slug": "one-lesson",
        "type": "MILESTONE",
        "title": "One",
        "points": 1,
        "criteria": {">=": [{"var": "stats.lessons_completed"}, 1]},
    }
    (tmp_path / "one.json").write_text(json.dumps(rule))
    await engine.load_rules([tmp_path / "one.json"])
    for locale, text in (
        (None, "already met: earned at the next activity that counts for it"),
        ("ru", "условие уже выполнено: награда придёт со следующим подходящим действием"),
    ):
        statuses = {s.slug: s for s in await engine.achievements(user_id=learner.id, locale=locale)}
        assert statuses["one-lesson"].explanation == text


async def test_challenge_answers_can_be_dated(
    engine: Engine, learner: UserView, lessons: list[LessonView]
) -> None:
    outcome = await engine.answer_challenge(
        user_id=learner.id, lesson_id=lessons[0].id, answer="float", occurred_at=T0
    )
    assert [award.earned_at for award in outcome.awards] == [T0]
