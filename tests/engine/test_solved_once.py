"""A challenge is solved once: later right answers are "already solved" and write no solve."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine import Engine, Event, UserProfile
from questline.engine.errors import InvalidEvent, NoChallenge
from questline.engine.models import ActivityLog
from questline.engine.views import ChallengeOutcome, LessonView, UserView
from questline.rules.vocabulary import ActivityType as A

learner_ids = itertools.count(50_000)


def with_challenge(lessons: list[LessonView]) -> LessonView:
    return next(lesson for lesson in lessons if lesson.challenge is not None)


async def logged(db: AsyncEngine, user: UserView, kind: A) -> int:
    async with db.connect() as connection:
        count = await connection.scalar(
            select(func.count())
            .select_from(ActivityLog)
            .where(ActivityLog.user_id == user.id, ActivityLog.activity_type == kind)
        )
    return int(count or 0)


async def solved(engine: Engine, user: UserView, lesson: LessonView) -> bool:
    report = await engine.progress(user_id=user.id)
    return next(i.solved for m in report.modules for i in m.lessons if i.lesson.id == lesson.id)


async def test_a_second_right_answer_is_already_solved(
    engine: Engine, db: AsyncEngine, learner: UserView, lessons: list[LessonView]
) -> None:
    lesson = with_challenge(lessons)
    assert not await solved(engine, learner, lesson)
    first = await engine.answer_challenge(user_id=learner.id, lesson_id=lesson.id, answer="float")
    assert (first.solved, first.already_solved, first.score) == (True, False, 10)
    assert first.awards  # the first solve earns something in the default catalog
    score = (await engine.progress(user_id=learner.id)).total_score

    for _ in range(3):
        again = await engine.answer_challenge(
            user_id=learner.id, lesson_id=lesson.id, answer="float"
        )
        assert (again.solved, again.already_solved, again.score, again.awards) == (
            True,
            True,
            None,
            (),
        )
    assert await logged(db, learner, A.CHALLENGE_SOLVED) == 1
    assert await logged(db, learner, A.CHALLENGE_ATTEMPTED) == 4  # attempts are still attempts
    assert (await engine.progress(user_id=learner.id)).total_score == score
    assert await solved(engine, learner, lesson)

    wrong = await engine.answer_challenge(user_id=learner.id, lesson_id=lesson.id, answer="int")
    assert (wrong.solved, wrong.already_solved) == (False, False)


async def test_a_repeated_solve_event_answers_with_the_first_solve(
    engine: Engine, db: AsyncEngine, learner: UserView, lessons: list[LessonView]
) -> None:
    lesson = with_challenge(lessons)

    def solve() -> Event:
        return Event(type=A.CHALLENGE_SOLVED, user_id=learner.id, lesson_id=lesson.id, score=10)

    first, second = await engine.record_many([solve(), solve()])  # even within one batch
    third = await engine.record(solve())
    assert not first.already_solved
    assert second.already_solved and third.already_solved
    assert second.activity_id == third.activity_id == first.activity_id
    assert second.awards == third.awards == ()
    assert await logged(db, learner, A.CHALLENGE_SOLVED) == 1


async def test_repeated_solves_of_stored_solves_in_one_batch_answer_with_each_first_solve(
    engine: Engine, learner: UserView, lessons: list[LessonView]
) -> None:
    challenges = [lesson for lesson in lessons if lesson.challenge is not None][:2]
    other = await engine.register_user(UserProfile(telegram_id=next(learner_ids)))

    def solve(who: UserView, lesson: LessonView) -> Event:
        return Event(type=A.CHALLENGE_SOLVED, user_id=who.id, lesson_id=lesson.id, score=10)

    pairs = [(learner, challenges[0]), (learner, challenges[1]), (other, challenges[0])]
    firsts = [await engine.record(solve(who, lesson)) for who, lesson in pairs]
    again = await engine.record_many([solve(who, lesson) for who, lesson in pairs * 2])
    assert all(result.already_solved and result.awards == () for result in again)
    first_ids = [result.activity_id for result in firsts]
    assert len(set(first_ids)) == 3
    assert [result.activity_id for result in again] == first_ids * 2


async def test_right_answers_sent_at_once_solve_once(
    engine: Engine, db: AsyncEngine, learner: UserView, lessons: list[LessonView]
) -> None:
    lesson = with_challenge(lessons)
    outcomes = await asyncio.gather(
        *(
            engine.answer_challenge(user_id=learner.id, lesson_id=lesson.id, answer="float")
            for _ in range(5)
        )
    )
    assert sorted(outcome.already_solved for outcome in outcomes) == [False] + [True] * 4
    assert await logged(db, learner, A.CHALLENGE_SOLVED) == 1


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(answers=st.lists(st.sampled_from(["float", " FLOAT ", "int", ""]), max_size=6))
async def test_any_sequence_of_answers_solves_at_most_once(
    engine: Engine, db: AsyncEngine, lessons: list[LessonView], answers: list[str]
) -> None:
    """Property: one solve iff some answer was right; every later right one is already solved."""
    lesson = with_challenge(lessons)
    user = await engine.register_user(UserProfile(telegram_id=next(learner_ids)))
    outcomes = [
        await engine.answer_challenge(user_id=user.id, lesson_id=lesson.id, answer=answer)
        for answer in answers
    ]
    right = [outcome for outcome in outcomes if outcome.solved]
    assert await logged(db, user, A.CHALLENGE_SOLVED) == (1 if right else 0)
    assert [outcome.already_solved for outcome in right] == [i > 0 for i in range(len(right))]
    assert sum(outcome.score or 0 for outcome in outcomes) == (10 if right else 0)


async def test_a_keyed_answer_sent_again_is_a_replay_of_the_first(
    engine: Engine, db: AsyncEngine, learner: UserView, lessons: list[LessonView]
) -> None:
    """An adapter that keys answers (the bot, by Telegram update) can send one twice: the
    second records nothing and answers as the first did."""
    lesson = with_challenge(lessons)
    ask = {"user_id": learner.id, "lesson_id": lesson.id}
    wrong = await engine.answer_challenge(**ask, answer="int", idempotency_key="answer-1")
    assert await engine.answer_challenge(**ask, answer="int", idempotency_key="answer-1") == wrong
    first = await engine.answer_challenge(**ask, answer="float", idempotency_key="answer-2")
    again = await engine.answer_challenge(**ask, answer="float", idempotency_key="answer-2")
    assert (first.solved, first.score) == (True, 10) and first.awards
    assert again == first
    assert await logged(db, learner, A.CHALLENGE_ATTEMPTED) == 2
    assert await logged(db, learner, A.CHALLENGE_SOLVED) == 1
    judged = await engine.judge_answer(
        telegram_id=learner.telegram_id, lesson_id=lesson.id, answer="x", idempotency_key="k"
    )
    assert [event.idempotency_key for event in judged.events] == ["k"]


async def test_an_answer_key_too_long_for_its_solve_is_refused(
    engine: Engine, db: AsyncEngine, learner: UserView, lessons: list[LessonView]
) -> None:
    lesson = with_challenge(lessons)
    with pytest.raises(InvalidEvent, match="an answer's key must be 1 to 93 characters, not 94"):
        await engine.answer_challenge(
            user_id=learner.id, lesson_id=lesson.id, answer="float", idempotency_key="k" * 94
        )
    assert await logged(db, learner, A.CHALLENGE_ATTEMPTED) == 0


async def test_judging_an_answer_writes_nothing_and_says_what_recording_would(
    engine: Engine, db: AsyncEngine, learner: UserView, lessons: list[LessonView]
) -> None:
    """For an adapter that hands the events to workers: the same events and verdict as
    `answer_challenge`, and nothing written."""
    lesson = with_challenge(lessons)
    assert lesson.challenge is not None
    right = (await engine.course()).answers[lesson.id]
    answer = next(iter(right))
    wrong = await engine.judge_answer(
        telegram_id=learner.telegram_id, lesson_id=lesson.id, answer="surely not this"
    )
    assert [event.type for event in wrong.events] == [A.CHALLENGE_ATTEMPTED]
    assert (wrong.outcome.solved, wrong.outcome.score) == (False, None)
    judged = await engine.judge_answer(
        telegram_id=learner.telegram_id, lesson_id=lesson.id, answer=answer
    )
    assert [event.type for event in judged.events] == [A.CHALLENGE_ATTEMPTED, A.CHALLENGE_SOLVED]
    assert judged.events[1].score == lesson.challenge.points
    assert judged.outcome == ChallengeOutcome(solved=True, score=lesson.challenge.points, awards=())
    assert await logged(db, learner, A.CHALLENGE_ATTEMPTED) == 0  # judged, not recorded
    await engine.record_many(list(judged.events))
    again = await engine.judge_answer(
        telegram_id=learner.telegram_id, lesson_id=lesson.id, answer=answer
    )
    assert (again.outcome.already_solved, again.outcome.score) == (True, None)
    without = next(lesson for lesson in lessons if lesson.challenge is None)
    with pytest.raises(NoChallenge, match="has no challenge"):
        await engine.judge_answer(
            telegram_id=learner.telegram_id, lesson_id=without.id, answer=answer
        )
