"""Untrusted input: forged and stale buttons, floods, strangers at admin commands, blocked chats."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.adapters.telegram.callbacks import LessonAction, LessonCb, ModuleCb
from questline.engine import Engine, Event
from questline.engine.models import ProgressStatus
from questline.plugins.manager import build_plugin_manager
from questline.rules.vocabulary import ActivityType
from tests.telegram.conftest import ADMIN_ID, COURSE
from tests.telegram.harness import FakeUser, Harness
from tests.telegram.test_journeys import earned, lesson_id, statuses

HELP = "helps you learn step by step"
SLOW_DOWN = "⏳ Too fast — I skipped that. Wait a second, then send it again."
NOT_AVAILABLE = "This lesson is not available any more."


@pytest.fixture
def course_file(tmp_path: Path) -> Path:
    """A copy of the course that tests edit, as an author would."""
    return Path(shutil.copy(COURSE, tmp_path / "course.yaml"))


def edit_course(path: Path, lesson_slug: str, **changes: Any) -> None:
    course = yaml.safe_load(path.read_text())
    for module in course["modules"]:
        for lesson in module["lessons"]:
            if lesson["slug"] == lesson_slug:
                lesson.update(changes)
    path.write_text(yaml.safe_dump(course, allow_unicode=True))


async def started(bot: Harness, user_id: int, name: str = "Alice") -> FakeUser:
    user = bot.user(user_id, name)
    await user.send("/start")
    return user


async def test_forged_callbacks_get_a_polite_answer_and_change_nothing(
    bot: Harness, engine: Engine
) -> None:
    alice = await started(bot, 501)
    before = await engine.stats()
    draft = next(m for m in await engine.modules(published_only=False) if not m.is_published)
    hidden_lesson = await lesson_id(engine, "generators")  # published, in a draft module
    forged = {
        LessonCb(owner=501, lesson_id=999_999, action=LessonAction.COMPLETE).pack(): NOT_AVAILABLE,
        LessonCb(owner=501, lesson_id=hidden_lesson, action=LessonAction.START).pack(): (
            NOT_AVAILABLE
        ),
        LessonCb(owner=501, lesson_id=await lesson_id(engine, "classes"), action="done").pack(): (
            NOT_AVAILABLE
        ),
        LessonCb(owner=501, lesson_id=await lesson_id(engine, "loops"), action="answer").pack(): (
            "This lesson has no challenge."
        ),
        ModuleCb(owner=501, module_id=draft.id).pack(): "This module is not available any more.",
        ModuleCb(owner=501, module_id=424_242).pack(): "This module is not available any more.",
    }
    malformed = [
        "l:501:1:win",
        "l:501:abc:done",
        "l:501:99999999999999999999:done",
        "l:501:-3:done",
        "m:501",
        "s:501:admin",
        "score:501:1:100",
        "🙂",
    ]
    for data, expected in forged.items():
        reply = await alice.press_data(data)
        assert reply.answer is not None and reply.answer["show_alert"] is True
        assert expected in reply.answer_text, data
        assert reply.texts == [], data
    for data in malformed:
        reply = await alice.press_data(data)
        assert reply.answer_text == "This button is out of date. Send /start for a fresh menu."
        assert reply.texts == [], data
    assert await engine.stats() == before
    assert set((await statuses(engine, 501)).values()) == {ProgressStatus.NOT_STARTED}


async def test_a_name_longer_than_the_engine_holds_is_cut(bot: Harness, engine: Engine) -> None:
    """Telegram's names are shorter; a Bot API server that sends longer ones is answered too."""
    long = bot.user(1109, "Ada" * 50, last_name="L" * 300, language_code="x" * 40)
    reply = await long.send("/start")
    assert reply.texts, "the learner got no answer"
    user = await engine.find_user(telegram_id=1109)
    assert user is not None and user.first_name == ("Ada" * 50)[:100]


async def test_someone_elses_buttons_do_nothing(bot: Harness, engine: Engine) -> None:
    alice, mallory = await started(bot, 601), await started(bot, 602, "Mallory")
    await alice.press("Modules")
    await alice.press("Python basics")
    await alice.press("Variables")
    alices_lesson = alice.screen()
    before = await engine.stats()

    for label in ("Start", "Answer", "Menu", "Python basics"):
        reply = await mallory.press(label, message=alices_lesson)
        assert reply.answer_text == "This button belongs to someone else's screen."
        assert reply.texts == []
    assert await engine.stats() == before
    assert bot.api.messages[601, alices_lesson["message_id"]] == alices_lesson


