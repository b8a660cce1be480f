"""The course in force: modules, lessons and challenges, loaded once per engine and on reload."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from questline.engine.catalogue import module_view, translated_module
from questline.engine.errors import (
    NoChallenge,
    ScoreMismatch,
    UnknownLesson,
    UnknownModule,
    UnpublishedLesson,
    UnpublishedModule,
)
from questline.engine.events import Event
from questline.engine.models import LessonTranslation, Module, ModuleTranslation
from questline.engine.translations import stored
from questline.engine.views import LessonView, ModuleView
from questline.rules.translations import primary_language
from questline.rules.vocabulary import ActivityType


def normalise_answer(text: str) -> str:
    """Answers compare case-insensitively, ignoring surrounding and repeated whitespace."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


CHALLENGE_ACTIVITIES = frozenset({ActivityType.CHALLENGE_ATTEMPTED, ActivityType.CHALLENGE_SOLVED})


def scored_by_course(event: Event, lesson: LessonView) -> Event:
    """A challenge event as the course scores it. An attempt or a solve needs a lesson with a
    challenge; a solve scores the challenge's points: a caller may leave `score` out or send
    those points, and any other score is refused."""
    if event.type not in CHALLENGE_ACTIVITIES:
        return event
    challenge = lesson.challenge
    if challenge is None:
        raise NoChallenge(f'lesson {lesson.id} ("{lesson.title}") has no challenge')
    if event.type is ActivityType.CHALLENGE_ATTEMPTED:
        return event
    if event.score is not None and event.score != challenge.points:
        raise ScoreMismatch(
            f"score: lesson {lesson.id}'s challenge is worth {challenge.points} points in the"
            f" course, not {event.score}; leave score out and the engine scores the solve"
        )
    return event.model_copy(update={"score": challenge.points})


@dataclass(frozen=True)
class Course:
    """A read-only snapshot of the content; the record path never queries content tables."""

    modules: tuple[ModuleView, ...]
    lessons: Mapping[int, LessonView]
    answers: Mapping[int, frozenset[str]]
    """Right answers by lesson id, normalised, in every language of the lesson."""
    published_parts: Mapping[int, ModuleView]
    """Every module by id, holding only its published lessons."""

    translations: Mapping[str, Course] = field(default_factory=dict)
    """The course in each language it is translated into (texts only; same ids)."""

    @classmethod
    async def load(cls, session: AsyncSession) -> Course:
        rows = list(await session.scalars(select(Module).order_by(Module.order, Module.id)))
        modules = tuple(module_view(module, published_only=False) for module in rows)
        module_texts = await stored(session, ModuleTranslation)
        lesson_texts = await stored(session, LessonTranslation)
        answers: dict[int, set[str]] = {
            lesson.id: {normalise_answer(a) for a in json.loads(lesson.challenge.answers)}
            for module in rows
            for lesson in module.lessons
            if lesson.challenge is not None
        }
        for lesson_id, translated in lesson_texts.items():
            for row in translated.values():
                if row.answers and lesson_id in answers:
                    answers[lesson_id].update(normalise_answer(a) for a in json.loads(row.answers))
        frozen = {lesson_id: frozenset(found) for lesson_id, found in answers.items()}
        languages = {
            language
            for texts in (module_texts, lesson_texts)
            for rows in texts.values()
            for language in rows
        }
        translations = {
            language: cls.of(
                tuple(
                    translated_module(module, language, module_texts, lesson_texts)
                    for module in modules
                ),
                frozen,
            )
            for language in sorted(languages)
        }
        return replace(cls.of(modules, frozen), translations=translations)

    @classmethod
    def of(cls, modules: tuple[ModuleView, ...], answers: Mapping[int, frozenset[str]]) -> Course:
        """The course of these module views (with their lessons) and right answers."""
        lessons = {lesson.id: lesson for module in modules for lesson in module.lessons}
        parts = {
            module.id: replace(
                module, lessons=tuple(lesson for lesson in module.lessons if lesson.is_published)
            )
            for module in modules
        }
        return cls(modules=modules, lessons=lessons, answers=answers, published_parts=parts)

    def in_language(self, language: str | None) -> Course:
        """The course with its texts in `language` (a tag such as "ru" or "ru-RU"); texts not
        translated into it, and languages it has no translation for, fall back to the course's
        own language."""
        return self.translations.get(primary_language(language) or "", self)

    def published_modules(self) -> list[ModuleView]:
        """Published modules in course order, each with its published lessons only."""
        return [self.published_parts[m.id] for m in self.modules if m.is_published]

    def published_module(self, module_id: int) -> ModuleView:
        module = next((m for m in self.modules if m.id == module_id), None)
        if module is None:
            raise UnknownModule(f"unknown module: no module with id {module_id}")
        if not module.is_published:
            raise UnpublishedModule(f'module {module_id} ("{module.title}") is not published')
        return self.published_parts[module_id]

    def published_lesson(self, lesson_id: int) -> LessonView:
        """The lesson, if it exists and both it and its module are published."""
        lesson = self.lessons.get(lesson_id)
        if lesson is None:
            raise UnknownLesson(f"unknown lesson: no lesson with id {lesson_id}")
        if not lesson.is_published or not self.published_module_of(lesson).is_published:
            raise UnpublishedLesson(f'lesson {lesson_id} ("{lesson.title}") is not published')
        return lesson

    def published_module_of(self, lesson: LessonView) -> ModuleView:
        """The lesson's module, with its published lessons only."""
        return self.published_parts[lesson.module_id]
