"""Read side of course content and learners: ORM rows turned into views."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from questline.engine.errors import UnknownUser
from questline.engine.models import Lesson, LessonChallenge, LessonTranslation, Module, User
from questline.engine.views import ChallengeView, LessonView, ModuleView, UserView


def user_view(user: User | Row[Any]) -> UserView:
    """The learner as a view, from a `User` or a row with the same column names."""
    return UserView(
        id=user.id,
        telegram_id=user.telegram_id,
        username=user.username,
        first_name=user.first_name,
        last_name=user.last_name,
        language_code=user.language_code,
    )


def challenge_view(challenge: LessonChallenge) -> ChallengeView:
    options = tuple(json.loads(challenge.options)) if challenge.options else ()
    return ChallengeView(challenge.question, challenge.points, options)


def lesson_view(lesson: Lesson) -> LessonView:
    challenge = lesson.challenge
    return LessonView(
        id=lesson.id,
        module_id=lesson.module_id,
        slug=lesson.slug,
        title=lesson.title,
        content=lesson.content,
        order=lesson.order,
        estimated_duration=lesson.estimated_duration,
        is_published=lesson.is_published,
        challenge=challenge_view(challenge) if challenge else None,
    )


def module_view(module: Module, *, published_only: bool) -> ModuleView:
    lessons = [
        lesson_view(lesson)
        for lesson in module.lessons
        if lesson.is_published or not published_only
    ]
    return ModuleView(
        id=module.id,
        slug=module.slug,
        title=module.title,
        description=module.description,
        order=module.order,
        is_published=module.is_published,
        lessons=tuple(lessons),
    )


def translated_module(
    module: ModuleView,
    language: str,
    modules: Mapping[int, Mapping[str, Any]],
    lessons: Mapping[int, Mapping[str, LessonTranslation]],
) -> ModuleView:
    """`module` with its texts and its lessons' in `language` where the translation rows
    (`modules`, `lessons`: by id, then language) give them."""
    translated = tuple(
        translated_lesson(lesson, lessons.get(lesson.id, {}).get(language))
        for lesson in module.lessons
    )
    row = modules.get(module.id, {}).get(language)
    if row is None:
        return replace(module, lessons=translated)
    return replace(
        module,
        title=row.title,
        description=row.description or module.description,
        lessons=translated,
    )


def translated_lesson(lesson: LessonView, row: LessonTranslation | None) -> LessonView:
    """`lesson` with the texts `row` gives (a text it lacks stays as it was)."""
    if row is None:
        return lesson
    challenge = lesson.challenge
    if challenge is not None and row.question:
        options = tuple(json.loads(row.options)) if row.options else challenge.options
        challenge = replace(challenge, question=row.question, options=options)
    return replace(
        lesson, title=row.title, content=row.content or lesson.content, challenge=challenge
    )


async def find_user(
    session: AsyncSession,
    *,
    user_id: int | None = None,
    telegram_id: int | None = None,
    lock: bool = False,
) -> User:
    """The learner by questline id or Telegram id; UnknownUser if there is none.

    With `lock`, the row is locked until the transaction ends, so that one learner's events
    are recorded one at a time.
    """
    query = select(User).where(user_selected(user_id=user_id, telegram_id=telegram_id))
    user = await session.scalar(query.with_for_update() if lock else query)
    if user is None:
        who, value = ("id", user_id) if user_id is not None else ("telegram_id", telegram_id)
        raise UnknownUser(f"unknown user: no learner with {who} {value}")
    return user


def user_key(*, user_id: int | None, telegram_id: int | None) -> tuple[str, int]:
    """The column of `users` that selects the learner (questline id or Telegram id), and its
    value."""
    if user_id is not None and telegram_id is None:
        return "id", user_id
    if telegram_id is not None and user_id is None:
        return "telegram_id", telegram_id
    raise ValueError("give exactly one of user_id and telegram_id")


def user_selected(*, user_id: int | None, telegram_id: int | None) -> ColumnElement[bool]:
    """The condition on `users` that selects the learner by questline id or Telegram id."""
    column, value = user_key(user_id=user_id, telegram_id=telegram_id)
    return getattr(User, column) == value
