"""Numbers of seconds from environment variables (questline.environment)."""

from __future__ import annotations

import pytest

from questline.environment import seconds_from_env

NAME = "QUESTLINE_TEST_SECONDS"


class Refused(Exception):
    """The caller's settings error."""


@pytest.mark.parametrize(("raw", "seconds"), [("", 7.0), ("  ", 7.0), ("2.5", 2.5), (" 1e3 ", 1e3)])
def test_seconds_or_the_default(monkeypatch: pytest.MonkeyPatch, raw: str, seconds: float) -> None:
    monkeypatch.setenv(NAME, raw)
    assert seconds_from_env(NAME, 7.0, Refused) == seconds


@pytest.mark.parametrize("raw", ["0", "-3", "soon", "nan", "inf", "2m"])
def test_a_bad_value_is_named_with_the_variable(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv(NAME, raw)
    with pytest.raises(Refused) as refused:
        seconds_from_env(NAME, 7.0, Refused)
    assert str(refused.value) == f'{NAME}="{raw}" is not a positive number of seconds'


def test_a_long_value_is_shortened(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(NAME, "9" * 400 + "s")
    with pytest.raises(Refused) as refused:
        seconds_from_env(NAME, 7.0, Refused)
    assert str(refused.value) == f'{NAME}="{"9" * 64}…" is not a positive number of seconds'


@pytest.mark.parametrize(("raw", "seconds"), [("0", 0.0), ("", 7.0), ("3", 3.0)])
def test_zero_where_it_is_allowed(raw: str, seconds: float) -> None:
    environ = {NAME: raw}
    assert seconds_from_env(NAME, 7.0, Refused, zero_allowed=True, environ=environ) == seconds


@pytest.mark.parametrize("raw", ["-1", "inf", "soon"])
def test_a_bad_value_where_zero_is_allowed(raw: str) -> None:
    with pytest.raises(Refused) as refused:
        seconds_from_env(NAME, 7.0, Refused, zero_allowed=True, environ={NAME: raw})
    assert str(refused.value) == f'{NAME}="{raw}" is not a number of seconds from 0'
