"""`questline webhooks …` and `questline plugins`, run as the installed console script."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from questline_webhooks import store
from support import Answer, Receiver, complete_first_lesson, drain, run_cli

from questline.adapters.cli import main
from questline.engine import Engine


async def test_questline_plugins_lists_the_installed_distribution(cli_env: dict[str, str]) -> None:
    code, out, _ = await run_cli(cli_env, "plugins")
    assert code == 0
    row = next(line for line in out.splitlines() if "webhooks" in line)
    assert "questline-webhooks" in row


async def test_add_shows_the_secret_once_and_list_never(
    engine: Engine, cli_env: dict[str, str]
) -> None:
    code, out, err = await run_cli(
        cli_env, "webhooks", "add", "https://example.org/hooks", "--event", "award.granted"
    )
    assert (code, err) == (0, "")
    [endpoint] = await store.list_endpoints(engine.db)
    assert endpoint.secret.startswith("whsec_")
    assert out.splitlines() == [
        f"endpoint {endpoint.id}: https://example.org/hooks (award.granted)",
        f"secret: {endpoint.secret}",
        "Store the secret now: it is shown only this once.",
    ]

    code, listed, _ = await run_cli(cli_env, "webhooks", "list")
    assert code == 0
    assert "https://example.org/hooks" in listed and "enabled" in listed
    assert endpoint.secret not in listed

    code, out, _ = await run_cli(cli_env, "webhooks", "remove", str(endpoint.id))
    assert (code, out) == (0, f"endpoint {endpoint.id} removed\n")
    assert await store.list_endpoints(engine.db) == []


async def test_deliveries_show_status_codes(
    engine: Engine, receiver: Receiver, cli_env: dict[str, str]
) -> None:
    endpoint = await store.add_endpoint(engine.db, receiver.url, ["award.granted"])
    receiver.secret = endpoint.secret
    await complete_first_lesson(engine, 301)
    await drain(engine)

    code, out, _ = await run_cli(cli_env, "webhooks", "deliveries", "--endpoint", str(endpoint.id))

    assert code == 0
    assert "award.granted" in out and " 200 " in out
    assert receiver.received[0].webhook_id in out


@pytest.mark.usefixtures("db")
def test_bad_input_gets_one_clear_line(cli_env: dict[str, str]) -> None:
    cases = [
        (("add", "ftp://example.org", "--event", "award.granted"), "is not an http(s) URL"),
        (("add", "http://[::1", "--event", "award.granted"), "is not a URL: Invalid IPv6 URL"),
        (("add", "http://h:99999/", "--event", "award.granted"), "is not a URL: Port out of"),
        (("add", "https://example.org"), "Missing option '--event'"),
        (("add", "https://example.org", "--event", "award.lost"), "'award.lost' is not one of"),
        (("remove", "99"), "Error: no webhook endpoint 99"),
        (("enable", "99"), "Error: no webhook endpoint 99"),
        (("redeliver", "99"), "Error: no webhook delivery 99"),
        (("deliveries", "--endpoint", "99"), "Error: no webhook endpoint 99"),
    ]
    runner = CliRunner()
    for args, message in cases:
        result = runner.invoke(main, ["webhooks", *args], env=cli_env)
        assert result.exit_code != 0, args
        assert message in result.stderr, (args, result.stderr)
        assert result.exception is None or isinstance(result.exception, SystemExit)
    listed = runner.invoke(main, ["webhooks", "list"], env=cli_env)
    assert listed.stdout == "no webhook endpoints\n"


async def test_redelivery_to_a_disabled_endpoint_says_to_enable_it(
    engine: Engine, receiver: Receiver, cli_env: dict[str, str]
) -> None:
    endpoint = await store.add_endpoint(engine.db, receiver.url, ["award.granted"])
    receiver.secret = endpoint.secret
    receiver.script.append(Answer(410))
    await complete_first_lesson(engine, 302)
    await drain(engine)
    [attempt] = await store.recent_deliveries(engine.db, endpoint_id=endpoint.id, limit=5)

    code, _, err = await run_cli(cli_env, "webhooks", "redeliver", str(attempt.id))
    assert code == 1
    assert f"endpoint {endpoint.id} is disabled (the receiver answered 410 Gone)" in err

    code, _, _ = await run_cli(cli_env, "webhooks", "enable", str(endpoint.id))
    assert code == 0
    code, out, _ = await run_cli(cli_env, "webhooks", "redeliver", str(attempt.id))
    assert (code, out) == (0, f"delivery {attempt.id} sent again: HTTP 200\n")
