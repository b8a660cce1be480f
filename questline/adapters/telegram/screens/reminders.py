"""Reminder screens: /settings (time zone, daily time, streak nudge, stop and resume) and the
reminders themselves."""

from __future__ import annotations

from datetime import datetime, time

from aiogram.types import InlineKeyboardButton

from questline.adapters.telegram.callbacks import ReminderAction, ReminderCb, ScreenCb
from questline.adapters.telegram.callbacks import Screen as ScreenName
from questline.adapters.telegram.i18n import _, ngettext
from questline.adapters.telegram.screens.base import Screen, button, esc, keyboard, menu_button
from questline.engine.reminder_times import zone_of
from questline.engine.reminders import Kind
from questline.engine.views import ReminderClaim, ReminderSettingsView

DAILY_CHOICES = (time(9, 0), time(12, 0), time(18, 0), time(20, 0))
"""The daily reminder times the bot offers (all outside the default quiet hours)."""
SHOWN_ZONE_LIMIT = 64


def cities() -> list[tuple[str, str]]:
    """The cities offered for a time zone, with their zones; a button names one by position."""
    return [
        (_("London"), "Europe/London"),
        (_("Berlin"), "Europe/Berlin"),
        (_("Kyiv"), "Europe/Kyiv"),
        (_("Moscow"), "Europe/Moscow"),
        (_("Dubai"), "Asia/Dubai"),
        (_("Delhi"), "Asia/Kolkata"),
        (_("Tokyo"), "Asia/Tokyo"),
        (_("New York"), "America/New_York"),
    ]


def _cb(owner: int, action: ReminderAction, value: int = 0) -> str:
    return ReminderCb(owner=owner, action=action, value=value).pack()


def zone_screen(owner: int, *, back: bool) -> Screen:
    """Where the learner is: a city, or another zone typed in; `back` to their settings."""
    text = _(
        "🌍 <b>Your time zone</b>\n"
        "Reminders come in your local time. Pick your city, or press “Other” and send a time "
        "zone such as Europe/Paris or a UTC offset such as +03:00."
    )
    places = [
        button(name, _cb(owner, ReminderAction.CITY, i)) for i, (name, _z) in enumerate(cities())
    ]
    rows = [places[i : i + 2] for i in range(0, len(places), 2)]
    rows.append([button(_("✍️ Other…"), _cb(owner, ReminderAction.TYPE_ZONE))])
    last = [menu_button(owner)]
    if back:
        back_to = ScreenCb(owner=owner, screen=ScreenName.SETTINGS).pack()
        last.insert(0, button(_("⬅️ Back"), back_to))
    return Screen(text, keyboard(*rows, last))


def zone_prompt(owner: int) -> Screen:
    text = _("Send your time zone: a name such as Europe/Paris or a UTC offset such as +03:00.")
    return Screen(text, keyboard([menu_button(owner)]))


def unknown_zone(owner: int, given: str) -> Screen:
    shown = given if len(given) <= SHOWN_ZONE_LIMIT else given[:SHOWN_ZONE_LIMIT] + "…"
    text = _(
        "⚠️ I don't know the time zone “{zone}”. Send a name such as Europe/Paris or a UTC "
        "offset such as +03:00."
    ).format(zone=esc(shown))
    return Screen(text, keyboard([menu_button(owner)]))


def settings_screen(
    owner: int, settings: ReminderSettingsView, now: datetime, *, notice: str | None = None
) -> Screen:
    """The learner's reminders with a button for each change (zone chosen first)."""
    if settings.time_zone is None:
        return zone_screen(owner, back=False)
    local = now.astimezone(zone_of(settings.time_zone))
    lines = [notice, ""] if notice else []
    lines.append(_("⏰ <b>Reminders</b>"))
    lines.append(
        _("🌍 Time zone: {zone} · your time now {time}").format(
            zone=esc(settings.time_zone), time=f"{local:%H:%M}"
        )
    )
    if settings.daily_at is not None:
        lines.append(_("📅 Daily reminder: {time}").format(time=f"{settings.daily_at:%H:%M}"))
    else:
        lines.append(_("📅 Daily reminder: off"))
    if settings.streak_nudge:
        lines.append(
            _("🔥 Streak nudge: at {time} if your streak is at risk").format(
                time=f"{settings.nudge_at:%H:%M}"
            )
        )
    else:
        lines.append(_("🔥 Streak nudge: off"))
    lines.append(
        _("🌙 Quiet hours: {start}–{end}, nothing is sent then.").format(
            start=f"{settings.quiet_start:%H:%M}", end=f"{settings.quiet_end:%H:%M}"
        )
    )
    if settings.stopped:
        lines += ["", _("⏸ All reminders are stopped.")]

    def daily(at: time) -> InlineKeyboardButton:
        mark = "• " if at == settings.daily_at else ""
        return button(
            f"{mark}{at:%H:%M}", _cb(owner, ReminderAction.DAILY, at.hour * 60 + at.minute)
        )

    nudge = (
        _("🔥 Streak nudge: turn off") if settings.streak_nudge else _("🔥 Streak nudge: turn on")
    )
    pause = (
        button(_("▶️ Turn reminders back on"), _cb(owner, ReminderAction.RESUME))
        if settings.stopped
        else button(_("⏸ Stop all reminders"), _cb(owner, ReminderAction.STOP))
    )
    return Screen(
        "\n".join(lines),
        keyboard(
            [daily(at) for at in DAILY_CHOICES],
            [button(_("No daily reminder"), _cb(owner, ReminderAction.NO_DAILY))],
            [button(nudge, _cb(owner, ReminderAction.NUDGE, int(not settings.streak_nudge)))],
            [button(_("🌍 Time zone"), _cb(owner, ReminderAction.ZONES)), pause],
            [menu_button(owner)],
        ),
    )


def stopped_notice() -> str:
    return _("🔕 Reminders stopped. Turn them back on in /settings.")


def nothing_to_stop() -> str:
    return _("You have no reminders. Set them up in /settings.")


def reminder(claim: ReminderClaim) -> Screen:
    """The reminder a learner receives, with the way into the bot."""
    if claim.kind == Kind.STREAK:
        text = ngettext(
            "🔥 Keep your {n}-day streak! One lesson today keeps it going.",
            "🔥 Keep your {n}-day streak! One lesson today keeps it going.",
            claim.streak,
        ).format(n=claim.streak)
    else:
        text = _("⏰ Time to learn! A lesson a day keeps you going.")
        if claim.streak:
            text += "\n" + ngettext(
                "🔥 Your streak: {n} day.", "🔥 Your streak: {n} days.", claim.streak
            ).format(n=claim.streak)
    text += "\n\n" + _("Change or stop reminders: /settings · /stop_reminders")
    return Screen(text, keyboard([menu_button(claim.telegram_id)]))
