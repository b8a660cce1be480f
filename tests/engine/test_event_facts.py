"""A rule that reads a fact of the event applies only to events that give it a value: live,
in backfill and in preview (never against an empty event)."""

from __future__ import annotations

import json
from datetime import timedelta
from itertools import count
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine import Engine, Event, UserProfile
from questline.engine.models import UserAchievement
from questline.engine.views import LessonView, UserView
from questline.rules import RuleDocument
from questline.rules.facts import FactSpec, FactType, default_catalog
from questline.rules.validation import validate_document
from questline.rules.vocabulary import ActivityType as A

from .conftest import T0, row_counts

LOW_SCORE = {
    "slug": "low-score",
    "type": "LESSON_COMPLETED",
    "title": "Tried anyway",
    "points": 1,
    "criteria": {"<": [{"var": "lesson.score"}, 50]},
}
NIGHT_OWL = {
    "slug": "night-owl",
    "type": "MILESTONE",
    "title": "Night owl",
    "points": 1,
    "criteria": {"<": [{"var": "event.local_hour"}, 7]},
}
numbers = count(1)


async def learner(engine: Engine) -> UserView:
    return await engine.register_user(UserProfile(telegram_id=70_000 + next(numbers)))


async def load(engine: Engine, tmp_path: Path, *documents: dict) -> None:
    path = tmp_path / f"rules-{next(numbers)}.json"
    path.write_text(json.dumps(list(documents)))
    await engine.load_rules([path])


def earned(awards: object) -> list[str]:
    return [award.slug for award in awards]  # type: ignore[attr-defined]


async def test_a_rule_on_an_event_fact_never_fires_where_the_fact_is_absent(
    engine: Engine, lessons: list[LessonView], tmp_path: Path
) -> None:
    await load(engine, tmp_path, LOW_SCORE)
    someone = await learner(engine)
    login = await engine.record(Event(type=A.LOGIN, user_id=someone.id, occurred_at=T0))
    unscored = await engine.record(
        Event(type=A.LESSON_COMPLETED, user_id=someone.id, lesson_id=lessons[0].id)
    )
    assert "low-score" not in earned(login.awards) + earned(unscored.awards)
    high = await engine.record(
        Event(type=A.LESSON_COMPLETED, user_id=someone.id, lesson_id=lessons[1].id, score=80)
    )
    assert "low-score" not in earned(high.awards)
    low = await engine.record(
        Event(type=A.LESSON_COMPLETED, user_id=someone.id, lesson_id=lessons[2].id, score=30)
    )
    assert "low-score" in earned(low.awards)


async def test_backfill_judges_event_rules_at_each_stored_event(
    engine: Engine, db: AsyncEngine, lessons: list[LessonView], tmp_path: Path
) -> None:
    idle, early, late, scored = [await learner(engine) for _ in range(4)]
    await engine.record(  # 05:30 UTC is before 7 in the engine's zone (UTC here)
        Event(type=A.LOGIN, user_id=early.id, occurred_at=T0.replace(hour=5, minute=30))
    )
    await engine.record(Event(type=A.LOGIN, user_id=late.id, occurred_at=T0.replace(hour=15)))
    completion = await engine.record(
        Event(
            type=A.LESSON_COMPLETED,
            user_id=scored.id,
            lesson_id=lessons[0].id,
            score=40,
            occurred_at=T0 + timedelta(hours=2),
        )
    )
    await load(engine, tmp_path, LOW_SCORE, NIGHT_OWL)

    owls = await engine.backfill("night-owl")
    assert [award.user_id for award in owls.awards] == [early.id]
    assert owls.awards[0].earned_at == T0.replace(hour=5, minute=30)  # when it happened
    lows = await engine.backfill("low-score")
    assert [award.user_id for award in lows.awards] == [scored.id]
    async with db.connect() as connection:
        linked = await connection.scalar(
            select(UserAchievement.activity_id).where(UserAchievement.user_id == scored.id)
        )
    assert linked == completion.activity_id
    assert idle.id not in [award.user_id for award in (*owls.awards, *lows.awards)]

    before = await row_counts(db)
    preview = await engine.preview(RuleDocument.model_validate({**NIGHT_OWL, "slug": "owl-2"}))
    assert [user.id for user in preview] == [early.id]
    assert await row_counts(db) == before


def test_validation_warns_of_an_ordering_on_a_learner_fact_that_can_be_null() -> None:
    catalog = default_catalog()
    catalog.register(FactSpec("plugin.karma", FactType.INT, "Karma.", frozenset(), nullable=True))
    document = {**NIGHT_OWL, "criteria": {"<": [{"var": "plugin.karma"}, 3]}}
    [warning] = validate_document(document, "rule.json", catalog)
    assert (warning.pointer, warning.severity) == ("/criteria/</0", "warning")
    assert '"plugin.karma" can be null' in warning.message
    assert '{"!!": {"var": "plugin.karma"}}' in warning.message
    karma = {"var": "plugin.karma"}
    for guard in ({"!!": karma}, {"!=": [karma, None]}):
        guarded = {**NIGHT_OWL, "criteria": {"and": [guard, {"<": [karma, 3]}]}}
        assert validate_document(guarded, "rule.json", catalog) == []
    for document in (LOW_SCORE, NIGHT_OWL):  # event facts are never null where a rule applies
        assert validate_document(document, "rule.json") == []


SCORES = st.lists(
    st.tuples(st.sampled_from([A.LOGIN, A.LESSON_COMPLETED]), st.none() | st.integers(0, 100)),
    max_size=8,
)


async def play(engine: Engine, lessons: list[LessonView], histories: list) -> list[UserView]:
    """One new learner per history, each recording theirs in order; each completion is of
    another lesson, so the lesson's best score is that completion's score."""
    users = [await learner(engine) for _ in histories]
    for user, history in zip(users, histories, strict=True):
        for position, (kind, score) in enumerate(history):
            lesson = None if kind is A.LOGIN else lessons[position % len(lessons)].id
            await engine.record(
                Event(
                    type=kind,
                    user_id=user.id,
                    lesson_id=lesson,
                    score=None if kind is A.LOGIN else score,
                    occurred_at=T0 + timedelta(minutes=position),
                )
            )
    return users


async def holders(engine: Engine, users: list[UserView], slug: str) -> list[int]:
    """The positions in `users` of those who hold `slug`."""
    found = []
    for position, user in enumerate(users):
        statuses = await engine.achievements(user_id=user.id)
        if any(status.slug == slug and status.earned_at for status in statuses):
            found.append(position)
    return found


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(histories=st.lists(SCORES, min_size=1, max_size=3))
async def test_backfill_of_an_event_rule_equals_recording_with_it_loaded(
    engine: Engine, lessons: list[LessonView], tmp_path: Path, histories: list
) -> None:
    """Backfilled or live, the same learners earn it: those with a scored completion below 50,
    whatever else (logins, unscored completions) their history holds."""
    rule = {**LOW_SCORE, "slug": f"low-{next(numbers)}"}
    expected = [
        position
        for position, history in enumerate(histories)
        if any(kind is A.LESSON_COMPLETED and s is not None and s < 50 for kind, s in history)
    ]
    before = await play(engine, lessons, histories)
    await load(engine, tmp_path, rule)
    await engine.backfill(rule["slug"])
    after = await play(engine, lessons, histories)
    assert await holders(engine, before, rule["slug"]) == expected
    assert await holders(engine, after, rule["slug"]) == expected
