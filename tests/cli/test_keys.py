"""`questline keys create|list|revoke` and `questline serve`'s settings, through the real
entry point of the `http` plugin."""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from questline.engine import Engine
from tests.cli.conftest import Invoke


def test_http_plugin_is_registered_by_entry_point(invoke: Invoke) -> None:
    (http,) = [ep for ep in entry_points(group="questline") if ep.name == "http"]
    assert http.value == "questline.adapters.http.plugin:plugin"
    listed = invoke("plugins")
    assert "http" in listed.output and "questline_award_granted" in listed.output
    assert "serve" in invoke("--help").output


def test_create_prints_the_key_once_and_list_never_shows_it(
    invoke: Invoke, engine_call: Callable[..., Any]
) -> None:
    created = invoke(
        "keys", "create", "--name", "web", "--scope", "events:write", "--scope", "read"
    )
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip()
    assert secret.startswith("ql_") and len(secret) > 40
    assert "store it now" in created.stderr

    async def authenticate(engine: Engine) -> Any:
        return await engine.authenticate(secret)

    key = engine_call(authenticate)
    assert key.name == "web" and sorted(key.scopes) == ["events:write", "read"]

    listed = invoke("keys", "list")
    assert listed.exit_code == 0
    assert key.prefix in listed.output and "events:write read" in listed.output
    # the secret part may itself hold "_" (URL-safe base64): cut the known prefix, not split
    hidden = secret.removeprefix(f"ql_{key.prefix}_")
    assert secret not in listed.output and hidden not in listed.output


def test_revoke_by_prefix_or_id(invoke: Invoke, engine_call: Callable[..., Any]) -> None:
    first = invoke("keys", "create", "--name", "a", "--scope", "read").stdout.strip()
    second = invoke("keys", "create", "--name", "b", "--scope", "admin").stdout.strip()
    prefix = first.split("_")[1]
    result = invoke("keys", "revoke", prefix)
    assert result.exit_code == 0, result.output
    assert f"({prefix}) for a" in result.output

    async def both(engine: Engine) -> list[Any]:
        return [await engine.authenticate(first), await engine.authenticate(second)]

    assert engine_call(both)[0] is None and engine_call(both)[1] is not None
    key_id = engine_call(both)[1].id
    assert invoke("keys", "revoke", str(key_id)).exit_code == 0
    assert engine_call(both) == [None, None]
    assert "revoked" in invoke("keys", "list").output


def test_bad_key_commands_say_what_is_wrong(invoke: Invoke) -> None:
    result = invoke("keys", "create", "--name", "web", "--scope", "write")
    assert result.exit_code == 2
    assert "'write' is not one of 'events:write', 'read', 'admin'" in result.output
    result = invoke("keys", "create", "--name", "   ", "--scope", "read")
    assert result.exit_code == 1
    assert result.output == "Error: a key's name must be 1 to 100 characters\n"
    result = invoke("keys", "revoke", "nope")
    assert result.output == 'Error: no API key with id or prefix "nope"\n'


def test_serve_refuses_bad_settings_and_unmigrated_databases(invoke: Invoke, tmp_path) -> None:
    result = invoke("serve", QUESTLINE_HTTP_RATE_LIMIT="lots")
    assert result.exit_code == 1
    assert 'QUESTLINE_HTTP_RATE_LIMIT="lots" is not a rate limit' in result.output
    result = invoke("serve", QUESTLINE_HTTP_MAX_BODY_BYTES="1k")
    assert 'QUESTLINE_HTTP_MAX_BODY_BYTES="1k" is not a whole number of bytes' in result.output
    empty = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    result = invoke("serve", "--port", "0", DATABASE_URL=empty)
    assert result.exit_code == 1
    assert "is not migrated (its file does not exist); run `questline db upgrade`" in result.output
    assert not (tmp_path / "empty.db").exists()  # not created empty by connecting
