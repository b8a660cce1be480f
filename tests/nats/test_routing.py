"""Partitions, derived keys and message ids: stable, in range, and never shared by two
different events or learners. Settings are refused in one line naming the variable."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from questline.adapters.nats.routing import (
    DERIVED_KEY_PREFIX,
    learner_ref,
    message_id,
    partition_of,
    with_key,
)
from questline.adapters.nats.settings import NatsSettings, NatsSettingsError
from questline.engine import Event
from questline.engine.idempotency import key_problem
from questline.rules.vocabulary import ActivityType

refs = st.one_of(
    st.integers(1, 2**31 - 1).map(lambda n: f"u{n}"),
    st.integers(1, 2**63 - 1).map(lambda n: f"t{n}"),
)
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
logins = st.builds(
    lambda user, moment, details: Event(
        type=ActivityType.LOGIN, user_id=user, occurred_at=moment, details=details
    ),
    st.integers(1, 2**31 - 1),
    moments,
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)
keys = st.text(
    st.characters(exclude_categories=["Cc", "Cs"], exclude_characters="\u2028\u2029"),
    min_size=1,
    max_size=100,
)


@given(refs, st.integers(1, 1024))
def test_partition_is_in_range_and_stable(ref: str, partitions: int) -> None:
    assert 0 <= partition_of(ref, partitions) < partitions
    assert partition_of(ref, partitions) == partition_of(ref, partitions)


def test_partitions_are_pinned() -> None:
    """The same learners land in the same partitions in every process and version (Python's
    str hash() differs between processes): these values must never change."""
    assert [partition_of(ref, 16) for ref in ("u1", "u42", "t123456789")] == [5, 15, 3]


@given(logins)
def test_derived_key_is_valid_and_deterministic(event: Event) -> None:
    keyed = with_key(event)
    assert keyed.idempotency_key is not None
    assert keyed.idempotency_key.startswith(DERIVED_KEY_PREFIX)
    assert key_problem(keyed.idempotency_key) is None
    assert with_key(Event.model_validate_json(event.model_dump_json())) == keyed


@given(logins, logins)
def test_different_events_get_different_derived_keys(first: Event, second: Event) -> None:
    if first != second:
        assert with_key(first).idempotency_key != with_key(second).idempotency_key


def test_an_events_own_key_is_kept() -> None:
    event = Event(type=ActivityType.LOGIN, user_id=1, idempotency_key="k 1")
    assert with_key(event) is event


@given(st.integers(1, 2**31 - 1), st.integers(1, 2**31 - 1), keys, keys)
def test_message_ids_differ_by_learner_and_key(
    user: int, other: int, key: str, other_key: str
) -> None:
    def msg_id(user_id: int, idempotency_key: str) -> str:
        event = Event(type=ActivityType.LOGIN, user_id=user_id, idempotency_key=idempotency_key)
        return message_id(event)

    assert msg_id(user, key) == msg_id(user, key)
    assert msg_id(user, key).isascii() and len(msg_id(user, key)) == 32
    if (user, key) != (other, other_key):
        assert msg_id(user, key) != msg_id(other, other_key)


def test_a_key_used_again_for_another_event_gets_another_message_id() -> None:
    """JetStream must not drop it as a duplicate: a worker has to refuse it (dead letter)."""
    login = Event(type=ActivityType.LOGIN, telegram_id=7, idempotency_key="k")
    completion = Event(
        type=ActivityType.LESSON_COMPLETED, telegram_id=7, lesson_id=2, idempotency_key="k"
    )
    other_lesson = completion.model_copy(update={"lesson_id": 3})
    later = login.model_copy(update={"occurred_at": login.occurred_at.replace(year=2030)})
    assert len({message_id(login), message_id(completion), message_id(other_lesson)}) == 3
    assert message_id(later) == message_id(login)  # the same event again: a replay


def test_learner_refs_tell_user_ids_from_telegram_ids() -> None:
    assert learner_ref(Event(type=ActivityType.LOGIN, user_id=5)) == "u5"
    assert learner_ref(Event(type=ActivityType.LOGIN, telegram_id=5)) == "t5"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PARTITIONS", "x", 'QUESTLINE_NATS_PARTITIONS="x" is not a whole number'),
        ("PARTITIONS", "0", "QUESTLINE_NATS_PARTITIONS must be 1 to 1024"),
        ("PARTITIONS", "5000", "QUESTLINE_NATS_PARTITIONS must be 1 to 1024"),
        ("BATCH", "0", "QUESTLINE_NATS_BATCH and QUESTLINE_NATS_MAX_DELIVER must be at least 1"),
        ("ACK_WAIT", "nan", 'QUESTLINE_NATS_ACK_WAIT="nan" is not a positive number of seconds'),
        ("LEASE_TTL", "-1", 'QUESTLINE_NATS_LEASE_TTL="-1" is not a positive number of seconds'),
        ("DUPLICATE_WINDOW", "2m", 'QUESTLINE_NATS_DUPLICATE_WINDOW="2m" is not a positive'),
        ("STREAM", "a.b", 'QUESTLINE_NATS_STREAM="a.b": use 1 to 32 letters'),
        ("SUBJECT", "a..b", 'QUESTLINE_NATS_SUBJECT="a..b": use dot-separated letters'),
    ],
)
def test_bad_settings_are_named(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv("QUESTLINE_NATS_URL", "nats://127.0.0.1:4222")
    monkeypatch.setenv(f"QUESTLINE_NATS_{name}", value)
    with pytest.raises(NatsSettingsError, match="^" + message.replace(".", r"\.")):
        NatsSettings.from_env()


@pytest.mark.parametrize("url", ["http://127.0.0.1:4222", "nats://a:4222, https://b:4222"])
def test_a_url_of_another_protocol_is_named(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("QUESTLINE_NATS_URL", url)
    with pytest.raises(NatsSettingsError, match="is not a NATS URL") as refused:
        NatsSettings.from_env()
    assert str(refused.value).startswith(f'QUESTLINE_NATS_URL="{url}": http')


def test_no_url_means_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QUESTLINE_NATS_URL", raising=False)
    assert NatsSettings.from_env() is None
