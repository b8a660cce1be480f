"""A finished week is closed by the running bot: the podium learners get their 🏆 message,
once, even when a second bot process starts over the same database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from questline.adapters.telegram.settings import BotSettings
from questline.engine import Engine, Event, UserProfile
from questline.rules.loading import CATALOG_DIR
from questline.rules.vocabulary import ActivityType
from tests.telegram.conftest import RULES, RunningBot
from tests.telegram.fake_api import FakeBotAPI
from tests.telegram.harness import FakeClock
from tests.telegram.test_journeys import lesson_id

LAST_WEEK = datetime(2026, 3, 26, 18, 0, tzinfo=UTC)  # the bot's wall clock is Monday 30 March
PODIUM = "🏆 On the podium (+30)"


def podium_messages(api: FakeBotAPI, chat_id: int) -> list[str]:
    return [text for text in api.delivered(chat_id) if text.startswith(PODIUM)]


async def test_the_bot_closes_last_week_and_announces_the_podium_once(
    fake_api: FakeBotAPI, engine: Engine, bot_env: dict[str, str]
) -> None:
    await engine.load_rules([RULES, CATALOG_DIR / "leaderboards.json"])
    variables = await lesson_id(engine, "variables")
    for telegram_id, score in [(701, 90), (702, 80), (703, 70), (704, 60)]:
        await engine.register_user(UserProfile(telegram_id=telegram_id, first_name="Learner"))
        event = Event(
            type=ActivityType.LESSON_COMPLETED,
            telegram_id=telegram_id,
            lesson_id=variables,
            score=score,
            occurred_at=LAST_WEEK,
        )
        await engine.record(event)
    settings = replace(BotSettings.from_env(), polling_timeout=2)

    first = RunningBot(engine, settings, FakeClock())
    await first.start(fake_api)
    try:
        for chat_id in (701, 702, 703):
            await fake_api.wait_for(
                lambda call, chat_id=chat_id: (
                    call.chat_id == chat_id and (call.text or "").startswith(PODIUM)
                )
            )
    finally:
        await first.stop()
    second = RunningBot(engine, settings, FakeClock())
    await second.start(fake_api)
    await second.stop()

    assert [len(podium_messages(fake_api, chat_id)) for chat_id in (701, 702, 703, 704)] == [
        1,
        1,
        1,
        0,
    ]
    close = await engine.period_close("week", at=FakeClock().wall())
    assert close is not None and close.learners == 4
    assert first.errors == second.errors == []
