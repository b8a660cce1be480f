"""The leaderboard's tabs "This week / This month / All time" over the fake Bot API.

The bot's wall clock is the harness's fake one: Monday 30 March 2026, 09:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime

from questline.engine import Engine, Event, UserProfile
from questline.rules.vocabulary import ActivityType
from tests.telegram.harness import Harness
from tests.telegram.test_journeys import lesson_id

# (telegram id, name, score, completed at): this week, last week (March), February
SCORES = [
    (401, "Alice", 5, datetime(2026, 3, 30, 8, 0, tzinfo=UTC)),
    (402, "Bob", 40, datetime(2026, 3, 27, 12, 0, tzinfo=UTC)),
    (403, "Carol", 90, datetime(2026, 2, 20, 12, 0, tzinfo=UTC)),
]


async def test_tabs_show_this_week_this_month_and_all_time(bot: Harness, engine: Engine) -> None:
    variables = await lesson_id(engine, "variables")
    for telegram_id, name, score, at in SCORES:
        await engine.register_user(UserProfile(telegram_id=telegram_id, first_name=name))
        await engine.record(
            Event(
                type=ActivityType.LESSON_COMPLETED,
                telegram_id=telegram_id,
                lesson_id=variables,
                score=score,
                occurred_at=at,
            )
        )
    bob = bot.user(402, "Bob")
    # every completion also earns "First steps" (10 points)
    reply = await bob.send("/leaderboard")
    assert reply.text.splitlines()[2:5] == [
        "1. Carol — 100 points",
        "<b>2. Bob — 50 points</b>",
        "3. Alice — 15 points",
    ]
    assert list(bob.buttons()) == [
        "This week",
        "This month",
        "• All time •",
        "🖼 As a picture",
        "🏠 Menu",
    ]

    reply = await bob.press("This week")
    assert reply.methods == ["editMessageText"]
    lines = reply.text.splitlines()
    assert lines[0] == "🥇 <b>Leaderboard — this week</b>"
    assert lines[2:3] == ["1. Alice — 15 points"]
    assert lines[-1] == "You are not ranked yet — complete a lesson to join."
    assert "• This week •" in bob.buttons()
    picture = await bob.press("As a picture")  # the board of the tab shown
    assert [photo.text for photo in picture.photos] == ["🥇 Leaderboard — this week"]

    reply = await bob.press("This month")
    assert reply.text.splitlines()[2:4] == ["<b>1. Bob — 50 points</b>", "2. Alice — 15 points"]
    assert reply.text.endswith("Your rank: 1")

    carol = bot.user(403, "Carol", language_code="ru")
    await carol.send("/leaderboard")
    reply = await carol.press("Эта неделя")
    assert reply.text.splitlines()[0] == "🥇 <b>Рейтинг недели</b>"
    assert list(carol.buttons())[:3] == ["• Эта неделя •", "Этот месяц", "За всё время"]


async def test_an_empty_week_and_a_forged_tab(bot: Harness, engine: Engine) -> None:
    await engine.register_user(UserProfile(telegram_id=404, first_name="Dave"))
    dave = bot.user(404, "Dave")
    await dave.send("/leaderboard")
    reply = await dave.press("This week")
    assert "Nobody has scored this week yet." in reply.text
    # a tab that does not exist, and another learner's tab: refused, nothing shown
    reply = await dave.press_data("b:404:year")
    assert reply.methods == []
    assert reply.answer is not None and "out of date" in reply.answer["text"]
    reply = await dave.press_data("b:405:week")
    assert reply.methods == []
    assert reply.answer is not None and "someone else's" in reply.answer["text"]
