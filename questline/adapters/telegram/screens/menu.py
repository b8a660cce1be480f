"""The greeting, the main menu, help and the bot's command list."""

from __future__ import annotations

from aiogram.types import BotCommand, InlineKeyboardButton

from questline.adapters.telegram.callbacks import Screen as ScreenName
from questline.adapters.telegram.callbacks import ScreenCb
from questline.adapters.telegram.i18n import _
from questline.adapters.telegram.screens.base import Screen, button, esc, keyboard, menu_button


def main_menu(owner: int, *, greeting: str | None = None) -> Screen:
    """The main menu, optionally under a greeting."""
    text = _("What would you like to do?")
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
            [go(_("❓ Help"), ScreenName.HELP)],
        ),
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
        BotCommand(command="help", description=_("How this bot works")),
    ]
