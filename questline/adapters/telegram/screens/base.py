"""What a screen is, and the small formatting pieces every screen shares."""

from __future__ import annotations

import html
from dataclasses import dataclass

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from questline.adapters.telegram.callbacks import Screen as ScreenName
from questline.adapters.telegram.callbacks import ScreenCb
from questline.adapters.telegram.i18n import _

BAR_CELLS = 10


@dataclass(frozen=True)
class Screen:
    """A message's HTML text and its inline keyboard."""

    text: str
    markup: InlineKeyboardMarkup | None = None


def esc(text: str | None) -> str:
    """Text from the database or from Telegram, made safe for HTML parse mode."""
    return html.escape(text or "", quote=False)


def bar(done: int, total: int) -> str:
    """A ten-cell progress bar with the count: "▰▰▰▱▱▱▱▱▱▱ 3/10"."""
    return f"{cells(done / total if total else 0.0)} {done}/{total}"


def cells(ratio: float) -> str:
    """Ten cells, filled in proportion to `ratio` (clamped to 0..1): "▰▰▰▱▱▱▱▱▱▱"."""
    filled = round(BAR_CELLS * min(max(ratio, 0.0), 1.0))
    return "▰" * filled + "▱" * (BAR_CELLS - filled)


def button(text: str, callback_data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=callback_data)


def menu_button(owner: int) -> InlineKeyboardButton:
    """The way back to the main menu, on every screen."""
    return button(_("🏠 Menu"), ScreenCb(owner=owner, screen=ScreenName.MENU).pack())


def keyboard(*rows: list[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[row for row in rows if row])
