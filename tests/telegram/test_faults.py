"""Telegram's errors, injected by the fake Bot API: no reply and no award is lost to them."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest

from questline.adapters.telegram.notify import DeliveryFailed
from questline.engine import Engine, Event, UserProfile
from questline.engine.models import ProgressStatus
from questline.engine.outbox import AWARD_GRANTED, Delivery
from questline.engine.timestamps import utcnow
from questline.rules.vocabulary import ActivityType
from tests.telegram.fake_api import Call
from tests.telegram.harness import FakeUser, Harness
from tests.telegram.test_journeys import earned, lesson_id, statuses


async def at_lesson(bot: Harness, user_id: int) -> FakeUser:
    user = bot.user(user_id, "Alice")
    await user.send("/start")
    await user.press("Modules")
    await user.press("Python basics")
    await user.press("Variables")
    return user


def retried(calls: list[Call], method: str) -> tuple[Call, Call]:
    """The refused call of `method` and the successful try after it."""
    tries = [call for call in calls if call.method == method]
    refused = next(call for call in tries if call.status != 200)
    succeeded = next(call for call in tries if call.status == 200 and call.at > refused.at)
    return refused, succeeded


async def test_retry_after_on_send_message_is_honoured(bot: Harness) -> None:
    alice = bot.user(1301, "Alice")
    bot.api.too_many_requests("sendMessage", retry_after=2, chat_id=1301)
    reply = await alice.send("/start")
    refused, succeeded = retried(reply.all_calls, "sendMessage")
    assert refused.status == 429
    assert succeeded.at - refused.at >= 2.0  # waited as long as Telegram asked
    assert "Welcome to questline" in succeeded.params["text"]
    assert "📚 Modules" in alice.buttons()


@pytest.mark.parametrize("method", ["editMessageText", "answerCallbackQuery"])
async def test_retry_after_in_the_menu_loses_neither_screen_nor_answer(
    bot: Harness, method: str
) -> None:
    alice = bot.user(1302, "Alice")
    await alice.send("/start")
    bot.api.too_many_requests(method, retry_after=1)
    reply = await alice.press("Modules")
    refused, succeeded = retried(bot.api.calls, method)  # answers name no chat: all calls
    assert refused.status == 429 and succeeded.at - refused.at >= 1.0
    assert "Python basics" in reply.text  # the modules screen, not a screen with only 🏠
    assert "📘 Python basics · 0/3" in alice.buttons()
    assert reply.answer is not None  # the press was answered


async def test_a_5xx_on_the_card_edit_is_retried_in_place(bot: Harness, engine: Engine) -> None:
    alice = await at_lesson(bot, 1303)
    await alice.press("Start")
    card = alice.screen()
    bot.api.server_error("editMessageText", 502, times=2)
    reply = await alice.press("Complete")
    assert [call.status for call in reply.all_calls if call.method == "editMessageText"][:3] == [
        502,
        502,
        200,
    ]
    assert reply.answer is not None
    assert "Status: completed" in bot.api.messages[1303, card["message_id"]]["text"]
    assert (await statuses(engine, 1303))["variables"] is ProgressStatus.COMPLETED


async def test_a_lasting_5xx_on_the_edit_falls_back_to_a_new_message(
    bot: Harness, engine: Engine
) -> None:
    alice = await at_lesson(bot, 1304)
    await alice.press("Start")
    bot.api.server_error("editMessageText", 502, times=100)
    reply = await alice.press("Complete")
    assert all(call.status == 502 for call in reply.all_calls if call.method == "editMessageText")
    assert reply.answer is not None  # the button stops spinning
    assert any("Lesson completed!" in text for text in reply.texts)  # sent anew
    assert "Next lesson ➡️" in alice.buttons()
    assert (await statuses(engine, 1304))["variables"] is ProgressStatus.COMPLETED
    bot.api.faults.clear()


async def test_a_proxy_error_page_is_retried(bot: Harness) -> None:
    alice = bot.user(1305, "Alice")
    bot.api.server_error("sendMessage", 502, html=True, chat_id=1305)
    reply = await alice.send("/start")
    assert [call.status for call in reply.all_calls] == [502, 200]
    assert "Welcome to questline" in reply.text


async def test_a_press_is_answered_even_when_every_send_fails(
    bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    alice = bot.user(1306, "Alice")
    await alice.send("/start")
    for method in ("editMessageText", "sendMessage"):
        bot.api.server_error(method, 503, times=100, chat_id=1306)
    caplog.set_level(logging.WARNING, logger="questline.adapters.telegram")
    reply = await alice.press("Modules")
    assert reply.texts == []
    assert reply.answer is not None
    assert "the Bot API failed" in caplog.text
    bot.api.faults.clear()


async def test_an_award_notification_is_retried_and_a_lasting_failure_raises(
    bot: Harness, engine: Engine
) -> None:
    await bot.user(1307, "Alice").send("/start")
    variables = await lesson_id(engine, "variables")
    bot.api.server_error("sendPhoto", 502, times=5, chat_id=1307)  # beyond the session's 4
    await engine.record(
        Event(type=ActivityType.LESSON_COMPLETED, telegram_id=1307, lesson_id=variables)
    )
    sent = await bot.api.wait_for(
        lambda call: call.chat_id == 1307 and call.status == 200 and "🏆" in call.text
    )
    assert sent.text.startswith("🏆 First steps (+10)")
    assert await earned(engine, 1307) == {"first-lesson"}

    plugin = engine.plugins.get_plugin("telegram")
    result = await engine.answer_challenge(telegram_id=1307, lesson_id=variables, answer="5")
    # Telegram's 5xx on every try: the hook gives up after the session's four tries and
    # raises, for the outbox's backoff to pace the next (no retries of its own on top)
    bot.api.server_error("sendPhoto", 502, times=100, chat_id=1307)
    mark = len(celebrations(bot, 1307))
    with pytest.raises(DeliveryFailed, match="award first-solve not delivered to 1307"):
        await plugin.questline_award_granted(
            engine=engine,
            award=result.awards[0],
            delivery=Delivery("d-1", AWARD_GRANTED, 1, utcnow()),
        )
    assert [call.status for call in celebrations(bot, 1307)[mark:]] == [502] * 4
    bot.api.faults.clear()


async def test_telegram_asking_to_wait_puts_the_award_off_that_long_and_no_sooner(
    bot: Harness, engine: Engine
) -> None:
    await bot.user(1310, "Alice").send("/start")
    # flood control longer than the session waits for by itself (30 s)
    bot.api.too_many_requests("sendPhoto", retry_after=120, times=100, chat_id=1310)
    before = utcnow()
    await engine.record(
        Event(
            type=ActivityType.LESSON_COMPLETED,
            telegram_id=1310,
            lesson_id=await lesson_id(engine, "variables"),
        )
    )
    [entry] = await engine.outbox_entries(status="pending")
    assert entry.attempts == 1 and "Telegram" in (entry.last_error or "")
    assert entry.available_at >= before + timedelta(seconds=120)  # not the 2 s backoff
    assert [call.status for call in celebrations(bot, 1310)] == [429]  # no retries meanwhile
    bot.api.faults.clear()


async def settled(engine: Engine) -> dict[str, int]:
    """The outbox's counts once nothing is pending (within 10 s)."""
    for _ in range(200):
        status = await engine.outbox_status()
        if not status["pending"]:
            return status
        await asyncio.sleep(0.05)
    return await engine.outbox_status()


