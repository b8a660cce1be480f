"""Course files: modules with their lessons (and optional challenges), loaded idempotently.

Texts may be given per language (``questline.rules.translations``): the course's ``language``
is stored in the seed columns, every other one in the translation tables.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from questline.engine.course import normalise_answer
from questline.engine.errors import ContentError
from questline.engine.limits import INT_MAX, INT_MIN
from questline.engine.models import (
    Lesson,
    LessonChallenge,
    LessonTranslation,
    Module,
    ModuleTranslation,
)
from questline.engine.translations import replace, stored
from questline.plain_errors import plain_message, shortened
from questline.rules.limits import MAX_FILE_DEPTH, MAX_POINTS
from questline.rules.parsing import (
    DuplicateKeyError,
    TreeError,
    parse_json,
    parse_yaml,
    utf8_problem,
    without_bom,
)
from questline.rules.translations import (
    DEFAULT_LANGUAGE,
    LanguageCode,
    LocalisedBody,
    LocalisedTexts,
    LocalisedTitle,
    in_language,
    languages_of,
    missing_texts,
)

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"


MAX_OPTIONS = 10
OPTION_CHARS = 64
NEUTRAL = ("answers", "options")
"""Fields whose plain list serves every language of the course."""


class ChallengeDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: LocalisedBody
    answers: LocalisedTexts
    """Right answers; an answer in any of the challenge's languages is accepted."""
    points: int = Field(default=0, ge=0, le=MAX_POINTS)
    options: LocalisedTexts | None = None
    """Choices shown as buttons; at least one must be a right answer. Typing stays possible."""

    @property
    def accepted(self) -> list[str]:
        """Every right answer, in every language."""
        return _every(self.answers)

    @model_validator(mode="after")
    def _options_hold_an_answer(self) -> ChallengeDocument:
        if self.options is None:
            return self
        right = {normalise_answer(answer) for answer in self.accepted}
        for language, options in _per_language(self.options):
            where = f"options {language!r}" if language else "options"
            if not 2 <= len(options) <= MAX_OPTIONS:
                raise ValueError(f"{where} must hold 2 to {MAX_OPTIONS} choices")
            choices = [normalise_answer(option) for option in options]
            if any(len(option) > OPTION_CHARS for option in options):
                raise ValueError(f"{where} must be 1 to {OPTION_CHARS} characters long")
            if len(set(choices)) < len(choices):
                raise ValueError(f"{where} must differ from each other (ignoring case and spaces)")
            if not set(choices) & right:
                raise ValueError(
                    f"{where}: no option is a right answer: one of the options must be in answers"
                )
        return self


def _per_language(value: list[str] | dict[str, list[str]]) -> list[tuple[str | None, list[str]]]:
    """A translatable list per language (None: a plain list, in the course's language)."""
    return list(value.items()) if isinstance(value, dict) else [(None, value)]


def _every(value: list[str] | dict[str, list[str]]) -> list[str]:
    return [item for _, items in _per_language(value) for item in items]


class LessonDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: str = Field(pattern=SLUG_PATTERN, max_length=100)
    title: LocalisedTitle
    content: LocalisedBody | None = None
    order: int = Field(ge=INT_MIN, le=INT_MAX)
    estimated_duration: int | None = Field(default=None, ge=0, le=INT_MAX)
    published: bool = True
    challenge: ChallengeDocument | None = None


class ModuleDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: str = Field(pattern=SLUG_PATTERN, max_length=100)
    title: LocalisedTitle
    description: LocalisedBody | None = None
    order: int = Field(ge=INT_MIN, le=INT_MAX)
    published: bool = True
    lessons: list[LessonDocument] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_lesson_slugs(self) -> ModuleDocument:
        _reject_duplicates((lesson.slug for lesson in self.lessons), f"module {self.slug}")
        return self


class CourseDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: LanguageCode = DEFAULT_LANGUAGE
    """The language of plain texts, and the fallback for a reader's language."""
    modules: list[ModuleDocument]

    @model_validator(mode="after")
    def _unique_module_slugs(self) -> CourseDocument:
        _reject_duplicates((module.slug for module in self.modules), "the course")
        return self

    @model_validator(mode="after")
    def _complete_in_every_language(self) -> CourseDocument:
        languages = self.languages
        gaps = [
            f"{pointer}/{field}: {what} has no {language!r} {field}"
            for pointer, what, fields in self._texts()
            for field, language in missing_texts(fields, languages, self.language, NEUTRAL)
        ]
        if gaps:
            raise ValueError("; ".join(gaps) + f" (the course is in {', '.join(languages)})")
        return self

    def _texts(self) -> list[tuple[str, str, dict[str, Any]]]:
        """Every translatable field: (JSON pointer of its owner, the owner's name, fields)."""
        found = []
        for m, module in enumerate(self.modules):
            texts = {"title": module.title, "description": module.description}
            found.append((f"/modules/{m}", f"module {module.slug}", texts))
            for n, lesson in enumerate(module.lessons):
                texts = {"title": lesson.title, "content": lesson.content}
                if lesson.challenge is not None:
                    challenge = lesson.challenge
                    texts |= {
                        "question": challenge.question,
                        "answers": challenge.answers,
                        "options": challenge.options,
                    }
                found.append(
                    (f"/modules/{m}/lessons/{n}", f"lesson {module.slug}/{lesson.slug}", texts)
                )
        return found

    @property
    def languages(self) -> tuple[str, ...]:
        """Every language the course gives texts in, its own first."""
        found = {
            language
            for _, _, fields in self._texts()
            for name, value in fields.items()
            if name not in NEUTRAL or isinstance(value, dict)
            for language in languages_of(value, self.language)
        }
        return (self.language, *sorted(found - {self.language}))


