"""The bot's pictures: the words in the learner's language, rendered off the event loop, sent
with sendPhoto.

Rendering takes a few tens of milliseconds of CPU, so it runs in a worker thread and other
learners' updates are not held up meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from aiogram import Bot
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from questline.adapters.telegram.i18n import _, get_i18n, ngettext
from questline.adapters.telegram.screens.notices import award as award_line
from questline.adapters.telegram.screens.notices import celebration
from questline.engine.pictures import (
    BoardText,
    Card,
    HeatmapText,
    render_card,
    render_heatmap,
    render_leaderboard,
)
from questline.engine.views import ActivityCalendar, AwardView, LeaderboardEntry

CAPTION_LIMIT = 1024
"""The longest photo caption Telegram takes."""
SHARE_URL = "https://t.me/share/url"


def heatmap_words(calendar: ActivityCalendar) -> HeatmapText:
    """The heat-map's title, summary and legend in the current locale."""
    total, days = sum(calendar.counts.values()), len(calendar.counts)
    activities = ngettext("{n} activity", "{n} activities", total).format(n=total)
    on_days = ngettext("on {n} day", "on {n} days", days).format(n=days)
    return HeatmapText(
        title=ngettext("Your last {n} week", "Your last {n} weeks", calendar.weeks).format(
            n=calendar.weeks
        ),
        summary=f"{activities} {on_days}",
        less=_("Less"),
        more=_("More"),
        locale=get_i18n().current_locale,
    )


async def heatmap_photo(calendar: ActivityCalendar) -> BufferedInputFile:
    data = await asyncio.to_thread(render_heatmap, calendar, heatmap_words(calendar))
    return BufferedInputFile(data, filename="activity.png")


async def leaderboard_photo(
    entries: Sequence[LeaderboardEntry], title: str, *, highlight: int | None
) -> BufferedInputFile:
    words = BoardText(title=title, points=_("points"), empty=_("Nobody is ranked yet."))
    data = await asyncio.to_thread(render_leaderboard, entries, words, highlight=highlight)
    return BufferedInputFile(data, filename="leaderboard.png")


def caption(awards: Sequence[AwardView]) -> str:
    """The celebration as a photo caption: with descriptions if it fits, else titles only."""
    text = celebration(awards)
    if len(text) <= CAPTION_LIMIT:
        return text
    lines = [award_line(view).split("\n", 1)[0] for view in awards]
    while len("\n".join(lines)) > CAPTION_LIMIT - 2:
        lines.pop()
    return "\n".join([*lines, "…"])


def share_markup(award: AwardView, bot_username: str | None) -> InlineKeyboardMarkup:
    """A "Share" button: Telegram's share link with a line about the award."""
    text = _("I earned “{title}” (+{points}) in questline!").format(
        title=award.title, points=award.points
    )
    link = f"https://t.me/{bot_username}" if bot_username else "https://t.me"
    url = f"{SHARE_URL}?{urlencode({'url': link, 'text': text})}"
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=_("📣 Share"), url=url)]]
    )


def card_of(award: AwardView, name: str) -> Card:
    """The card of one award, in the current locale."""
    return Card(
        title=award.title,
        name=name,
        points=award.points,
        points_text=ngettext("+{n} point", "+{n} points", award.points).format(n=award.points),
        heading=_("Achievement unlocked"),
        description=award.description,
    )


@dataclass(frozen=True)
class CardMessage:
    """A celebration as a photo message, ready to send (again, if a send fails)."""

    photo: BufferedInputFile
    caption: str
    markup: InlineKeyboardMarkup

    async def send(self, bot: Bot, chat_id: int) -> Message:
        return await bot.send_photo(
            chat_id, self.photo, caption=self.caption, reply_markup=self.markup
        )


async def celebration_card(bot: Bot, awards: Sequence[AwardView], name: str) -> CardMessage:
    """One message for the awards of a moment, in the current locale: the card of the
    biggest, the celebration as its caption, and a Share button for it."""
    top = max(awards, key=lambda view: view.points)
    card, text = card_of(top, name), caption(awards)
    markup = share_markup(top, (await bot.me()).username)
    data = await asyncio.to_thread(render_card, card)
    return CardMessage(BufferedInputFile(data, filename=f"{top.slug}.png"), text, markup)
