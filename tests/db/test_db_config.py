"""DATABASE_URL handling, engine options and the one-line configuration errors."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from sqlalchemy import URL, make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine

from questline.engine import db as dbmod
from questline.engine.db import (
    DEFAULT_DATABASE_URL,
    DatabaseConfigError,
    check_connection,
    create_engine,
    database_timeout,
    database_url,
    is_mysql,
    is_sqlite,
    missing_sqlite_file,
)


def test_default_is_sqlite_file_in_cwd(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert database_url() == DEFAULT_DATABASE_URL == "sqlite+aiosqlite:///questline.db"
    monkeypatch.setenv("DATABASE_URL", "  ")
    assert database_url() == DEFAULT_DATABASE_URL


def test_environment_selects_database(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "mysql+aiomysql://u:p@db.invalid:3306/q"
    monkeypatch.setenv("DATABASE_URL", url)
    assert database_url() == url
    engine = create_engine()
    assert is_mysql(engine) and engine.url.database == "q"
    assert engine.url.query["charset"] == "utf8mb4"


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("not a url", "not a valid database URL"),
        ("postgresql+asyncpg://u:secret@h/db", "unsupported database driver 'postgresql+asyncpg'"),
        ("sqlite:///x.db", "unsupported database driver 'sqlite'"),
        ("postgres://u:secret@h/db", "unsupported database driver 'postgres'"),
        ("mysql+pymysql://u:secret@h/db", "unsupported database driver 'mysql+pymysql'"),
        ("mysql+aiomysql://u:secret@h:3306/", "names no database"),
    ],
)
def test_bad_urls_give_one_line(url: str, fragment: str) -> None:
    with pytest.raises(DatabaseConfigError) as info:
        create_engine(url)
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message
    assert "secret" not in message


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def refusal(url: str | URL) -> str:
    """The DatabaseConfigError `check_connection` raises for `url`, as text."""
    engine = create_engine(url)
    try:
        with pytest.raises(DatabaseConfigError) as info:
            await check_connection(engine)
    finally:
        await engine.dispose()
    return str(info.value)


async def test_unreachable_mysql_is_one_line_without_password() -> None:
    message = await refusal(f"mysql+aiomysql://someone:s3cr3t@127.0.0.1:{_closed_port()}/q")
    assert message.startswith("cannot connect to database mysql+aiomysql://someone:***@127.0.0.1")
    assert "s3cr3t" not in message and "\n" not in message


async def test_unopenable_sqlite_file_is_one_line(tmp_path) -> None:
    message = await refusal(f"sqlite+aiosqlite:///{tmp_path}/missing/dir/x.db")
    assert "cannot connect to database" in message


@pytest.mark.mysql_only
async def test_wrong_mysql_password_is_one_line(database_url: str) -> None:
    message = await refusal(make_url(database_url).set(password="definitely-wrong-pw"))
    assert "definitely-wrong-pw" not in message
    assert "Access denied" in message


@pytest.mark.mysql_only
async def test_a_database_named_after_the_password_is_shown_whole(database_url: str) -> None:
    """The password is hidden where it stands alone, not inside other names."""
    url = make_url(database_url)
    password = str(url.password)
    message = await refusal(url.set(database=f"{password}_nonexistent_db"))
    assert f"'{password}_nonexistent_db'" in message


async def test_check_connection_passes_on_test_database(db: AsyncEngine) -> None:
    await check_connection(db)


async def test_sqlite_enforces_foreign_keys(db: AsyncEngine) -> None:
    if not is_sqlite(db):
        pytest.skip("SQLite only")
    async with db.connect() as connection:
        assert await connection.scalar(text("PRAGMA foreign_keys")) == 1


async def test_in_memory_sqlite_shares_one_connection() -> None:
    engine = create_engine("sqlite+aiosqlite://")
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (x INTEGER)"))
        async with engine.connect() as connection:
            assert await connection.scalar(text("SELECT count(*) FROM t")) == 0
            assert await connection.scalar(text("PRAGMA foreign_keys")) == 1
    finally:
        await engine.dispose()


def test_only_a_sqlite_file_that_does_not_exist_is_missing(tmp_path: Path) -> None:
    (tmp_path / "there.db").touch()
    assert missing_sqlite_file(make_url(f"sqlite+aiosqlite:///{tmp_path / 'gone.db'}"))
    not_missing = [
        f"sqlite+aiosqlite:///{tmp_path / 'there.db'}",
        "sqlite+aiosqlite://",
        "sqlite+aiosqlite:///:memory:",
        f"sqlite+aiosqlite:///file:{tmp_path / 'gone.db'}?mode=memory&uri=true",
        "mysql+aiomysql://user:secret@localhost:3306/db",
    ]
    assert not any(missing_sqlite_file(make_url(url)) for url in not_missing)


def test_is_mysql_accepts_strings_urls_and_engines() -> None:
    assert is_mysql("mysql+aiomysql://u@h/d")
    assert not is_mysql("sqlite+aiosqlite:///x.db")
    assert is_sqlite(dbmod.parse_database_url("sqlite+aiosqlite:///x.db"))
    assert dbmod.safe_url("mysql+aiomysql://u:pw@h/d") == "mysql+aiomysql://u:***@h/d"


async def _pragmas(url: str) -> tuple[str, int, int]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return (
                await connection.scalar(text("PRAGMA journal_mode")),
                await connection.scalar(text("PRAGMA synchronous")),
                await connection.scalar(text("PRAGMA busy_timeout")),
            )
    finally:
        await engine.dispose()


async def test_sqlite_files_use_wal_with_normal_sync_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(dbmod.SQLITE_SYNCHRONOUS_ENV, raising=False)
    # synchronous: 1 = NORMAL, 2 = FULL
    assert await _pragmas(f"sqlite+aiosqlite:///{tmp_path}/a.db") == ("wal", 1, 30_000)
    monkeypatch.setenv(dbmod.SQLITE_SYNCHRONOUS_ENV, "full")
    assert await _pragmas(f"sqlite+aiosqlite:///{tmp_path}/b.db") == ("wal", 2, 30_000)


def test_an_unknown_sqlite_synchronous_setting_is_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(dbmod.SQLITE_SYNCHRONOUS_ENV, "OFF")
    with pytest.raises(DatabaseConfigError) as info:
        create_engine("sqlite+aiosqlite:///x.db")
    assert str(info.value) == "QUESTLINE_SQLITE_SYNCHRONOUS must be NORMAL or FULL, not 'OFF'"


@pytest.mark.parametrize("value", ["0", "-3", "soon", "nan", "inf"])
def test_bad_database_timeouts_are_named(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUESTLINE_DB_TIMEOUT", value)
    with pytest.raises(DatabaseConfigError) as refused:
        database_timeout()
    assert (
        str(refused.value) == f'QUESTLINE_DB_TIMEOUT="{value}" is not a positive number of seconds'
    )
