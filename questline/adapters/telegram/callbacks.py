"""Callback data factories. Each button names its owner; the payload is never trusted.

Ids are bounded so a forged payload cannot reach the database as an out-of-range integer.
Scores never travel in callback data: the engine decides them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

from questline.engine.content import MAX_OPTIONS
from questline.engine.periods import Period

GOAL_CHOICES = (1, 2, 3)
"""The daily goals the bot offers, in lessons a day."""

RowId = Annotated[int, Field(gt=0, lt=2**31)]
TelegramId = Annotated[int, Field(gt=0, lt=2**53)]
OptionIndex = Annotated[int, Field(ge=0, lt=MAX_OPTIONS)]
PageIndex = Annotated[int, Field(ge=0, lt=1000)]
GoalLessons = Annotated[int, Field(ge=0, le=GOAL_CHOICES[-1])]
ReminderValue = Annotated[int, Field(ge=0, lt=24 * 60)]


class Screen(StrEnum):
    MENU = "menu"
    MODULES = "modules"
    PROGRESS = "progress"
    ACHIEVEMENTS = "achievements"
    GOAL = "goal"
    SETTINGS = "settings"
    ALL_ACHIEVEMENTS = "all_achievements"
    LEADERBOARD = "leaderboard"
    HELP = "help"


class LessonAction(StrEnum):
    OPEN = "open"
    START = "start"
    COMPLETE = "done"
    ANSWER = "answer"


class ReminderAction(StrEnum):
    ZONES = "zones"
    CITY = "city"
    TYPE_ZONE = "type"
    DAILY = "daily"
    NO_DAILY = "nodaily"
    NUDGE = "nudge"
    STOP = "stop"
    RESUME = "resume"


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


class ChoiceCb(OwnedCallback, prefix="c"):
    """One option of a multiple-choice challenge, by its position; the text is never sent."""

    lesson_id: RowId
    option: OptionIndex


class PageCb(OwnedCallback, prefix="p"):
    """A page of a lesson's content, counted from 0."""

    lesson_id: RowId
    page: PageIndex


class PictureCb(OwnedCallback, prefix="i"):
    """Send a screen as a picture (a leaderboard: the board of `period`)."""

    picture: Picture
    period: Period = Period.ALL


class GoalCb(OwnedCallback, prefix="g"):
    """A daily goal to set: lessons a day, 0 to clear it."""

    lessons: GoalLessons


class ReminderCb(OwnedCallback, prefix="r"):
    """A reminder setting: a city's time zone (by its place in the list), a daily time (in
    minutes after midnight), the streak nudge on (1) or off (0), stop or resume."""

    action: ReminderAction
    value: ReminderValue = 0


class BoardCb(OwnedCallback, prefix="b"):
    """A leaderboard tab: this week, this month or all time."""

    period: Period


FACTORIES: tuple[type[OwnedCallback], ...] = (
    ScreenCb,
    ModuleCb,
    LessonCb,
    ChoiceCb,
    PageCb,
    PictureCb,
    GoalCb,
    BoardCb,
    ReminderCb,
)


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