def _reject_duplicates(slugs: Any, where: str) -> None:
    repeated = sorted(slug for slug, count in Counter(slugs).items() if count > 1)
    if repeated:
        raise ValueError(f"duplicate slug(s) in {where}: {', '.join(repeated)}")


def read_course(path: Path) -> CourseDocument:
    """Parse and validate a YAML or JSON course file; errors name the file and the field."""
    try:
        text = without_bom(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise ContentError(f"{path}: {utf8_problem(error.reason, error.start)}") from None
    except OSError as error:
        raise ContentError(f"{path}: cannot read: {error.strerror}") from error
    try:
        raw = (
            parse_json(text, MAX_FILE_DEPTH)
            if path.suffix == ".json"
            else parse_yaml(text, MAX_FILE_DEPTH)
        )
    except TreeError as error:
        raise ContentError(f"{path}: {error}") from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = error.problem or error.context or "syntax error"
        raise ContentError(f"{path}: not valid YAML{where}: {what}") from None
    except (json.JSONDecodeError, DuplicateKeyError, yaml.YAMLError) as error:
        raise ContentError(
            f"{path}: not valid {path.suffix.lstrip('.').upper()}: {error}"
        ) from None
    try:
        return CourseDocument.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(
            "".join(f"/{shortened(str(part))}" for part in problem["loc"])
            + (": " if problem["loc"] else "")
            + plain_message(problem)
            for problem in error.errors()
        )
        raise ContentError(f"{path}: {problems}") from None


@dataclass
class ContentReport:
    """What loading a course changed, by slug."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _assign(row: Any, values: dict[str, Any]) -> bool:
    """Set attributes that differ; True if anything changed."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


async def load_course(session: AsyncSession, course: CourseDocument) -> ContentReport:
    """Insert or update modules, lessons, challenges and their translations by slug; never
    deletes a module or lesson (a language the course no longer gives loses its rows)."""
    report = ContentReport()
    existing = {
        module.slug: module
        for module in (await session.scalars(select(Module).where(Module.slug.is_not(None))))
    }
    module_texts = await stored(session, ModuleTranslation)
    lesson_texts = await stored(session, LessonTranslation)
    default = course.language
    others = course.languages[1:]
    for module_doc in course.modules:
        module = existing.get(module_doc.slug)
        values = {**_module_texts(module_doc, default, default), "order": module_doc.order}
        values["is_published"] = module_doc.published
        if module is None:
            module = Module(slug=module_doc.slug, lessons=[], **values)
            session.add(module)
            await session.flush()
            report.created.append(module_doc.slug)
            changed = True
        else:
            changed = _assign(module, values)
        wanted = {language: _module_texts(module_doc, language, default) for language in others}
        changed = (
            await replace(
                session, ModuleTranslation, module.id, module_texts.get(module.id, {}), wanted
            )
            or changed
        )
        if module_doc.slug not in report.created:
            _track(report, module_doc.slug, changed)
        lessons = {lesson.slug: lesson for lesson in module.lessons}
        for lesson_doc in module_doc.lessons:
            key = f"{module_doc.slug}/{lesson_doc.slug}"
            lesson = lessons.get(lesson_doc.slug)
            values = {
                "title": in_language(lesson_doc.title, default, default),
                "content": _text(lesson_doc.content, default, default),
                "order": lesson_doc.order,
                "estimated_duration": lesson_doc.estimated_duration,
                "is_published": lesson_doc.published,
            }
            if lesson is None:
                lesson = Lesson(module_id=module.id, slug=lesson_doc.slug, challenge=None, **values)
                session.add(lesson)
                _assign_challenge(lesson, lesson_doc.challenge, default)
                await session.flush()
                report.created.append(key)
            else:
                changed = _assign(lesson, values)
                changed = _assign_challenge(lesson, lesson_doc.challenge, default) or changed
            wanted = {language: _lesson_texts(lesson_doc, language, default) for language in others}
            translated = await replace(
                session, LessonTranslation, lesson.id, lesson_texts.get(lesson.id, {}), wanted
            )
            if key not in report.created:
                _track(report, key, changed or translated)
    await session.flush()
    return report


def _text(value: Any, language: str, default: str) -> Any:
    """A translatable field's value in `language` (None stays None)."""
    return None if value is None else in_language(value, language, default)


def _json_list(value: Any, language: str, default: str) -> str | None:
    items = _text(value, language, default)
    return None if items is None else json.dumps(items, ensure_ascii=False)


def _module_texts(document: ModuleDocument, language: str, default: str) -> dict[str, Any]:
    return {
        "title": in_language(document.title, language, default),
        "description": _text(document.description, language, default),
    }


def _lesson_texts(document: LessonDocument, language: str, default: str) -> dict[str, Any]:
    challenge = document.challenge
    return {
        "title": in_language(document.title, language, default),
        "content": _text(document.content, language, default),
        "question": _text(challenge.question, language, default) if challenge else None,
        "answers": _json_list(challenge.answers, language, default) if challenge else None,
        "options": _json_list(challenge.options, language, default) if challenge else None,
    }


def _assign_challenge(lesson: Lesson, document: ChallengeDocument | None, default: str) -> bool:
    if document is None:
        if lesson.challenge is None:
            return False
        lesson.challenge = None
        return True
    values = {
        "question": in_language(document.question, default, default),
        "answers": _json_list(document.answers, default, default),
        "points": document.points,
        "options": _json_list(document.options, default, default),
    }
    if lesson.challenge is None:
        lesson.challenge = LessonChallenge(**values)
        return True
    return _assign(lesson.challenge, values)


def _track(report: ContentReport, key: str, changed: bool) -> None:
    (report.updated if changed else report.unchanged).append(key)