def celebrations(bot: Harness, chat_id: int) -> list[Call]:
    return [c for c in bot.api.calls if c.chat_id == chat_id and c.method == "sendPhoto"]


async def test_an_award_the_update_could_not_show_reaches_the_learner_later_once(
    bot: Harness, engine: Engine
) -> None:
    alice = await at_lesson(bot, 1308)
    await alice.press("Start")
    # a 5xx past the session's retries: the update's celebration and the send when the update
    # is done fail; the outbox's next pass gets through
    bot.api.server_error("sendPhoto", 502, times=8, chat_id=1308)
    reply = await alice.press("Complete")
    assert "Lesson completed!" in reply.texts[0]
    assert "Next lesson ➡️" in alice.buttons()

    sent = await bot.api.wait_for(
        lambda call: call.chat_id == 1308 and call.method == "sendPhoto" and call.status == 200
    )
    assert sent.text.startswith("🏆 First steps (+10)")
    assert await settled(engine) == {"pending": 0, "done": 1, "dead": 0}
    assert [call.status for call in celebrations(bot, 1308)] == [502] * 8 + [200]


async def test_an_award_earned_while_every_send_fails_is_sent_when_telegram_is_back(
    bot: Harness, engine: Engine
) -> None:
    alice = await at_lesson(bot, 1309)
    await alice.press("Start")
    for method in ("editMessageText", "sendMessage", "sendPhoto"):
        bot.api.server_error(method, 502, times=100, chat_id=1309)
    await alice.press("Complete")  # nothing shown: not the result, not the award
    assert not [call for call in celebrations(bot, 1309) if call.status == 200]
    assert await engine.outbox_status() == {"pending": 1, "done": 0, "dead": 0}

    bot.api.faults.clear()
    sent = await bot.api.wait_for(
        lambda call: call.chat_id == 1309 and call.method == "sendPhoto" and call.status == 200
    )
    assert sent.text.startswith("🏆 First steps (+10)")
    assert await settled(engine) == {"pending": 0, "done": 1, "dead": 0}
    assert len([call for call in celebrations(bot, 1309) if call.status == 200]) == 1


