"""`questline bot` as an operator runs it: a real process polling the fake server."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import SetMyCommands
from click.testing import CliRunner

from questline.adapters.telegram.cli import bot_command, describe
from questline.engine import Engine
from tests.telegram.fake_api import TOKEN, FakeBotAPI

QUESTLINE = str(Path(sys.executable).with_name("questline"))
SECRET = TOKEN.partition(":")[2]
EXIT_SECONDS = 60  # generous: importing aiogram alone can take seconds on a busy machine
WAITING = "; trying again every second until the Telegram Bot API answers"


def environment(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "QUESTLINE_"))}
    return env | values


async def run_until_exit(env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        QUESTLINE, "bot", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(process.communicate(), EXIT_SECONDS)
    return process.returncode or 0, output.decode()


def test_without_a_token_one_clear_line() -> None:
    result = CliRunner().invoke(bot_command, env={"TELEGRAM_BOT_TOKEN": ""})
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "Error: TELEGRAM_BOT_TOKEN is not set: put the token @BotFather gave you there"
    ]


def test_a_malformed_token_or_api_base_is_named_not_shown() -> None:
    env = {"TELEGRAM_BOT_TOKEN": "not a token"}
    result = CliRunner().invoke(bot_command, env=env)
    assert result.output.splitlines() == [
        "Error: TELEGRAM_BOT_TOKEN does not look like a bot token (digits:secret)"
    ]
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE": "localhost:8081"}
    result = CliRunner().invoke(bot_command, env=env)
    assert result.exit_code == 1
    assert SECRET not in result.output
    assert "TELEGRAM_API_BASE must be an http(s) URL" in result.output


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_runs_answers_and_stops_gracefully_on_a_signal(
    fake_api: FakeBotAPI, engine: Engine, database_url: str, stop: signal.Signals
) -> None:
    env = environment(
        TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE=fake_api.base_url, DATABASE_URL=database_url
    )
    process = await asyncio.create_subprocess_exec(
        QUESTLINE, "bot", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        await fake_api.wait_for(lambda call: call.method == "getUpdates", EXIT_SECONDS)
        user = {"id": 77, "is_bot": False, "first_name": "Olga", "language_code": "ru"}
        chat = {"id": 77, "type": "private", "first_name": "Olga"}
        await fake_api.push(
            {"message": {"message_id": 1, "date": 0, "chat": chat, "from": user, "text": "/start"}}
        )
        greeting = await fake_api.wait_for(lambda call: call.chat_id == 77, EXIT_SECONDS)
        assert "Привет, Olga!" in greeting.params["text"]
        registered = await engine.find_user(telegram_id=77)
        assert registered is not None and registered.language_code == "ru"
        commands = [call for call in fake_api.calls if call.method == "setMyCommands"]
        assert {call.params.get("language_code") for call in commands} == {None, "ru"}

        process.send_signal(stop)
        output, _ = await asyncio.wait_for(process.communicate(), EXIT_SECONDS)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    log = output.decode()
    assert process.returncode == 0, log
    assert f"Received {stop.name} signal" in log
    assert "telegram adapter stopped" in log
    assert log.rstrip().endswith("questline bot stopped")
    assert SECRET not in log


async def test_a_rejected_token_is_one_line_and_never_printed(
    fake_api: FakeBotAPI, engine: Engine, database_url: str
) -> None:
    wrong = TOKEN.replace("fake", "gone")
    env = environment(
        TELEGRAM_BOT_TOKEN=wrong, TELEGRAM_API_BASE=fake_api.base_url, DATABASE_URL=database_url
    )
    code, log = await run_until_exit(env)
    assert code == 1
    assert log.splitlines()[-1] == "Error: Telegram rejected TELEGRAM_BOT_TOKEN (Unauthorized)"
    assert wrong.partition(":")[2] not in log


async def test_an_unreachable_api_is_waited_for_until_a_signal(
    engine: Engine, database_url: str, unused_tcp_port: int
) -> None:
    env = environment(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE=f"http://127.0.0.1:{unused_tcp_port}",
        DATABASE_URL=database_url,
    )
    process = await asyncio.create_subprocess_exec(
        QUESTLINE, "bot", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        while WAITING not in "".join(lines[-1:]):
            line = await asyncio.wait_for(process.stdout.readline(), EXIT_SECONDS)
            assert line, "".join(lines)
            lines.append(line.decode())
        await asyncio.sleep(2.5)  # tried again twice meanwhile, said once
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), EXIT_SECONDS)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    log = "".join(lines) + output.decode()
    assert process.returncode == 0, log
    assert log.count(WAITING) == 1
    assert "ClientConnectorError" in lines[-1]
    assert "Received SIGTERM signal" in log
    assert log.rstrip().endswith("questline bot stopped")
    assert SECRET not in log


def test_a_bot_api_error_that_stops_the_bot_is_one_line() -> None:
    error = TelegramRetryAfter(SetMyCommands(commands=[]), "Too Many Requests: retry after 45", 45)
    assert len(str(error).splitlines()) > 1  # aiogram's own text
    text = describe(error)
    assert "\n" not in text and "retry after 45" in text
    assert text.startswith("the Telegram Bot API failed: Telegram server says - Flood control")


async def test_kill_9_between_answer_and_the_answer_loses_nothing(
    fake_api: FakeBotAPI, engine: Engine, database_url: str
) -> None:
    """The real `questline bot`: "Answer" pressed, the process killed with SIGKILL, started
    again; the answer sent then is judged (the state was in the database)."""
    from questline.adapters.telegram.callbacks import LessonAction, LessonCb
    from questline.engine import Event, UserProfile
    from questline.rules.vocabulary import ActivityType
    from tests.telegram.fake_api import BOT_USER
    from tests.telegram.test_flow import solves

    learner = {"id": 1701, "is_bot": False, "first_name": "Kim", "language_code": "en"}
    chat = {"id": 1701, "type": "private", "first_name": "Kim"}
    await engine.register_user(UserProfile(telegram_id=1701, first_name="Kim"))
    variables = next(
        lesson.id
        for module in await engine.modules()
        for lesson in module.lessons
        if lesson.slug == "variables"
    )
    await engine.record(
        Event(type=ActivityType.LESSON_STARTED, telegram_id=1701, lesson_id=variables)
    )
    answer = LessonCb(owner=1701, lesson_id=variables, action=LessonAction.ANSWER).pack()
    card = {
        "message_id": fake_api.new_message_id(),
        "date": 0,
        "chat": chat,
        "from": BOT_USER,
        "text": "<b>Variables</b>",
        "reply_markup": {"inline_keyboard": [[{"text": "🧩 Answer", "callback_data": answer}]]},
    }
    fake_api.messages[1701, card["message_id"]] = card
    env = environment(
        TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE=fake_api.base_url, DATABASE_URL=database_url
    )

    async def start() -> asyncio.subprocess.Process:
        polls = sum(call.method == "getUpdates" for call in fake_api.calls)
        process = await asyncio.create_subprocess_exec(
            QUESTLINE, "bot", env=env, stdout=asyncio.subprocess.DEVNULL, stderr=None
        )
        await fake_api.wait_for(
            lambda call: (
                call.method == "getUpdates"
                and sum(c.method == "getUpdates" for c in fake_api.calls) > polls
            ),
            EXIT_SECONDS,
        )
        return process

    process = await start()
    try:
        fake_api.callback_answers["kill-1"] = None
        await fake_api.push(
            {
                "callback_query": {
                    "id": "kill-1",
                    "from": learner,
                    "chat_instance": "c",
                    "message": card,
                    "data": answer,
                }
            }
        )
        await fake_api.wait_for(
            lambda call: call.method == "answerCallbackQuery" and call.status == 200, EXIT_SECONDS
        )
        process.kill()  # SIGKILL: no shutdown, nothing flushed on the way out
        await process.wait()
        key = f"questline:{BOT_USER['id']}:1701:1701:default"
        assert (await engine.conversation(key)).state == "Challenge:answering"

        process = await start()
        await fake_api.push(
            {"message": {"message_id": 99, "date": 0, "chat": chat, "from": learner, "text": "5"}}
        )
        judged = await fake_api.wait_for(
            lambda call: call.chat_id == 1701 and "Correct!" in call.params.get("text", ""),
            EXIT_SECONDS,
        )
        assert judged.params["text"].startswith("✅ Correct! +10 points.")
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), EXIT_SECONDS) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert await solves(engine.db, 1701) == 1
    assert (await engine.conversation(key)).state is None


async def test_a_database_that_is_down_is_one_line(unused_tcp_port: int) -> None:
    url = f"mysql+aiomysql://questline:secret@127.0.0.1:{unused_tcp_port}/questline"
    code, log = await run_until_exit(environment(TELEGRAM_BOT_TOKEN=TOKEN, DATABASE_URL=url))
    assert code == 1
    assert log.splitlines() == [
        "Error: cannot connect to database "
        f"mysql+aiomysql://questline:***@127.0.0.1:{unused_tcp_port}/questline?charset=utf8mb4: "
        "(2003, \"Can't connect to MySQL server on '127.0.0.1'\")"
    ]


async def test_a_database_never_migrated_is_one_line(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    code, log = await run_until_exit(environment(TELEGRAM_BOT_TOKEN=TOKEN, DATABASE_URL=url))
    assert code == 1
    assert log.splitlines() == [
        f"Error: database {url} is not migrated (its file does not exist); "
        "run `questline db upgrade`"
    ]
    assert not (tmp_path / "empty.db").exists()
