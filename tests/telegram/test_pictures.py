"""Pictures in the bot, over the fake Bot API: the heat-map on /progress, a card with a Share
button for each celebration, the leaderboard as a picture."""

from __future__ import annotations

import io
import logging
from urllib.parse import parse_qs, urlsplit

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from questline.adapters.telegram import i18n
from questline.adapters.telegram.pictures import CAPTION_LIMIT, caption
from questline.adapters.telegram.screens.base import esc
from questline.engine import Engine, Event
from questline.engine.pictures import card, heatmap, leaderboard
from questline.engine.timestamps import utcnow
from questline.engine.views import AwardView
from questline.rules.vocabulary import ActivityType
from tests.telegram.fake_api import TOKEN, Call, FakeBotAPI
from tests.telegram.harness import Harness
from tests.telegram.test_bad_input import started
from tests.telegram.test_journeys import lesson_id


def image(call: Call) -> Image.Image:
    """The picture the bot uploaded with a sendPhoto call."""
    return Image.open(io.BytesIO(call.params["photo"].data)).convert("RGB")


def share_button(call: Call) -> tuple[str, dict[str, list[str]]]:
    """The label of the photo's one button, a link, and the link's query."""
    [[button]] = call.params["reply_markup"]["inline_keyboard"]
    parts = urlsplit(button["url"])
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "t.me", "/share/url")
    return button["text"], parse_qs(parts.query)


def hex_rgb(colour: str) -> tuple[int, ...]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))


def heatmap_colour(level: int) -> tuple[int, ...]:
    return hex_rgb(heatmap.LEVELS[level])


async def test_progress_shows_the_screen_then_the_heatmap(bot: Harness, engine: Engine) -> None:
    alice = await started(bot, 1601)
    variables = await lesson_id(engine, "variables")
    await engine.record(
        Event(type=ActivityType.LESSON_STARTED, telegram_id=1601, lesson_id=variables)
    )
    reply = await alice.send("/progress")
    assert reply.methods == ["sendMessage", "sendPhoto"]
    assert "Your progress" in reply.texts[0]
    assert reply.texts[1] == "🗓 Your activity, day by day"
    picture = image(reply.photos[0])
    assert picture.size == heatmap.size(12)
    calendar = await engine.activity_calendar(telegram_id=1601)
    box = heatmap.cell_box(calendar, calendar.last)
    today = picture.getpixel(((box[0] + box[2]) // 2, (box[1] + box[3]) // 2))
    assert today == heatmap_colour(4)  # the one active day is the busiest

    await alice.send("/start")
    pressed = await alice.press("Progress")
    assert pressed.methods == ["editMessageText", "sendPhoto"]
    assert pressed.answer is not None


async def test_a_failing_photo_leaves_the_progress_screen(
    bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    alice = await started(bot, 1602)
    bot.api.server_error("sendPhoto", 500, times=100, chat_id=1602)
    caplog.set_level(logging.WARNING, logger="questline.adapters.telegram")
    reply = await alice.send("/progress")
    assert "Your progress" in reply.text
    assert reply.photos == [] and reply.refused
    assert "heat-map not sent to 1602" in caplog.text
    bot.api.faults.clear()


async def test_an_award_is_celebrated_with_its_card_and_a_share_button(
    bot: Harness, engine: Engine
) -> None:
    alice = await started(bot, 1603, "Алиса")
    await alice.press("Modules")
    await alice.press("Python basics")
    await alice.press("Variables")
    await alice.press("Start")
    reply = await alice.press("Complete")
    assert reply.methods == ["editMessageText", "sendPhoto", "sendMessage"]
    [photo] = reply.photos
    assert photo.text.startswith("🏆 First steps (+10)")
    assert image(photo).size == (card.WIDTH, card.HEIGHT)
    label, query = share_button(photo)
    assert label == "📣 Share"
    assert query["url"] == ["https://t.me/questline_test_bot"]
    assert query["text"] == ["I earned “First steps” (+10) in questline!"]
    assert "Next lesson ➡️" in alice.buttons()  # the next step stays the screen to press


async def test_a_russian_learner_gets_russian_words(bot: Harness, engine: Engine) -> None:
    boris = bot.user(1604, "Борис", language_code="ru")
    await boris.send("/start")
    reply = await boris.send("/progress")
    assert reply.texts[-1] == "🗓 Ваша активность по дням"
    await engine.record(
        Event(
            type=ActivityType.LESSON_COMPLETED,
            telegram_id=1604,
            lesson_id=await lesson_id(engine, "variables"),
        )
    )
    sent = await bot.api.wait_for(lambda call: call.chat_id == 1604 and call.text.startswith("🏆"))
    label, query = share_button(sent)
    assert label == "📣 Поделиться"
    assert query["text"] == ["Новое достижение в questline: «First steps» (+10)!"]


async def test_the_leaderboard_is_sent_as_a_picture(bot: Harness, engine: Engine) -> None:
    alice = await started(bot, 1605)
    await engine.record(
        Event(
            type=ActivityType.LESSON_COMPLETED,
            telegram_id=1605,
            lesson_id=await lesson_id(engine, "variables"),
        )
    )
    await alice.send("/leaderboard")
    reply = await alice.press("As a picture")
    assert reply.answer is not None
    [photo] = reply.photos
    assert photo.text == "🥇 Leaderboard"
    picture = image(photo)
    assert picture.size == leaderboard.size(1)
    asker_row = (picture.size[0] // 2, leaderboard.HEADER + 8)
    assert picture.getpixel(asker_row) == hex_rgb(leaderboard.HIGHLIGHT)  # marked


def award(n: int, description: str | None = "x" * 300) -> AwardView:
    return AwardView(f"a{n}", f"Award {n}", description, None, n, utcnow(), 1, 1)


def test_a_long_celebration_is_cut_to_a_caption_telegram_takes() -> None:
    with i18n.use_locale("en"):
        assert caption([award(1)]).startswith("🏆 Award 1 (+1)\n<i>xxx")
        many = caption([award(n) for n in range(60)])
    assert len(many) <= CAPTION_LIMIT
    assert many.startswith("🏆 Award 0 (+0)\n🏆 Award 1 (+1)\n") and many.endswith("\n…")
    assert "<i>" not in many


@given(
    st.lists(
        st.tuples(st.text(min_size=1, max_size=200), st.none() | st.text(max_size=400)),
        min_size=1,
        max_size=40,
    )
)
def test_every_celebration_fits_a_caption(awards: list[tuple[str, str | None]]) -> None:
    views = [
        AwardView(f"a{n}", title, text, None, n, utcnow(), 1, 1)
        for n, (title, text) in enumerate(awards)
    ]
    with i18n.use_locale("en"):
        text = caption(views)
    assert len(text) <= CAPTION_LIMIT
    assert text.startswith(f"🏆 {esc(views[0].title)} (+0)")


async def test_the_fake_server_refuses_a_photo_that_is_not_an_image(fake_api: FakeBotAPI) -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(fake_api.base_url))
    bot = Bot(TOKEN, session=session)
    try:
        with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
            await bot.send_photo(1, BufferedInputFile(b"GIF89a", filename="x.gif"))
        with pytest.raises(TelegramBadRequest, match="uploaded photos only"):
            await bot.send_photo(1, "AgACAgIAAxkBAAIBQ2Zfile-id")
    finally:
        await session.close()