async def test_notifications_keep_to_the_broadcast_limits(bot: Harness, engine: Engine) -> None:
    ids = range(1400, 1440)
    for telegram_id in ids:
        await engine.register_user(UserProfile(telegram_id=telegram_id, first_name="L"))
    variables = await lesson_id(engine, "variables")
    await engine.record_many(
        Event(type=ActivityType.LESSON_COMPLETED, telegram_id=telegram_id, lesson_id=variables)
        for telegram_id in ids
    )
    sends = [c for c in bot.api.calls if c.method == "sendPhoto" and c.chat_id in set(ids)]
    assert len(sends) == len(ids)
    moments = sorted(call.at for call in sends)
    busiest = max(sum(1 for t in moments if start <= t < start + 1) for start in moments)
    assert busiest <= 31  # about 30 a second overall
    assert moments[-1] - moments[0] >= (len(ids) - 1) / 30 * 0.9

    # one learner, several awards at once outside an update: a second apart in their chat
    await engine.register_user(UserProfile(telegram_id=1450, first_name="M"))
    lessons = [await lesson_id(engine, slug) for slug in ("variables", "loops", "functions")]
    await engine.record_many(
        Event(type=ActivityType.LESSON_COMPLETED, telegram_id=1450, lesson_id=lesson)
        for lesson in lessons
    )
    mine = [c.at for c in bot.api.calls if c.method == "sendPhoto" and c.chat_id == 1450]
    assert len(mine) == 2  # First steps, Module master
    assert mine[1] - mine[0] >= 0.9


async def test_a_chat_asked_to_wait_is_not_called_sooner_and_holds_up_no_other_learner(
    bot: Harness, engine: Engine
) -> None:
    """Telegram's long 429 for one chat's photos: the update's celebration is tried once, then
    its award is left to the outbox, which waits for that learner only; other learners' awards
    are celebrated in their updates meanwhile."""
    bot.api.too_many_requests("sendPhoto", retry_after=120, times=100, chat_id=1320)
    flooded = await at_lesson(bot, 1320)
    await flooded.press("Start")
    before = utcnow()
    reply = await flooded.press("Complete")
    assert "Lesson completed!" in reply.texts[0]
    for _ in range(200):  # the outbox's pass after the update
        [entry] = await engine.outbox_entries(status="pending")
        if entry.attempts:
            break
        await asyncio.sleep(0.05)
    assert entry.attempts == 1 and entry.available_at >= before + timedelta(seconds=119)
    for telegram_id in (1321, 1322):
        other = await at_lesson(bot, telegram_id)
        await other.press("Start")
        reply = await other.press("Complete")
        assert "Lesson completed!" in reply.texts[0]
        assert [call.text.split("\n")[0] for call in reply.photos] == ["🏆 First steps (+10)"]
    assert [call.status for call in celebrations(bot, 1320)] == [429]  # asked once, no more
    assert len(await engine.outbox_entries(status="pending")) == 1
    bot.api.faults.clear()
