"""Callback data factories. Each button names its owner; the payload is never trusted.

Ids are bounded so a forged payload cannot reach the database as an out-of-range integer.
Scores never travel in callback data: the engine decides them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

RowId = Annotated[int, Field(gt=0, lt=2**31)]
TelegramId = Annotated[int, Field(gt=0, lt=2**53)]


class Screen(StrEnum):
    MENU = "menu"
    MODULES = "modules"
    PROGRESS = "progress"
    ACHIEVEMENTS = "achievements"
    LEADERBOARD = "leaderboard"
    HELP = "help"


class LessonAction(StrEnum):
    OPEN = "open"
    START = "start"
    COMPLETE = "done"
    ANSWER = "answer"


class Picture(StrEnum):
    LEADERBOARD = "leaderboard"


class OwnedCallback(CallbackData, prefix="owned"):
    """A button that only the learner it was drawn for may press."""

    owner: TelegramId


class ScreenCb(OwnedCallback, prefix="s"):
    screen: Screen


class ModuleCb(OwnedCallback, prefix="m"):
    module_id: RowId


class LessonCb(OwnedCallback, prefix="l"):
    lesson_id: RowId
    action: LessonAction


class PictureCb(OwnedCallback, prefix="p"):
    """Send a screen as a picture."""

    picture: Picture


FACTORIES: tuple[type[OwnedCallback], ...] = (ScreenCb, ModuleCb, LessonCb, PictureCb)


def parse(data: str | None) -> OwnedCallback | None:
    """The callback our keyboards would have produced for `data`, or None if malformed."""
    if not data:
        return None
    prefix = data.split(":", 1)[0]
    for factory in FACTORIES:
        if factory.__prefix__ == prefix:
            try:
                return factory.unpack(data)
            except (TypeError, ValueError):
                return None
    return None
