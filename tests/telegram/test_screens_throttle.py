"""Screens rendered from engine views, and the throttle's token bucket, without a server."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any

from aiogram.types import User

from questline.adapters.telegram.i18n import use_locale
from questline.adapters.telegram.middlewares import ThrottlingMiddleware
from questline.adapters.telegram.screens.base import bar
from questline.adapters.telegram.screens.learning import lesson_screen
from questline.adapters.telegram.screens.stats import achievements_screen, leaderboard_screen
from questline.adapters.telegram.settings import Throttle
from questline.engine.models import ProgressStatus
from questline.engine.views import (
    AchievementStatus,
    LeaderboardEntry,
    LessonProgress,
    LessonView,
    ModuleProgress,
    ModuleView,
)
from questline.rules.analysis import ProgressPart, RuleProgress
from tests.telegram.harness import FakeClock


def entry(rank: int, user_id: int, name: str, score: int) -> LeaderboardEntry:
    return LeaderboardEntry(rank, user_id, 1000 + user_id, name, score, 0, 0)


def test_bars() -> None:
    assert bar(0, 0) == "▱▱▱▱▱▱▱▱▱▱ 0/0"
    assert bar(1, 3) == "▰▰▰▱▱▱▱▱▱▱ 1/3"
    assert bar(3, 3) == "▰▰▰▰▰▰▰▰▰▰ 3/3"


def test_leaderboard_marks_ties_and_shows_a_rank_outside_the_top() -> None:
    top = [entry(1, 1, "Ann", 50), entry(1, 2, "<Bo>", 50), entry(3, 3, "Cy", 40)]
    mine = entry(12, 9, "Me", 5)
    neighbours = [entry(11, 8, "Di", 6), mine, entry(12, 10, "Ed", 5)]
    with use_locale("en"):
        text = leaderboard_screen(1009, top, mine, neighbours).text
    assert text.splitlines()[2:5] == [
        "=1 Ann — 50 points",
        "=1 &lt;Bo&gt; — 50 points",
        "3. Cy — 40 points",
    ]
    assert "…\n<b>=12 Me — 5 points</b>" in text
    assert text.endswith("Your rank: 12 (tied)")
    with use_locale("en"):
        assert "not ranked yet" in leaderboard_screen(1009, top, None).text


def test_locked_achievements_show_what_is_missing_for_any_fact() -> None:
    earned_at = datetime(2025, 3, 5, 12, tzinfo=UTC)
    parts = (
        ProgressPart("stats.lessons_completed", ">=", 7, 10, 0.7, False, "/>=/1"),
        ProgressPart("plugin.karma", ">=", 2.5, 4, 0.6, False, "/and/1"),
        ProgressPart("stats.logins", ">=", 3, 1, 1.0, True, "/and/2"),
    )
    statuses = [
        AchievementStatus("a", "Early bird", None, "🐦", 5, earned_at),
        AchievementStatus("b", "Ten", "Complete 10", None, 50, None, RuleProgress(parts, 0.6)),
    ]
    with use_locale("en"):
        text = achievements_screen(1, statuses).text
    assert "🐦 Early bird — Mar 5, 2025 (+5)" in text
    assert "3 lessons to go ▰▰▰▰▰▰▰▱▱▱ · 1.5 to go ▰▰▰▰▰▰▱▱▱▱" in text  # met parts not repeated
    with use_locale("ru"):
        text = achievements_screen(1, statuses).text
    assert "🐦 Early bird — 5 мар. 2025\u202fг. (+5)" in text  # CLDR: narrow no-break space
    assert "осталось 3 урока ▰▰▰▰▰▰▰▱▱▱" in text


def locked(slug: str, ratio: float, points: int = 10) -> AchievementStatus:
    part = ProgressPart("stats.total_score", ">=", int(500 * ratio), 500, ratio, False, "/>=/1")
    return AchievementStatus(
        slug, slug.title(), None, None, points, None, RuleProgress((part,), ratio)
    )


def test_the_closest_three_come_first_and_the_rest_is_folded() -> None:
    earned_at = datetime(2025, 3, 5, 12, tzinfo=UTC)
    statuses = [
        locked("far", 0.05),
        locked("near", 0.9),
        AchievementStatus("done", "Done", None, "🎯", 5, earned_at),
        locked("mid", 0.5),
        locked("close", 0.7),
        locked("never", 0.0),
    ]
    with use_locale("en"):
        folded = achievements_screen(7, statuses)
        unfolded = achievements_screen(7, statuses, show_all=True)
    titles = [line for line in folded.text.splitlines() if line.startswith("🔒")]
    assert titles == ["🔒 <b>Near</b> (+10)", "🔒 <b>Close</b> (+10)", "🔒 <b>Mid</b> (+10)"]
    assert folded.text.startswith("🏆 <b>Achievements</b> · 1/6 earned")
    assert "50 points to go ▰▰▰▰▰▰▰▰▰▱" in folded.text  # "Near": 450 of 500
    assert folded.text.index("Mid") < folded.text.index("<b>Earned</b>") < folded.text.index("Done")
    assert "…and 2 more locked." in folded.text and "Far" not in folded.text
    assert folded.markup is not None
    show_all = folded.markup.inline_keyboard[0][0]
    assert (show_all.text, show_all.callback_data) == ("Show all (6)", "s:7:all_achievements")

    locked_lines = [line for line in unfolded.text.splitlines() if line.startswith("🔒")]
    assert locked_lines[3:] == ["🔒 <b>Far</b> (+10)", "🔒 <b>Never</b> (+10)"]
    assert "500 points to go ▱▱▱▱▱▱▱▱▱▱" in unfolded.text
    assert unfolded.markup is not None
    fewer = unfolded.markup.inline_keyboard[0][0]
    assert (fewer.text, fewer.callback_data) == ("Show fewer", "s:7:achievements")


async def test_throttle_lets_a_burst_through_then_refills() -> None:
    clock = FakeClock()
    throttle = ThrottlingMiddleware(Throttle(rate=1.0, burst=3), clock)
    handled: list[int] = []

    async def handler(event: Any, data: dict[str, Any]) -> None:
        handled.append(data["event_from_user"].id)

    async def send(user_id: int) -> None:
        user = User(id=user_id, is_bot=False, first_name="x")
        await throttle(handler, object(), {"event_from_user": user})  # type: ignore[arg-type]

    for _ in range(5):
        await send(1)
    await send(2)
    assert handled == [1, 1, 1, 2]
    clock.advance(1.5)
    for _ in range(3):
        await send(1)
    assert handled == [1, 1, 1, 2, 1]
    clock.advance(60)
    for _ in range(4):
        await send(1)
    assert handled.count(1) == 4 + 3


def test_a_long_lesson_is_paged_and_each_page_fits_one_message() -> None:
    lesson = LessonView(1, 1, "long", "Long", "<tag> " * 2000, 1, 5, True, None)
    module = ModuleView(1, "m", "M", None, 1, True, (lesson,))
    item = LessonProgress(lesson, ProgressStatus.NOT_STARTED, None, 0)
    with use_locale("en"):
        first = lesson_screen(1, ModuleProgress(module, (item,), 0, 1), item).text
        last = lesson_screen(1, ModuleProgress(module, (item,), 0, 1), item, page=99).text
    for text in (first, last):
        visible = html.unescape(re.sub(r"</?b>", "", text))
        assert len(visible) < 4096
        assert "<tag> <tag>" in visible  # raw HTML in the content is text
    pages = re.search(r"Page 1 of (\d+)", first)
    assert pages is not None and int(pages[1]) > 1
    assert f"Page {pages[1]} of {pages[1]}" in last  # a page beyond the last shows the last