async def test_stale_buttons_for_an_unpublished_lesson(
    bot: Harness, engine: Engine, course_file: Path
) -> None:
    alice = await started(bot, 701)
    await alice.press("Modules")
    await alice.press("Python basics")
    module_screen = alice.screen()
    await alice.press("Variables")
    await alice.press("Start")
    lesson_screen = alice.screen()
    await alice.press("Answer")
    edit_course(course_file, "variables", published=False)
    await engine.load_content(course_file)
    before = await engine.stats()

    reply = await alice.press("Complete", message=lesson_screen)
    assert reply.answer_text is not None and NOT_AVAILABLE in reply.answer_text
    reply = await alice.press("Variables", message=module_screen)
    assert reply.answer_text is not None and NOT_AVAILABLE in reply.answer_text
    reply = await alice.send("5")  # the answer to a question that is gone
    assert NOT_AVAILABLE in reply.text
    reply = await alice.send("5")  # no longer answering: told how to answer
    assert "press 🧩 Answer first" in reply.text

    assert await engine.stats() == before
    assert "variables" not in await statuses(engine, 701)
    assert await earned(engine, 701) == set()
    reply = await alice.send("/modules")
    assert "0/2" in reply.text


async def test_a_flood_is_throttled_per_learner(bot: Harness, engine: Engine) -> None:
    alice, bob = await started(bot, 801), await started(bot, 802, "Bob")

    reply = await alice.flood(["/help"] * 12)
    assert sum(HELP in text for text in reply.texts) == 5  # the burst
    assert reply.texts.count(SLOW_DOWN) == 1  # once per burst, not an echo of the flood
    assert len(reply.texts) == 6

    assert HELP in (await bob.send("/help", pause=0)).text  # others are not affected
    bot.clock.advance(2)
    assert HELP in (await alice.send("/help", pause=0)).text  # and Alice recovers


async def test_admin_commands_only_for_admins(
    bot: Harness, engine: Engine, course_file: Path
) -> None:
    stranger = await started(bot, 901, "Eve")
    edit_course(course_file, "classes", published=True)

    for command in ("/stats", "/reload"):
        reply = await stranger.send(command)
        assert HELP in reply.text
        assert "users" not in reply.text
    await stranger.send("/modules")
    assert "Classes" not in (await stranger.press("Python basics")).text

    admin = await started(bot, ADMIN_ID, "Ada")
    reply = await admin.send("/stats")
    assert "📊 <b>Stats</b>" in reply.text and "users: 2" in reply.text
    reply = await admin.send("/reload")
    assert "📚 content: 0 created, 1 updated (python-basics/classes), 6 unchanged" in reply.text
    assert "🏆 rules: 0 created, 0 updated, 4 unchanged" in reply.text
    await stranger.send("/modules")
    assert "Classes" in (await stranger.press("Python basics")).text


async def test_unknown_commands_get_help_and_free_text_how_to_answer(bot: Harness) -> None:
    alice = await started(bot, 1001)
    reply = await alice.send("/unknown")
    assert HELP in reply.text and reply.methods == ["sendMessage"]
    for text in ("hello?", "42"):
        reply = await alice.send(text)
        assert reply.texts == ["To answer a challenge, open a lesson and press 🧩 Answer first."]
        assert set(alice.buttons()) == {"📚 Modules", "🏠 Menu"}


async def test_commands_before_start_ask_for_start(bot: Harness, engine: Engine) -> None:
    stranger = bot.user(1101, "Stranger")
    for command in ("/progress", "/achievements", "/modules", "/leaderboard"):
        reply = await stranger.send(command)
        assert reply.texts == ["Please send /start first."]
    assert await engine.find_user(telegram_id=1101) is None


async def test_a_blocked_chat_does_not_break_the_engine(
    bot: Harness, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    await started(bot, 1201)
    bot.api.blocked.add(1201)
    caplog.set_level(logging.INFO, logger="questline.adapters.telegram")

    result = await engine.record(
        Event(
            type=ActivityType.LESSON_COMPLETED,
            telegram_id=1201,
            lesson_id=await lesson_id(engine, "variables"),
        )
    )

    assert [award.slug for award in result.awards] == ["first-lesson"]
    assert await earned(engine, 1201) == {"first-lesson"}
    refused = await bot.api.wait_for(
        lambda call: call.chat_id == 1201 and call.text.startswith("🏆")
    )
    assert refused.method == "sendPhoto" and refused.text.startswith("🏆 First steps (+10)")
    assert "not delivered to 1201: Forbidden: bot was blocked by the user" in caplog.text


async def test_reload_sees_what_another_process_changed(
    bot: Harness, engine: Engine, db: AsyncEngine, tmp_path: Path
) -> None:
    admin = await started(bot, ADMIN_ID, "Ada")
    rule = {
        "slug": "regular",
        "type": "MILESTONE",
        "title": "Regular",
        "description": "Visit three times",
        "points": 5,
        "criteria": {">=": [{"var": "stats.logins"}, 3]},
    }
    (tmp_path / "regular.json").write_text(json.dumps(rule))
    elsewhere = Engine(bind=db, plugin_manager=build_plugin_manager(load_entry_points=False))
    await elsewhere.load_rules([tmp_path / "regular.json"])

    assert "Regular" not in (await admin.send("/achievements")).text
    reply = await admin.send("/reload")
    assert "🔄 rules and course re-read from the database" in reply.text
    assert "2 visits to go ▰▰▰▱▱▱▱▱▱▱" in (await admin.send("/achievements")).text
