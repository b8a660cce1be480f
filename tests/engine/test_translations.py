"""Content and achievements in the learner's language: loading, validation, fallback, reloads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine import Engine, Event, UserProfile
from questline.engine.content import CourseDocument, read_course
from questline.engine.errors import ContentError, RulesError
from questline.engine.models import AchievementTranslation, LessonTranslation, ModuleTranslation
from questline.rules.loading import CATALOG_DIR
from questline.rules.vocabulary import ActivityType as A

from .conftest import SAMPLE_COURSE, T0, row_counts


def lesson_titles(modules: list[Any]) -> list[str]:
    return [lesson.title for module in modules for lesson in module.lessons]


async def translation_rows(db: AsyncEngine) -> dict[str, int]:
    async with db.connect() as connection:
        return {
            model.__tablename__: int(
                (await connection.execute(select(func.count()).select_from(model))).scalar_one()
            )
            for model in (ModuleTranslation, LessonTranslation, AchievementTranslation)
        }


def write(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def one_lesson_course(**lesson: Any) -> dict[str, Any]:
    lesson = {"slug": "sums", "title": {"en": "Sums", "ru": "Суммы"}, "order": 1, **lesson}
    module = {"slug": "maths", "title": {"en": "Maths", "ru": "Математика"}, "order": 1}
    return {"modules": [{**module, "lessons": [lesson]}]}


# -- reading in a language -------------------------------------------------------------------


async def test_the_sample_course_reads_in_russian_and_falls_back_to_english(
    engine: Engine,
) -> None:
    english = await engine.modules()
    for tag in ("ru", "ru-RU", "RU_ru"):
        russian = await engine.modules(language=tag)
        assert [m.title for m in russian] == ["Основы Python", "Коллекции", "Функции"]
        assert [m.id for m in russian] == [m.id for m in english]
    assert lesson_titles(english)[:3] == ["Values and types", "Names", "Decisions"]
    for tag in (None, "", "en", "de", "zz-ZZ"):
        assert lesson_titles(await engine.modules(language=tag)) == lesson_titles(english)

    decisions = next(lesson for lesson in english[0].lessons if lesson.slug == "decisions")
    lesson = await engine.lesson(decisions.id, language="ru")
    assert lesson.title == "Условия" and "**первого**" in (lesson.content or "")
    assert lesson.challenge is not None
    assert lesson.challenge.question == "Какое ключевое слово начинает альтернативное условие?"
    assert lesson.challenge.options == ("else if", "elif", "elseif", "иначе")
    assert lesson.challenge.points == 15
    module = await engine.module(english[2].id, language="ru")
    assert module.description == (
        "Как дать имя части работы, передать ей данные и получить результат."
    )
    drafts = await engine.modules(published_only=False, language="ru")
    assert drafts[-1].title == "Асинхронный Python" and not drafts[-1].is_published


async def test_progress_reads_in_the_learner_language(engine: Engine) -> None:
    await engine.register_user(UserProfile(telegram_id=7, language_code="ru"))
    report = await engine.progress(telegram_id=7, language="ru")
    assert report.modules[1].module.title == "Коллекции"
    assert report.modules[1].lessons[2].lesson.title == "Циклы"
    english = await engine.progress(telegram_id=7)
    assert english.modules[1].lessons[2].lesson.title == "Loops"


@pytest.mark.parametrize("answer", ["4", "four", "FOUR", "четыре", " Четыре "])
async def test_an_answer_in_any_language_of_the_lesson_is_right(
    engine: Engine, answer: str
) -> None:
    await engine.register_user(UserProfile(telegram_id=8))
    loops = next(m for m in await engine.modules() if m.slug == "collections").lessons[2]
    outcome = await engine.answer_challenge(telegram_id=8, lesson_id=loops.id, answer=answer)
    assert outcome.solved and outcome.score == 20


async def test_a_russian_option_is_a_right_answer(engine: Engine) -> None:
    await engine.register_user(UserProfile(telegram_id=9))
    ret = next(m for m in await engine.modules() if m.slug == "functions").lessons[1]
    russian = await engine.lesson(ret.id, language="ru")
    assert russian.challenge is not None
    wrong = await engine.answer_challenge(
        telegram_id=9, lesson_id=ret.id, answer=russian.challenge.options[3]
    )
    right = await engine.answer_challenge(
        telegram_id=9, lesson_id=ret.id, answer=russian.challenge.options[1]
    )
    assert (wrong.solved, right.solved) == (False, True)


async def test_achievements_and_awards_read_in_the_learner_language(engine: Engine) -> None:
    user = await engine.register_user(UserProfile(telegram_id=10, language_code="ru"))
    first = (await engine.modules())[0].lessons[0]
    result = await engine.record(  # at 09:00: wall-clock time would wake the night owl
        Event(type=A.LESSON_COMPLETED, user_id=user.id, lesson_id=first.id, occurred_at=T0)
    )
    [award] = result.awards
    assert (award.title, award.description) == ("First steps", "Complete your first lesson.")
    russian = engine.award_in(award, "ru-RU")
    assert (russian.title, russian.description) == ("Первые шаги", "Пройдите свой первый урок.")
    assert russian.points == award.points and russian.earned_at == award.earned_at
    assert engine.award_in(award, "de") == award

    statuses = {s.slug: s for s in await engine.achievements(user_id=user.id, locale="ru")}
    assert statuses["first-lesson"].title == "Первые шаги" and statuses["first-lesson"].earned_at
    assert statuses["streak-7"].title == "Неделя учёбы"
    assert statuses["night-owl"].explanation == (
        "Пройдите урок между 22:00 и 04:59 по времени сообщества."
    )
    english = {s.slug: s for s in await engine.achievements(user_id=user.id, language="en")}
    assert english["first-lesson"].title == "First steps"


# -- loading ---------------------------------------------------------------------------------


async def test_loading_twice_changes_nothing(engine: Engine, db: AsyncEngine) -> None:
    rows = await translation_rows(db)
    assert rows == {
        "module_translations": 4,
        "lesson_translations": 12,
        "achievement_translations": 14,
    }
    before = await row_counts(db)
    content = await engine.load_content(SAMPLE_COURSE)
    rules = await engine.load_rules([CATALOG_DIR])
    assert (content.created, content.updated) == ([], [])
    assert (rules.created, rules.updated) == ([], [])
    assert await row_counts(db) == before


async def test_removing_a_language_removes_its_rows(
    engine: Engine, db: AsyncEngine, tmp_path: Path
) -> None:
    course = read_course(SAMPLE_COURSE)
    plain = json.loads(course.model_dump_json(exclude_none=True))
    english = _only(plain, "en")
    report = await engine.load_content(write(tmp_path / "course.json", english))
    assert "python-basics" in report.updated and "collections/loops" in report.updated
    rows = await translation_rows(db)
    assert rows["module_translations"] == rows["lesson_translations"] == 0
    loops = next(m for m in await engine.modules(language="ru") if m.slug == "collections")
    assert loops.title == "Collections" and loops.lessons[2].title == "Loops"
    await engine.register_user(UserProfile(telegram_id=11))
    solved = await engine.answer_challenge(
        telegram_id=11, lesson_id=loops.lessons[2].id, answer="четыре"
    )
    assert not solved.solved  # the Russian answers went with the Russian texts

    await engine.load_content(SAMPLE_COURSE)
    assert (await translation_rows(db))["lesson_translations"] == 12


async def test_a_rule_losing_its_russian_loses_its_row(
    engine: Engine, db: AsyncEngine, tmp_path: Path
) -> None:
    rule = {
        "slug": "first-lesson",
        "type": "LESSON_COMPLETED",
        "title": "First steps",
        "description": "Complete your first lesson.",
        "icon": "🎓",
        "points": 10,
        "criteria": {">=": [{"var": "stats.lessons_completed"}, 1]},
    }
    [change] = (await engine.diff_rules([write(tmp_path / "rule.json", rule)])).changes
    assert change.changed == ("translations",)
    report = await engine.load_rules([tmp_path / "rule.json"])
    assert report.updated == ["first-lesson"]
    assert (await translation_rows(db))["achievement_translations"] == 13
    await engine.register_user(UserProfile(telegram_id=12))
    statuses = {s.slug: s for s in await engine.achievements(telegram_id=12, locale="ru")}
    assert statuses["first-lesson"].title == "First steps"
    assert statuses["ten-lessons"].title == "Десятка"


async def test_a_course_in_russian_with_english_translations(
    engine: Engine, tmp_path: Path
) -> None:
    course = one_lesson_course(content={"ru": "Сложите числа.", "en": "Add the numbers."})
    course["language"] = "ru"
    await engine.load_content(write(tmp_path / "course.json", course))
    maths = next(m for m in await engine.modules() if m.slug == "maths")
    assert (maths.title, maths.lessons[0].content) == ("Математика", "Сложите числа.")
    english = await engine.module(maths.id, language="en-GB")
    assert (english.title, english.lessons[0].content) == ("Maths", "Add the numbers.")


# -- bad inputs ------------------------------------------------------------------------------

SUMS = "/modules/0/lessons/0"


@pytest.mark.parametrize(
    ("course", "expected"),
    [
        (
            one_lesson_course(content={"en": "Add them."}),
            f"{SUMS}/content: lesson maths/sums has no 'ru' content (the course is in en, ru)",
        ),
        (
            one_lesson_course(content="Add them."),
            f"{SUMS}/content: lesson maths/sums has no 'ru' content",
        ),
        (
            one_lesson_course(title={"ru": "Суммы"}),
            f"{SUMS}/title: lesson maths/sums has no 'en' title",
        ),
        (
            one_lesson_course(title={"en": "Sums", "ru": "Суммы", "english": "Sums"}),
            f"{SUMS}/title: unknown language code 'english': use a lowercase ISO 639 code",
        ),
        (
            one_lesson_course(title={"en": "Sums", "ru": "Суммы", "xx": "Sums"}),
            f"{SUMS}/title: unknown language code 'xx'",
        ),
        (
            {**one_lesson_course(), "language": "EN"},
            "/language: unknown language code 'EN'",
        ),
        (one_lesson_course(title={"en": "Sums", "ru": 5}), f"{SUMS}/title: 'ru': must be text"),
        (one_lesson_course(content=["Add"]), f"{SUMS}/content: must be text, not a list"),
        (one_lesson_course(title={"en": "Sums", "ru": " "}), "'ru': must not be empty"),
        (one_lesson_course(title=""), f"{SUMS}/title: must not be empty"),
        (one_lesson_course(title={}), f"{SUMS}/title: gives no language"),
        (
            one_lesson_course(title={"en": "Sums", "ru": "С" * 201}),
            "'ru': must be at most 200 characters",
        ),
        (
            one_lesson_course(
                challenge={"question": {"en": "2 + 3?", "ru": "2 + 3?"}, "answers": {"en": ["5"]}}
            ),
            f"{SUMS}/answers: lesson maths/sums has no 'ru' answers",
        ),
        (
            one_lesson_course(
                challenge={
                    "question": {"en": "2 + 3?", "ru": "2 + 3?"},
                    "answers": ["5", "five"],
                    "options": {"en": ["5", "6"], "ru": ["пять", "шесть"]},
                }
            ),
            "options 'ru': no option is a right answer",
        ),
        (
            one_lesson_course(
                challenge={"question": {"en": "2 + 3?", "ru": "2 + 3?"}, "answers": {"ru": []}}
            ),
            "/answers: 'ru': must not be empty",
        ),
    ],
)
async def test_bad_translations_load_nothing(
    engine: Engine, db: AsyncEngine, tmp_path: Path, course: dict[str, Any], expected: str
) -> None:
    before = await row_counts(db)
    path = write(tmp_path / "course.json", course)
    with pytest.raises(ContentError) as caught:
        await engine.load_content(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert expected in str(caught.value)
    assert await row_counts(db) == before


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"description": {"en": "One lesson."}},
            "description has no 'ru' text (the rule is in en, ru)",
        ),
        ({"language": "xx"}, "/language: unknown language code 'xx'"),
        ({"title": {"en": "Ten", "ru": ""}}, "/title: 'ru': must not be empty"),
        ({"description": {"en": "One", "ru": None}}, "/description: 'ru': must be text, not null"),
    ],
)
async def test_bad_rule_translations_are_named(
    engine: Engine, db: AsyncEngine, tmp_path: Path, fields: dict[str, Any], expected: str
) -> None:
    rule = {
        "slug": "one",
        "type": "LESSON_COMPLETED",
        "title": {"en": "One", "ru": "Один"},
        "points": 1,
        "criteria": {">=": [{"var": "stats.lessons_completed"}, 1]},
        **fields,
    }
    assert expected in "; ".join(str(p) for p in engine.check_rule(rule))
    before = await row_counts(db)
    with pytest.raises(RulesError, match=expected.split(": ")[-1][:20]):
        await engine.load_rules([write(tmp_path / "rule.json", rule)])
    assert await row_counts(db) == before


# -- properties ------------------------------------------------------------------------------

LANGUAGES = ("en", "ru", "de", "uk")
FIELDS = ("title", "content")


@st.composite
def texts(draw: st.DrawFn) -> tuple[str, list[dict[str, set[str] | None]]]:
    """A default language and, for each of 1-3 lessons, the languages each field is given in
    (None: a plain text, in the default language)."""
    default = draw(st.sampled_from(LANGUAGES))
    field_languages = st.none() | st.sets(st.sampled_from(LANGUAGES), min_size=1)
    lessons = draw(
        st.lists(
            st.fixed_dictionaries({f: field_languages for f in FIELDS}), min_size=1, max_size=3
        )
    )
    return default, lessons


def course_of(default: str, lessons: list[dict[str, set[str] | None]]) -> dict[str, Any]:
    def value(field: str, n: int, languages: set[str] | None) -> Any:
        if languages is None:
            return f"{field} {n} {default}"
        return {language: f"{field} {n} {language}" for language in sorted(languages)}

    return {
        "language": default,
        "modules": [
            {
                "slug": "prop",
                "title": {language: f"module {language}" for language in LANGUAGES},
                "order": 99,
                "lessons": [
                    {"slug": f"l{n}", "order": n, **{f: value(f, n, ls[f]) for f in FIELDS}}
                    for n, ls in enumerate(lessons)
                ],
            }
        ],
    }


@given(texts())
def test_a_course_validates_exactly_when_every_field_has_every_language(
    drawn: tuple[str, list[dict[str, set[str] | None]]],
) -> None:
    default, lessons = drawn
    given_in = [
        (n, field, languages or {default})
        for n, lesson in enumerate(lessons)
        for field, languages in lesson.items()
    ]
    used = set(LANGUAGES) | {default}
    gaps = {(n, f, language) for n, f, ls in given_in for language in used - ls}
    try:
        CourseDocument.model_validate(course_of(default, lessons))
    except ValueError as error:
        for n, field, language in gaps:
            assert f"lesson prop/l{n} has no {language!r} {field}" in str(error)
        assert gaps
    else:
        assert not gaps


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(languages=st.sets(st.sampled_from(LANGUAGES), min_size=1), data=st.data())
async def test_a_valid_course_renders_every_lesson_in_every_requested_language(
    engine: Engine, db: AsyncEngine, tmp_path: Path, languages: set[str], data: st.DataObject
) -> None:
    """Whatever languages a course gives, every reader sees each lesson in their language if
    it is given, else in the course's; reloading with other languages leaves exactly their
    rows."""
    default = data.draw(st.sampled_from(sorted(languages)))
    count = 3
    lessons = [{f: set(languages) for f in FIELDS} for _ in range(count)]
    course = course_of(default, lessons)
    course["modules"][0]["title"] = {language: f"module {language}" for language in languages}
    await engine.load_content(write(tmp_path / "prop.json", course))
    for reader in (*LANGUAGES, None, "pt-BR"):
        shown = reader if reader in languages else default
        module = next(m for m in await engine.modules(language=reader) if m.slug == "prop")
        assert module.title == f"module {shown}"
        by_slug = {lesson.slug: lesson for lesson in module.lessons}
        for n in range(count):
            lesson = await engine.lesson(by_slug[f"l{n}"].id, language=reader)
            assert (lesson.title, lesson.content) == (f"title {n} {shown}", f"content {n} {shown}")
    async with db.connect() as connection:
        stored = set(
            (await connection.execute(select(LessonTranslation.language).distinct())).scalars()
        )
    assert stored == (languages - {default}) | {"ru"}  # "ru" from the sample course


def _only(document: Any, language: str) -> Any:
    """`document` with every per-language value replaced by its text in `language`."""
    if isinstance(document, dict):
        if document and all(key in LANGUAGES for key in document):
            return document[language]
        return {key: _only(value, language) for key, value in document.items()}
    if isinstance(document, list):
        return [_only(item, language) for item in document]
    return document
