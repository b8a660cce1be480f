"""Course files: modules with their lessons (and optional challenges), loaded idempotently."""

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
from questline.engine.models import Lesson, LessonChallenge, Module
from questline.plain_errors import plain_message
from questline.rules.limits import MAX_FILE_DEPTH, MAX_POINTS
from questline.rules.parsing import DuplicateKeyError, TreeError, parse_json, parse_yaml

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"


MAX_OPTIONS = 10
OPTION_CHARS = 64


class ChallengeDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1)
    answers: list[str] = Field(min_length=1)
    points: int = Field(default=0, ge=0, le=MAX_POINTS)
    options: list[str] | None = Field(default=None, min_length=2, max_length=MAX_OPTIONS)
    """Choices shown as buttons; at least one must be a right answer. Typing stays possible."""

    @model_validator(mode="after")
    def _options_hold_an_answer(self) -> ChallengeDocument:
        if self.options is None:
            return self
        choices = [normalise_answer(option) for option in self.options]
        if any(
            not choice or len(option) > OPTION_CHARS
            for choice, option in zip(choices, self.options, strict=True)
        ):
            raise ValueError(f"options must be 1 to {OPTION_CHARS} characters long")
        if len(set(choices)) < len(choices):
            raise ValueError("options must differ from each other (ignoring case and spaces)")
        if not set(choices) & {normalise_answer(answer) for answer in self.answers}:
            raise ValueError("no option is a right answer: one of the options must be in answers")
        return self


class LessonDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: str = Field(pattern=SLUG_PATTERN, max_length=100)
    title: str = Field(min_length=1, max_length=200)
    content: str | None = None
    order: int = Field(ge=INT_MIN, le=INT_MAX)
    estimated_duration: int | None = Field(default=None, ge=0, le=INT_MAX)
    published: bool = True
    challenge: ChallengeDocument | None = None


class ModuleDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: str = Field(pattern=SLUG_PATTERN, max_length=100)
    title: str = Field(min_length=1, max_length=200)
    description: str | None = None
    order: int = Field(ge=INT_MIN, le=INT_MAX)
    published: bool = True
    lessons: list[LessonDocument] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_lesson_slugs(self) -> ModuleDocument:
        _reject_duplicates((lesson.slug for lesson in self.lessons), f"module {self.slug}")
        return self


class CourseDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    modules: list[ModuleDocument]

    @model_validator(mode="after")
    def _unique_module_slugs(self) -> CourseDocument:
        _reject_duplicates((module.slug for module in self.modules), "the course")
        return self


def _reject_duplicates(slugs: Any, where: str) -> None:
    repeated = sorted(slug for slug, count in Counter(slugs).items() if count > 1)
    if repeated:
        raise ValueError(f"duplicate slug(s) in {where}: {', '.join(repeated)}")


def read_course(path: Path) -> CourseDocument:
    """Parse and validate a YAML or JSON course file; errors name the file and the field."""
    try:
        text = path.read_text(encoding="utf-8")
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
            f"/{'/'.join(str(part) for part in problem['loc'])}: {plain_message(problem)}"
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
    """Insert or update modules, lessons and challenges by slug; never deletes anything."""
    report = ContentReport()
    existing = {
        module.slug: module
        for module in (await session.scalars(select(Module).where(Module.slug.is_not(None))))
    }
    for module_doc in course.modules:
        module = existing.get(module_doc.slug)
        values = {
            "title": module_doc.title,
            "description": module_doc.description,
            "order": module_doc.order,
            "is_published": module_doc.published,
        }
        if module is None:
            module = Module(slug=module_doc.slug, lessons=[], **values)
            session.add(module)
            await session.flush()
            report.created.append(module_doc.slug)
        else:
            _track(report, module_doc.slug, _assign(module, values))
        lessons = {lesson.slug: lesson for lesson in module.lessons}
        for lesson_doc in module_doc.lessons:
            key = f"{module_doc.slug}/{lesson_doc.slug}"
            lesson = lessons.get(lesson_doc.slug)
            values = {
                "title": lesson_doc.title,
                "content": lesson_doc.content,
                "order": lesson_doc.order,
                "estimated_duration": lesson_doc.estimated_duration,
                "is_published": lesson_doc.published,
            }
            if lesson is None:
                lesson = Lesson(module_id=module.id, slug=lesson_doc.slug, challenge=None, **values)
                session.add(lesson)
                changed = _assign_challenge(lesson, lesson_doc.challenge)
                report.created.append(key)
            else:
                changed = _assign(lesson, values)
                changed = _assign_challenge(lesson, lesson_doc.challenge) or changed
                _track(report, key, changed)
    await session.flush()
    return report


def _assign_challenge(lesson: Lesson, document: ChallengeDocument | None) -> bool:
    if document is None:
        if lesson.challenge is None:
            return False
        lesson.challenge = None
        return True
    values = {
        "question": document.question,
        "answers": json.dumps(document.answers, ensure_ascii=False),
        "points": document.points,
        "options": json.dumps(document.options, ensure_ascii=False) if document.options else None,
    }
    if lesson.challenge is None:
        lesson.challenge = LessonChallenge(**values)
        return True
    return _assign(lesson.challenge, values)


def _track(report: ContentReport, key: str, changed: bool) -> None:
    (report.updated if changed else report.unchanged).append(key)
