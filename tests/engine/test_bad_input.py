"""Every rejected input names the problem and leaves the database exactly as it was."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine import Engine, Event, EventRejected
from questline.engine.errors import (
    ContentError,
    InvalidEvent,
    NoChallenge,
    QuestlineError,
    RulesError,
    UnknownLesson,
    UnknownUser,
    UnpublishedLesson,
)
from questline.engine.views import LessonView, UserView
from questline.rules.vocabulary import ActivityType as A

from .conftest import row_counts

PLUS_ONE = timezone(timedelta(hours=1))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"type": "LESSON_FINISHED", "user_id": 1, "lesson_id": 1},
            'unknown event type "LESSON_FINISHED"; one of LESSON_STARTED, LESSON_COMPLETED, '
            "CHALLENGE_ATTEMPTED, CHALLENGE_SOLVED, LOGIN",
        ),
        ({"type": 7, "user_id": 1}, "unknown event type 7; one of LESSON_STARTED"),
        ({"type": "ACHIEVEMENT_EARNED", "user_id": 1}, "written only by the engine"),
        (
            {"type": "LESSON_COMPLETED", "user_id": 1, "lesson_id": 1, "score": -1},
            "greater than or equal to 0",
        ),
        (
            {"type": "LOGIN", "user_id": 1, "occurred_at": datetime(2026, 1, 1)},
            "occurred_at must include a time zone, e.g. 2026-03-01T09:00:00+01:00",
        ),
        ({"type": "LOGIN"}, "give exactly one of user_id and telegram_id"),
        ({"type": "LESSON_STARTED", "user_id": 1}, "LESSON_STARTED needs a lesson_id"),
        ({"type": "LOGIN", "user_id": 1, "lesson_id": 3}, "LOGIN takes no lesson_id"),
        ({"type": "LESSON_STARTED", "user_id": 1, "lesson_id": 1, "score": 5}, "takes no score"),
        ({"type": "LOGIN", "user_id": 1, "colour": "red"}, "Extra inputs are not permitted"),
        ({"type": "LOGIN", "user_id": 1, "details": {"score": 5}}, "goes in the event's score"),
        ({"type": "LOGIN", "user_id": 2**31}, "less than or equal to 2147483647"),
        ({"type": "LOGIN", "telegram_id": 2**63}, "less than or equal to 9223372036854775807"),
        ({"type": "LOGIN", "telegram_id": "42"}, "must be an integer, not the string '42'"),
        ({"type": "LOGIN", "telegram_id": True}, "must be an integer, not true"),
        ({"type": "LOGIN", "user_id": False}, "must be an integer, not false"),
        ({"type": "LESSON_STARTED", "user_id": 1, "lesson_id": "1"}, "not the string '1'"),
        ({"type": "LESSON_COMPLETED", "user_id": 1, "lesson_id": 1, "score": "9"}, "string '9'"),
        ({"type": "LOGIN", "user_id": 1.5}, "got a number with a fractional part"),
        ({"type": "LOGIN", "user_id": 1, "occurred_at": 1700000000}, "not the number 1700000000"),
        (
            {"type": "LOGIN", "user_id": 1, "occurred_at": datetime(1, 1, 1, tzinfo=PLUS_ONE)},
            "must lie between 1000-01-02 and 9999-12-30",
        ),
        (
            {"type": "LOGIN", "user_id": 1, "details": {"x": float("nan")}},
            "at /x: NaN is not a JSON number",
        ),
        (
            {"type": "LOGIN", "user_id": 1, "details": {"x": "\ud800"}},
            "at /x: text holds a lone surrogate",
        ),
        (
            {"type": "LOGIN", "user_id": 1, "details": {"when": datetime(2026, 1, 1)}},
            "at /when: a date and time is not a JSON value; write it as text",
        ),
    ],
)
def test_malformed_events_are_refused_before_reaching_the_engine(
    fields: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        Event.model_validate(fields)


async def assert_rejected(
    engine: Engine, db: AsyncEngine, event: Event, error: type[Exception], message: str
) -> None:
    before = await row_counts(db)
    with pytest.raises(error) as caught:
        await engine.record(event)
    assert str(caught.value) == message
    assert await row_counts(db) == before


async def test_unknown_user(engine: Engine, db: AsyncEngine) -> None:
    await assert_rejected(
        engine,
        db,
        Event(type=A.LOGIN, telegram_id=999),
        UnknownUser,
        "unknown user: no learner with telegram_id 999",
    )


async def test_unknown_lesson(engine: Engine, db: AsyncEngine, learner: UserView) -> None:
    await assert_rejected(
        engine,
        db,
        Event(type=A.LESSON_STARTED, user_id=learner.id, lesson_id=4242),
        UnknownLesson,
        "unknown lesson: no lesson with id 4242",
    )


async def test_unpublished_lesson(engine: Engine, db: AsyncEngine, learner: UserView) -> None:
    drafts = [m for m in await engine.modules(published_only=False) if not m.is_published]
    lesson = drafts[0].lessons[0]
    await assert_rejected(
        engine,
        db,
        Event(type=A.LESSON_COMPLETED, user_id=learner.id, lesson_id=lesson.id),
        UnpublishedLesson,
        f'lesson {lesson.id} ("The event loop") is not published',
    )


async def test_idempotency_key_reused_for_another_event(
    engine: Engine, db: AsyncEngine, learner: UserView, lessons: list[LessonView]
) -> None:
    await engine.record(Event(type=A.LOGIN, user_id=learner.id, idempotency_key="k1"))
    await assert_rejected(
        engine,
        db,
        Event(
            type=A.LESSON_STARTED, user_id=learner.id, lesson_id=lessons[0].id, idempotency_key="k1"
        ),
        InvalidEvent,
        'idempotency key "k1" was already used for a LOGIN event of this learner',
    )
    first, second = lessons[0].id, lessons[1].id
    await engine.record(
        Event(type=A.LESSON_STARTED, user_id=learner.id, lesson_id=first, idempotency_key="k2")
    )
    await assert_rejected(
        engine,
        db,
        Event(type=A.LESSON_STARTED, user_id=learner.id, lesson_id=second, idempotency_key="k2"),
        InvalidEvent,
        f'idempotency key "k2" was already used for a LESSON_STARTED event of lesson {first} '
        "of this learner",
    )


async def test_a_bad_event_rolls_back_its_whole_chunk(
    engine: Engine, db: AsyncEngine, learner: UserView, lessons: list[LessonView]
) -> None:
    before = await row_counts(db)
    events = [
        Event(type=A.LESSON_COMPLETED, user_id=learner.id, lesson_id=lessons[0].id),
        Event(type=A.LESSON_COMPLETED, user_id=learner.id, lesson_id=9999),
    ]
    with pytest.raises(EventRejected) as caught:
        await engine.record_many(events)
    assert caught.value.index == 1
    assert str(caught.value) == "event 2: unknown lesson: no lesson with id 9999"
    assert await row_counts(db) == before


@pytest.mark.parametrize("kind", [A.CHALLENGE_ATTEMPTED, A.CHALLENGE_SOLVED])
async def test_a_challenge_event_for_a_lesson_without_a_challenge(
    engine: Engine, db: AsyncEngine, learner: UserView, lessons: list[LessonView], kind: A
) -> None:
    plain = next(lesson for lesson in lessons if lesson.challenge is None)
    await assert_rejected(
        engine,
        db,
        Event(type=kind, user_id=learner.id, lesson_id=plain.id),
        NoChallenge,
        f'lesson {plain.id} ("{plain.title}") has no challenge',
    )


async def test_a_solve_scores_the_courses_points_never_the_callers(
    engine: Engine, db: AsyncEngine, learner: UserView, lessons: list[LessonView]
) -> None:
    challenged = [lesson for lesson in lessons if lesson.challenge]
    first, second = challenged[0], challenged[1]
    assert first.challenge is not None and second.challenge is not None
    points = first.challenge.points
    await assert_rejected(
        engine,
        db,
        Event(type=A.CHALLENGE_SOLVED, user_id=learner.id, lesson_id=first.id, score=500),
        InvalidEvent,
        f"score: lesson {first.id}'s challenge is worth {points} points in the course, not 500;"
        " leave score out and the engine scores the solve",
    )
    await engine.record(
        Event(type=A.CHALLENGE_SOLVED, user_id=learner.id, lesson_id=first.id, score=points)
    )
    await engine.record(Event(type=A.CHALLENGE_SOLVED, user_id=learner.id, lesson_id=second.id))
    report = await engine.progress(user_id=learner.id)
    scores = {item.lesson.id: item.score for entry in report.modules for item in entry.lessons}
    assert (scores[first.id], scores[second.id]) == (points, second.challenge.points)
    assert report.total_score == points + second.challenge.points + report.points


async def test_challenge_of_a_lesson_without_one(
    engine: Engine, db: AsyncEngine, learner: UserView, lessons: list[LessonView]
) -> None:
    plain = next(lesson for lesson in lessons if lesson.challenge is None)
    before = await row_counts(db)
    with pytest.raises(NoChallenge, match=f'lesson {plain.id} \\("Dictionaries"\\) has no'):
        await engine.answer_challenge(user_id=learner.id, lesson_id=plain.id, answer="x")
    assert await row_counts(db) == before


async def test_broken_course_file_loads_nothing(
    engine: Engine, db: AsyncEngine, tmp_path: Path
) -> None:
    course = tmp_path / "course.yaml"
    course.write_text(
        "modules:\n  - slug: Bad Slug\n    title: x\n    order: 1\n"
        "  - slug: ok\n    title: y\n    order: 2\n    lessons: [{slug: a, title: A}]\n"
    )
    before = await row_counts(db)
    with pytest.raises(ContentError) as caught:
        await engine.load_content(course)
    message = str(caught.value)
    assert message.startswith(f"{course}: /modules/0/slug: String should match pattern")
    assert "/modules/1/lessons/0/order: Field required" in message
    assert await row_counts(db) == before


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["5"], "options must hold 2 to 10 choices"),
        ([str(n) for n in range(11)], "options must hold 2 to 10 choices"),
        (["5", " 5 "], "options must differ from each other (ignoring case and spaces)"),
        (["Five", "five"], "options must differ from each other"),
        (["4", "6"], "no option is a right answer: one of the options must be in answers"),
        (["5", "   "], "options: item 1 must not be empty"),
        (["5", "x" * 65], "options must be 1 to 64 characters long"),
        ("5, 6", "options: must be a list of texts, not text"),
    ],
)
async def test_bad_challenge_options_load_nothing(
    engine: Engine, db: AsyncEngine, tmp_path: Path, options: object, expected: str
) -> None:
    challenge = {"question": "2 + 3?", "answers": ["5"], "options": options}
    lesson = {"slug": "sums", "title": "Sums", "order": 1, "challenge": challenge}
    course = tmp_path / "course.json"
    course.write_text(
        json.dumps({"modules": [{"slug": "maths", "title": "M", "order": 1, "lessons": [lesson]}]})
    )
    before = await row_counts(db)
    with pytest.raises(ContentError) as caught:
        await engine.load_content(course)
    assert str(caught.value).startswith(f"{course}: /modules/0/lessons/0/challenge")
    assert expected in str(caught.value)
    assert await row_counts(db) == before


async def test_unparsable_course_file(engine: Engine, tmp_path: Path) -> None:
    course = tmp_path / "course.json"
    course.write_text('{"modules": [')
    with pytest.raises(ContentError, match=r"course.json: not valid JSON: Expecting value"):
        await engine.load_content(course)


async def test_course_file_with_a_repeated_key(engine: Engine, tmp_path: Path) -> None:
    course = tmp_path / "course.yaml"
    course.write_text("modules:\n  - slug: a\n    title: A\n    title: B\n    order: 1\n")
    with pytest.raises(ContentError) as caught:
        await engine.load_content(course)
    assert 'duplicate key "title"' in str(caught.value)
    assert "line 4, column 5" in str(caught.value)


async def test_rule_file_with_an_unknown_fact_loads_nothing(
    engine: Engine, db: AsyncEngine, tmp_path: Path
) -> None:
    good = tmp_path / "a.json"
    good.write_text(
        '{"slug": "fine", "type": "MILESTONE", "title": "Fine", "points": 1,'
        ' "criteria": {">=": [{"var": "stats.logins"}, 1]}}'
    )
    bad = tmp_path / "b.json"
    bad.write_text(
        '{"slug": "typo", "type": "STREAK", "title": "Typo", "points": 1,'
        ' "criteria": {">=": [{"var": "streak.curent"}, 3]}}'
    )
    before = await row_counts(db)
    with pytest.raises(RulesError) as caught:
        await engine.load_rules([tmp_path])
    assert (
        f'{bad}: /criteria/>=/0/var: unknown fact "streak.curent" (did you mean "streak.current"?)'
        in str(caught.value)
    )
    assert await row_counts(db) == before


async def test_a_text_longer_than_its_column_loads_nothing(
    engine: Engine, db: AsyncEngine, tmp_path: Path
) -> None:
    """TEXT holds 65,535 bytes on MariaDB (a raw "Data too long" error there; SQLite stored
    it): refused alike on both, in bytes, before the database."""
    rules = tmp_path / "rules.json"
    rules.write_text(
        json.dumps(
            [
                {"slug": "fine", "type": "MILESTONE", "title": "F", "points": 1, "criteria": True},
                {
                    "slug": "long",
                    "type": "MILESTONE",
                    "title": "L",
                    "description": {"en": "Short", "ru": "д" * 40_000},
                    "points": 1,
                    "criteria": True,
                },
            ]
        )
    )
    lesson = {"slug": "l", "title": "L", "order": 1, "content": "x" * 65_536}
    course = tmp_path / "course.json"
    course.write_text(
        json.dumps({"modules": [{"slug": "m", "title": "M", "order": 1, "lessons": [lesson]}]})
    )
    before = await row_counts(db)
    with pytest.raises(RulesError) as refused_rule:
        await engine.load_rules([rules])
    with pytest.raises(ContentError) as refused_course:
        await engine.load_content(course)
    assert (
        f"{rules}: /1/description: 'ru': is 80,000 bytes of UTF-8 text; the limit is 65,535"
        in str(refused_rule.value)
    )
    assert "/modules/0/lessons/0/content: is 65,536 bytes of UTF-8 text" in str(
        refused_course.value
    )
    assert await row_counts(db) == before


async def test_rules_giving_more_points_than_a_total_can_hold_load_nothing(
    engine: Engine, db: AsyncEngine, tmp_path: Path
) -> None:
    """Each rule's points are in range, but a learner holding them all would overflow the
    32-bit totals (on MariaDB every qualifying event then failed, for ever)."""
    rules = tmp_path / "rules.json"
    rule = {"type": "MILESTONE", "title": "Big", "points": 1_000_000, "criteria": True}
    rules.write_text(json.dumps([{**rule, "slug": f"big-{n}"} for n in range(1_001)]))
    before = await row_counts(db)
    with pytest.raises(RulesError, match=r"would give 1,00\d,\d{3},\d{3} points in all"):
        await engine.load_rules([rules])
    with pytest.raises(RulesError, match=r"would give 1,00\d,\d{3},\d{3} points in all"):
        await engine.diff_rules([rules])  # says what loading would do: refuse them
    assert await row_counts(db) == before
    rules.write_text(json.dumps([{**rule, "slug": f"big-{n}"} for n in range(999)]))
    changes = (await engine.diff_rules([rules])).changes
    assert len(changes) == 999  # under the limit with the catalog's


async def test_unknown_time_zone() -> None:
    with pytest.raises(QuestlineError, match='unknown time zone "Mars/Olympus"'):
        Engine("sqlite+aiosqlite://", timezone="Mars/Olympus")
