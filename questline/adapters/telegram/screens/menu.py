"""The greeting, the main menu, help and the bot's command list."""

from __future__ import annotations

from aiogram.types import BotCommand, InlineKeyboardButton

from questline.adapters.telegram.callbacks import GOAL_CHOICES, GoalCb, ScreenCb
from questline.adapters.telegram.callbacks import Screen as ScreenName
from questline.adapters.telegram.i18n import _, ngettext
from questline.adapters.telegram.screens.base import Screen, button, esc, keyboard, menu_button
from questline.engine.views import DailyGoal


def main_menu(owner: int, *, greeting: str | None = None, goal: DailyGoal | None = None) -> Screen:
    """The main menu, optionally under a greeting, with today's progress toward the goal."""
    text = _("What would you like to do?")
    today = goal_line(goal)
    if today:
        text = f"{today}\n\n{text}"
    if greeting:
        text = f"{greeting}\n\n{text}"

    def go(label: str, screen: ScreenName) -> InlineKeyboardButton:
        return button(label, ScreenCb(owner=owner, screen=screen).pack())

    return Screen(
        text,
        keyboard(
            [go(_("📚 Modules"), ScreenName.MODULES), go(_("📈 Progress"), ScreenName.PROGRESS)],
            [
                go(_("🏆 Achievements"), ScreenName.ACHIEVEMENTS),
                go(_("🥇 Leaderboard"), ScreenName.LEADERBOARD),
            ],
            [go(_("🎯 Daily goal"), ScreenName.GOAL), go(_("⏰ Reminders"), ScreenName.SETTINGS)],
            [go(_("❓ Help"), ScreenName.HELP)],
        ),
    )


def goal_line(goal: DailyGoal | None) -> str | None:
    """Today's progress toward the daily goal, e.g. "🎯 Today: 2/3 lessons", if one is set."""
    if goal is None or goal.lessons is None:
        return None
    line = ngettext(
        "🎯 Today: {done}/{goal} lesson", "🎯 Today: {done}/{goal} lessons", goal.lessons
    ).format(done=goal.done_today, goal=goal.lessons)
    return f"{line} ✅" if goal.met_today else line


def goal_screen(owner: int, goal: DailyGoal, *, notice: str | None = None) -> Screen:
    """The daily goal: the current one, and a button per goal the learner may pick."""
    lines = [notice, ""] if notice else []
    lines.append(_("🎯 <b>Daily goal</b>"))
    lines.append(goal_line(goal) or _("You have no daily goal yet."))
    if goal.days_met_in_a_row:
        lines.append(
            ngettext(
                "Met {n} day in a row.", "Met {n} days in a row.", goal.days_met_in_a_row
            ).format(n=goal.days_met_in_a_row)
        )
    lines += ["", _("How many lessons a day would you like to complete?")]

    def choice(lessons: int) -> InlineKeyboardButton:
        mark = "• " if lessons == (goal.lessons or 0) else ""
        label = (
            ngettext("{n} lesson", "{n} lessons", lessons).format(n=lessons)
            if lessons
            else _("No goal")
        )
        return button(mark + label, GoalCb(owner=owner, lessons=lessons).pack())

    return Screen(
        "\n".join(lines),
        keyboard([choice(n) for n in GOAL_CHOICES], [choice(0), menu_button(owner)]),
    )


def greeting(name: str | None, *, returning: bool) -> str:
    """Hello for a new learner, welcome back for a known one."""
    if returning:
        return _("👋 Welcome back, {name}!").format(name=esc(name) or "👤")
    return _(
        "👋 Hi, {name}! Welcome to questline.\n"
        "Learn lesson by lesson, solve challenges, keep your streak and earn achievements."
    ).format(name=esc(name) or "👤")


def help_text() -> str:
    return _(
        "<b>questline</b> helps you learn step by step.\n\n"
        "/start – main menu\n"
        "/modules – modules and lessons\n"
        "/progress – your progress and streak\n"
        "/achievements – earned and locked achievements\n"
        "/leaderboard – top learners and your rank\n"
        "/goal – your daily goal\n"
        "/settings – reminders and your time zone\n"
        "/stop_reminders – stop all reminders\n"
        "/help – this message\n\n"
        "Open a lesson, press Start, read it and press Complete. If the lesson has a "
        "challenge, press Answer and send your answer as a message."
    )


def help_screen(owner: int | None) -> Screen:
    """Help, with a way to the menu when we know who is asking."""
    return Screen(help_text(), keyboard([menu_button(owner)]) if owner else None)


def commands() -> list[BotCommand]:
    """The command list Telegram shows in the menu, in the current locale."""
    return [
        BotCommand(command="start", description=_("Main menu")),
        BotCommand(command="modules", description=_("Modules and lessons")),
        BotCommand(command="progress", description=_("Your progress and streak")),
        BotCommand(command="achievements", description=_("Your achievements")),
        BotCommand(command="leaderboard", description=_("Top learners and your rank")),
        BotCommand(command="goal", description=_("Your daily goal")),
        BotCommand(command="settings", description=_("Reminders and your time zone")),
        BotCommand(command="stop_reminders", description=_("Stop all reminders")),
        BotCommand(command="help", description=_("How this bot works")),
    ]
