"""Reminders in the bot: /settings with buttons and a typed time zone, a reminder sent at its
time in the learner's language, a 403 stopping them until the learner is back, a 429 retried
once, /stop_reminders, forged buttons, and the runner's own scheduler loop."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, time, timedelta

from questline.adapters.telegram.callbacks import ReminderAction, ReminderCb
from questline.adapters.telegram.settings import BotSettings
from questline.engine import Engine, Event
from questline.rules.vocabulary import ActivityType as A
from tests.telegram.conftest import RunningBot
from tests.telegram.fake_api import FakeBotAPI
from tests.telegram.harness import FakeClock, FakeUser, Harness
from tests.telegram.test_bad_input import started

# The fake clock starts on Monday 2026-03-30 at 09:00 UTC: 11:00 in Berlin (summer time).
BERLIN_SIX_PM = FakeClock.WALL_START.replace(hour=16)


def move_to(bot: Harness, moment: datetime) -> None:
    bot.clock.advance((moment - bot.clock.wall()).total_seconds())


def floods_on_the_harness_clock(bot: Harness) -> None:
    """The scheduler runs on the harness's clock, minutes at a time: Telegram's waits for a
    chat (real time in the bot) pass with it here."""
    bot.running.runner.notifier.floods.clock = bot.clock  # type: ignore[attr-defined]


async def tick(bot: Harness, moment: datetime) -> list[str]:
    """Run the scheduler at `moment`; the reminders the fake server accepted meanwhile."""
    move_to(bot, moment)
    before = set(bot.api.messages)
    await bot.running.runner.reminders.tick()  # type: ignore[attr-defined]
    return [message["text"] for key, message in bot.api.messages.items() if key not in before]


async def berlin_at_six(bot: Harness, user: FakeUser) -> None:
    await user.send("/settings")
    await user.press("Berlin")
    await user.press("18:00")


async def test_a_learner_sets_up_reminders_with_buttons_and_a_typed_zone(
    bot: Harness, engine: Engine
) -> None:
    alice = await started(bot, 1201)
    reply = await alice.press("Reminders")
    assert "Your time zone" in reply.text and {"Berlin", "Tokyo", "✍️ Other…"} <= set(
        alice.buttons()
    )
    reply = await alice.press("Berlin")
    assert "Time zone: Europe/Berlin · your time now 11:00" in reply.text
    assert "Daily reminder: off" in reply.text
    assert "Streak nudge: at 19:00 if your streak is at risk" in reply.text
    assert "Quiet hours: 22:00–08:00" in reply.text
    reply = await alice.press("18:00")
    assert reply.answer_text == "✅ Saved." and "Daily reminder: 18:00" in reply.text
    assert "• 18:00" in alice.buttons()
    reply = await alice.press("Streak nudge: turn off")
    assert "Streak nudge: off" in reply.text

    await alice.press("Time zone")
    reply = await alice.press("Other")
    assert "Send your time zone" in reply.text
    reply = await alice.send("Mars/Olympus <b>")
    assert "I don't know the time zone “Mars/Olympus &lt;b&gt;”" in reply.calls[0].params["text"]
    reply = await alice.send("+03:00")
    assert "Time zone: +03:00 · your time now 12:00" in reply.text
    settings = await engine.reminder_settings(telegram_id=1201)
    assert (settings.time_zone, settings.daily_at, settings.streak_nudge) == (
        "+03:00",
        time(18, 0),
        False,
    )
    reply = await alice.send("hello")  # no longer waiting for a time zone
    assert "+03:00" not in reply.text


async def test_a_reminder_comes_at_its_local_time_once_a_day(bot: Harness) -> None:
    alice = await started(bot, 1202)
    await berlin_at_six(bot, alice)
    assert await tick(bot, BERLIN_SIX_PM - timedelta(minutes=1)) == []
    [text] = await tick(bot, BERLIN_SIX_PM)
    assert text.startswith("⏰ Time to learn!") and "/stop_reminders" in text
    assert await tick(bot, BERLIN_SIX_PM + timedelta(minutes=5)) == []
    assert len(await tick(bot, BERLIN_SIX_PM + timedelta(days=1))) == 1


async def test_the_streak_nudge_in_russian(bot: Harness, engine: Engine) -> None:
    boris = bot.user(1203, "Борис", language_code="ru")
    await boris.send("/start")
    reply = await boris.send("/settings")
    assert "Ваш часовой пояс" in reply.text
    reply = await boris.press("Москва")
    assert "Напоминание каждый день: выключено" in reply.text
    lesson = (await engine.modules())[0].lessons[0]
    for back in (2, 1):
        await engine.record(
            Event(
                type=A.LESSON_COMPLETED,
                telegram_id=1203,
                lesson_id=lesson.id,
                occurred_at=FakeClock.WALL_START - timedelta(days=back),
            )
        )
    [text] = await tick(bot, FakeClock.WALL_START.replace(hour=16))  # 19:00 in Moscow
    assert text.startswith("🔥 Не потеряйте серию: 2 дня подряд!")


async def test_a_learner_who_blocked_the_bot_gets_nothing_until_they_are_back(
    bot: Harness, engine: Engine
) -> None:
    alice = await started(bot, 1204)
    await berlin_at_six(bot, alice)
    bot.api.blocked.add(1204)
    assert await tick(bot, BERLIN_SIX_PM) == []
    assert bot.api.sent_to(1204)[-1].method == "sendMessage"
    assert (await engine.reminder_settings(telegram_id=1204)).blocked
    mark = len(bot.api.calls)
    for day in (1, 2):
        await tick(bot, BERLIN_SIX_PM + timedelta(days=day))
    assert [call for call in bot.api.calls[mark:] if call.chat_id == 1204] == []

    bot.api.blocked.discard(1204)
    move_to(bot, BERLIN_SIX_PM + timedelta(days=2, hours=1))
    await alice.send("/start")  # unblocking a bot in Telegram sends /start
    assert not (await engine.reminder_settings(telegram_id=1204)).blocked
    assert len(await tick(bot, BERLIN_SIX_PM + timedelta(days=3))) == 1


async def test_blocking_and_unblocking_the_bot_hold_and_resume_reminders_at_once(
    bot: Harness, engine: Engine
) -> None:
    alice = await started(bot, 1210)
    await berlin_at_six(bot, alice)
    mark = len(bot.api.calls)
    await alice.change_membership("member", "kicked")
    assert (await engine.reminder_settings(telegram_id=1210)).blocked
    assert await tick(bot, BERLIN_SIX_PM) == []
    assert [call for call in bot.api.calls[mark:] if call.chat_id == 1210] == []  # no 403 first

    move_to(bot, BERLIN_SIX_PM + timedelta(hours=1))
    await alice.change_membership("kicked", "member")  # unblocked without pressing "Restart"
    assert not (await engine.reminder_settings(telegram_id=1210)).blocked
    assert len(await tick(bot, BERLIN_SIX_PM + timedelta(days=1))) == 1


async def test_membership_news_of_strangers_and_groups_changes_nothing(
    bot: Harness, engine: Engine
) -> None:
    stranger = bot.user(1211, "Sam")
    reply = await stranger.change_membership("member", "kicked")
    assert reply.calls == []
    assert await engine.find_user(telegram_id=1211) is None
    alice = await started(bot, 1212)
    await berlin_at_six(bot, alice)
    group = {"id": -1001212, "type": "supergroup", "title": "Study group"}
    await alice.change_membership("member", "kicked", chat=group)  # removed from a group
    assert not (await engine.reminder_settings(telegram_id=1212)).blocked


async def test_telegram_asking_to_wait_delays_the_reminder_without_losing_or_doubling_it(
    bot: Harness,
) -> None:
    floods_on_the_harness_clock(bot)
    alice = await started(bot, 1205)
    await berlin_at_six(bot, alice)
    bot.api.too_many_requests("sendMessage", retry_after=120, chat_id=1205)
    assert await tick(bot, BERLIN_SIX_PM) == []
    assert [call.status for call in bot.api.sent_to(1205)][-1] == 429
    assert await tick(bot, BERLIN_SIX_PM + timedelta(seconds=60)) == []
    assert len(await tick(bot, BERLIN_SIX_PM + timedelta(seconds=121))) == 1
    assert await tick(bot, BERLIN_SIX_PM + timedelta(minutes=30)) == []


async def test_a_chat_telegram_asked_to_wait_for_gets_no_reminder_before_then(
    bot: Harness,
) -> None:
    """A 429 met elsewhere (an award's photo) holds the chat's reminder too: not even tried
    inside the wait (a call there might lengthen it), sent once it is over."""
    floods_on_the_harness_clock(bot)
    alice = await started(bot, 1215)
    await berlin_at_six(bot, alice)
    move_to(bot, BERLIN_SIX_PM)
    bot.running.runner.notifier.floods.note(1215, 120)  # type: ignore[attr-defined]
    calls = len(bot.api.sent_to(1215))
    assert await tick(bot, BERLIN_SIX_PM) == []
    assert len(bot.api.sent_to(1215)) == calls  # not tried
    assert await tick(bot, BERLIN_SIX_PM + timedelta(seconds=60)) == []
    assert len(await tick(bot, BERLIN_SIX_PM + timedelta(seconds=121))) == 1


async def test_a_reminder_telegram_puts_off_never_holds_the_sender(bot: Harness) -> None:
    """A 429 the session would wait out elsewhere (30 s is within its limit) puts the claim
    off at once: no sleep holds the scheduler, its lease or a stop."""
    floods_on_the_harness_clock(bot)
    alice = await started(bot, 1211)
    await berlin_at_six(bot, alice)
    bot.api.too_many_requests("sendMessage", retry_after=30, chat_id=1211)
    async with asyncio.timeout(10):
        assert await tick(bot, BERLIN_SIX_PM) == []
    assert [call.status for call in bot.api.sent_to(1211) if call.status == 429] == [429]
    assert await tick(bot, BERLIN_SIX_PM + timedelta(seconds=20)) == []
    assert len(await tick(bot, BERLIN_SIX_PM + timedelta(seconds=31))) == 1


async def test_a_stopping_scheduler_hands_back_what_it_has_not_sent(bot: Harness) -> None:
    learners = [await started(bot, chat) for chat in (1212, 1213, 1214)]
    for user in learners:
        await berlin_at_six(bot, user)
    scheduler = bot.running.runner.reminders  # type: ignore[attr-defined]
    move_to(bot, BERLIN_SIX_PM)
    sending = asyncio.create_task(scheduler.tick())
    await bot.api.wait_for(lambda call: "Time to learn" in call.text)
    await scheduler.stop()  # asked during the first send
    assert await sending == 1
    scheduler._stopping.clear()  # a scheduler started again (another process, a restart)
    assert len(await tick(bot, BERLIN_SIX_PM + timedelta(seconds=1))) == 2


async def test_stop_reminders_and_back_on_in_settings(bot: Harness, engine: Engine) -> None:
    alice = await started(bot, 1206)
    reply = await alice.send("/stop_reminders")
    assert reply.text == "You have no reminders. Set them up in /settings."
    await berlin_at_six(bot, alice)
    reply = await alice.send("/stop_reminders")
    assert reply.text == "🔕 Reminders stopped. Turn them back on in /settings."
    assert await tick(bot, BERLIN_SIX_PM) == []
    reply = await alice.send("/settings")
    assert "⏸ All reminders are stopped." in reply.text
    reply = await alice.press("Turn reminders back on")
    assert "stopped" not in reply.text
    assert len(await tick(bot, BERLIN_SIX_PM + timedelta(days=1))) == 1


async def test_forged_reminder_buttons_change_nothing(bot: Harness, engine: Engine) -> None:
    alice = await started(bot, 1207)
    await berlin_at_six(bot, alice)
    before = await engine.reminder_settings(telegram_id=1207)
    for data in ("r:1207:city:99", "r:1207:daily:1440", "r:1207:bogus:0", "r:1207:daily:-1"):
        reply = await alice.press_data(data)
        assert reply.answer_text == "This button is out of date. Send /start for a fresh menu."
    quiet = ReminderCb(owner=1207, action=ReminderAction.DAILY, value=23 * 60).pack()
    reply = await alice.press_data(quiet)
    assert reply.answer_text == "Sorry, that can't be done."
    reply = await alice.press_data(ReminderCb(owner=1208, action=ReminderAction.STOP).pack())
    assert reply.answer_text == "This button belongs to someone else's screen."
    assert await engine.reminder_settings(telegram_id=1207) == before


async def test_the_runner_sends_reminders_from_its_own_loop(
    fake_api: FakeBotAPI, engine: Engine, bot_settings: BotSettings
) -> None:
    clock = FakeClock()
    running = RunningBot(engine, replace(bot_settings, reminder_interval=0.01), clock)
    await running.start(fake_api)
    try:
        alice = Harness(fake_api, running).user(1209, "Alice")
        await alice.send("/start")
        await engine.set_reminders(
            telegram_id=1209,
            time_zone="UTC",
            daily_at=time(9, 0),
            at=clock.wall() - timedelta(hours=1),
        )
        call = await fake_api.wait_for(
            lambda call: call.method == "sendMessage" and "Time to learn" in call.text
        )
        assert call.chat_id == 1209
    finally:
        await running.stop()
    assert not running.errors


async def test_a_refused_reminder_is_given_up_for_the_day_only(bot: Harness) -> None:
    alice = await started(bot, 1210)
    await berlin_at_six(bot, alice)
    bot.api.fail("sendMessage", 400, "Bad Request: chat not found", chat_id=1210)
    assert await tick(bot, BERLIN_SIX_PM) == []
    assert await tick(bot, BERLIN_SIX_PM + timedelta(minutes=10)) == []
    assert len(await tick(bot, BERLIN_SIX_PM + timedelta(days=1))) == 1


async def test_settings_before_start_ask_for_start(bot: Harness) -> None:
    stranger = bot.user(1211, "Stranger")
    reply = await stranger.send("/settings")
    assert reply.text == "Please send /start first."
    reply = await stranger.send("/stop_reminders")
    assert reply.text == "Please send /start first."
