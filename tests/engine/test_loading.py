"""Content and rule loading are idempotent; backfill awards history; preview writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine import Engine, Event, UserProfile, catalog_version
from questline.engine.errors import RuleFails
from questline.engine.models import Achievement
from questline.engine.views import LessonView, UserView
from questline.rules import RuleDocument
from questline.rules.loading import CATALOG_DIR
from questline.rules.vocabulary import AchievementType
from questline.rules.vocabulary import ActivityType as A

from .conftest import SAMPLE_COURSE, row_counts


async def test_loading_the_same_course_twice_changes_nothing(
    engine: Engine, db: AsyncEngine
) -> None:
    before = await row_counts(db)
    report = await engine.load_content(SAMPLE_COURSE)
    assert report.created == [] and report.updated == []
    assert "python-basics/values" in report.unchanged
    assert await row_counts(db) == before


async def test_course_changes_update_by_slug(engine: Engine, tmp_path: Path) -> None:
    course = tmp_path / "course.json"
    course.write_text(
        json.dumps(
            {
                "modules": [
                    {
                        "slug": "python-basics",
                        "title": "Python, the basics",
                        "order": 1,
                        "lessons": [
                            {"slug": "values", "title": "Values and types", "order": 1},
                            {"slug": "bonus", "title": "Bonus", "order": 9},
                        ],
                    }
                ]
            }
        )
    )
    report = await engine.load_content(course)
    assert report.created == ["python-basics/bonus"]
    assert report.updated == ["python-basics", "python-basics/values"]
    [basics] = [m for m in await engine.modules() if m.slug == "python-basics"]
    assert basics.title == "Python, the basics"
    values = next(lesson for lesson in basics.lessons if lesson.slug == "values")
    assert values.challenge is None  # the new file dropped it
    assert [lesson.slug for lesson in basics.lessons][-1] == "bonus"


async def test_loading_rules_twice_reports_unchanged_then_updated(
    engine: Engine, tmp_path: Path
) -> None:
    report = await engine.load_rules([CATALOG_DIR])
    assert report.created == [] and report.updated == []
    assert "first-lesson" in report.unchanged
    rule = tmp_path / "first.json"
    rule.write_text(
        json.dumps(
            {
                "slug": "first-lesson",
                "type": "LESSON_COMPLETED",
                "title": "First steps",
                "points": 15,
                "criteria": {">=": [{"var": "stats.lessons_completed"}, 1]},
            }
        )
    )
    report = await engine.load_rules([rule])
    assert report.updated == ["first-lesson"]
    statuses = {s.slug: s for s in await engine.achievements(user_id=(await new_user(engine)).id)}
    assert statuses["first-lesson"].points == 15


async def new_user(engine: Engine, telegram_id: int = 321) -> UserView:
    return await engine.register_user(UserProfile(telegram_id=telegram_id))


async def test_backfill_awards_a_new_rule_to_qualifying_history(
    engine: Engine, lessons: list[LessonView], tmp_path: Path
) -> None:
    keen = await new_user(engine, 1)
    idle = await new_user(engine, 2)
    for lesson in lessons[:2]:
        await engine.record(Event(type=A.LESSON_COMPLETED, user_id=keen.id, lesson_id=lesson.id))
    rule = tmp_path / "two.json"
    rule.write_text(
        json.dumps(
            {
                "slug": "two-lessons",
                "type": "LESSON_COMPLETED",
                "title": "Two down",
                "points": 5,
                "criteria": {">=": [{"var": "stats.lessons_completed"}, 2]},
            }
        )
    )
    await engine.load_rules([rule])
    report = await engine.backfill("two-lessons", chunk_size=1)
    assert report.users == 2
    assert [(a.slug, a.user_id) for a in report.awards] == [("two-lessons", keen.id)]
    again = await engine.backfill("two-lessons")
    assert again.awards == ()
    earned = {s.slug for s in await engine.achievements(user_id=idle.id) if s.earned_at}
    assert earned == set()


async def test_preview_lists_who_would_qualify_and_writes_nothing(
    engine: Engine, db: AsyncEngine, lessons: list[LessonView]
) -> None:
    keen = await new_user(engine, 1)
    await new_user(engine, 2)
    await engine.record(Event(type=A.LESSON_COMPLETED, user_id=keen.id, lesson_id=lessons[0].id))
    before = await row_counts(db)
    document = RuleDocument(
        slug="any-lesson",
        type="LESSON_COMPLETED",
        title="Any",
        points=1,
        criteria={">": [{"var": "stats.lessons_completed"}, 0]},
    )
    assert [user.id for user in await engine.preview(document)] == [keen.id]
    assert await row_counts(db) == before


async def test_preview_of_a_rule_that_fails_when_judged_says_so(engine: Engine) -> None:
    """Not "nobody qualifies": the rule fails for every learner (over its budget here)."""
    learner = await new_user(engine, 1)
    thousand = list(range(1000))
    document = RuleDocument(
        slug="costly",
        type="MILESTONE",
        title="Costly",
        points=1,
        criteria={"some": [thousand, {"some": [thousand, {"==": [{"var": ""}, -1]}]}]},
    )
    with pytest.raises(
        RuleFails,
        match=rf'rule "costly": .*budget.* \(judging learner {learner.id}, Telegram id 1\)',
    ):
        await engine.preview(document)


async def test_challenge_options_round_trip_and_update_by_slug(
    engine: Engine, tmp_path: Path
) -> None:
    def course(options: list[str] | None) -> Path:
        challenge = {"question": "Which keyword?", "answers": ["elif"], "options": options}
        lesson = {"slug": "decisions", "title": "Decisions", "order": 1, "challenge": challenge}
        module = {"slug": "basics", "title": "Basics", "order": 9, "lessons": [lesson]}
        path = tmp_path / "course.json"
        path.write_text(json.dumps({"modules": [module]}, ensure_ascii=False))
        return path

    async def options() -> tuple[str, ...]:
        [basics] = [m for m in await engine.modules(published_only=False) if m.slug == "basics"]
        [lesson] = basics.lessons
        assert lesson.challenge is not None
        return lesson.challenge.options

    assert (await engine.load_content(course(["else if", "elif", "ещё если"]))).created
    assert await options() == ("else if", "elif", "ещё если")
    again = await engine.load_content(course(["else if", "elif", "ещё если"]))
    assert again.updated == [] and "basics/decisions" in again.unchanged
    assert (await engine.load_content(course(None))).updated == ["basics/decisions"]
    assert await options() == ()


async def test_a_stored_rule_reading_a_fact_no_plugin_supplies_is_not_loaded(
    engine: Engine, db: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    """Stored while a plugin supplied `forum.posts`; that plugin is gone now."""
    async with db.begin() as connection:
        await connection.execute(
            insert(Achievement).values(
                slug="forum-ten",
                type=AchievementType.MILESTONE,
                title="Ten posts",
                points=5,
                criteria=json.dumps({">=": [{"var": "forum.posts"}, 10]}),
            )
        )
    await engine.reload()
    assert engine.rulebook.rule("forum-ten") is None
    assert engine.rulebook.rule("first-lesson") is not None
    assert 'achievement forum-ten is not loaded: it reads unknown fact "forum.posts"' in (
        caplog.text
    )


@pytest.mark.parametrize("change", ["rules", "content"])
async def test_an_engine_sees_rules_and_content_another_loaded(
    engine: Engine, db: AsyncEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    """A running server kept awarding the rules it started with (old points, a disabled rule,
    no new one) after `questline rules load` in another process; the same for the course."""
    monkeypatch.setattr(catalog_version, "CHECK_SECONDS", 0)
    learner = await new_user(engine)
    other = Engine(db)  # another process: its own engine on the same database
    if change == "rules":
        rule = {
            "slug": "any-login",
            "type": "MILESTONE",
            "title": "Hello",
            "points": 3,
            "criteria": {">=": [{"var": "stats.logins"}, 1]},
        }
        (tmp_path / "login.json").write_text(json.dumps(rule))
        await other.load_rules([tmp_path / "login.json"])
        result = await engine.record(Event(type=A.LOGIN, user_id=learner.id))
        assert [award.slug for award in result.awards] == ["any-login"]
    else:
        lesson = {"slug": "late-addition", "title": "Late addition", "order": 99}
        module = {"slug": "extra", "title": "Extra", "order": 99, "published": True}
        course = tmp_path / "course.json"
        course.write_text(json.dumps({"modules": [{**module, "lessons": [lesson]}]}))
        await other.load_content(course)
        added = next(m for m in await engine.modules() if m.slug == "extra").lessons[0]
        await engine.record(Event(type=A.LESSON_STARTED, user_id=learner.id, lesson_id=added.id))
    await other.shutdown()


async def test_loading_says_which_enabled_rules_the_files_leave_alone(
    engine: Engine, tmp_path: Path
) -> None:
    """A rule renamed in its file is a new rule: the old slug stays enabled and awards too
    (a learner was paid twice); loading and diffing name it."""
    rules = json.loads((CATALOG_DIR / "lessons.json").read_text())
    renamed = [
        {**rule, "slug": "first-lesson-renamed"} if rule["slug"] == "first-lesson" else rule
        for rule in rules
    ]
    path = tmp_path / "lessons.json"
    path.write_text(json.dumps(renamed))
    diff = await engine.diff_rules([path])
    report = await engine.load_rules([path])
    assert "first-lesson" in diff.left_alone and "first-lesson" in report.left_alone
    assert not {rule["slug"] for rule in renamed} & set(report.left_alone)
