"""Short texts: polite refusals, throttling, award notifications."""

from __future__ import annotations

from collections.abc import Sequence

from questline.adapters.telegram.i18n import _
from questline.adapters.telegram.screens.base import esc
from questline.engine import errors
from questline.engine.views import AwardView


def refusal(error: errors.QuestlineError) -> str:
    """What a learner is told when the engine refuses what a button or message asked for."""
    match error:
        case errors.UnknownUser():
            return _("Please send /start first.")
        case errors.UnknownLesson() | errors.UnpublishedLesson():
            return _("This lesson is not available any more. Send /modules for the current ones.")
        case errors.UnknownModule() | errors.UnpublishedModule():
            return _("This module is not available any more. Send /modules for the current ones.")
        case errors.NoChallenge():
            return _("This lesson has no challenge.")
        case _:
            return _("Sorry, that can't be done.")


def database_unavailable() -> str:
    """What a learner is told when the records failed: what they did may have been saved (a
    write cut off while committing) or not, and doing it again never counts it twice."""
    return _(
        "⚠️ I can't reach my records right now, so I couldn't confirm that this was saved. "
        "Try again in a minute: nothing is counted twice."
    )


def stale_button() -> str:
    return _("This button is out of date. Send /start for a fresh menu.")


def not_your_button() -> str:
    return _("This button belongs to someone else's screen.")


def slow_down() -> str:
    return _("⏳ Too fast — I skipped that. Wait a second, then send it again.")


def private_only(username: str | None) -> str:
    """The one line a group gets: the bot works in private chats."""
    if username:
        return _("👋 I work in private chats: open @{bot} and send /start there.").format(
            bot=esc(username)
        )
    return _("👋 I work in private chats: open a chat with me and send /start there.")


def award(view: AwardView) -> str:
    """The notification a learner gets for a new achievement."""
    text = _("🏆 {title} (+{points})").format(title=esc(view.title), points=view.points)
    return f"{text}\n<i>{esc(view.description)}</i>" if view.description else text


def celebration(awards: Sequence[AwardView]) -> str:
    """One message for every award of a moment."""
    return "\n\n".join(award(view) for view in awards)
