"""Connecting to NATS and declaring the streams questline uses (idempotent)."""

from __future__ import annotations

import asyncio
import logging

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError

from questline.adapters.nats.settings import NatsSettings
from questline.engine.errors import QuestlineError

log = logging.getLogger(__name__)
CONNECT_TIMEOUT = 5  # seconds the first connection may take, attempts included
RECONNECT_WAIT = 0.5  # seconds between reconnection attempts (forever)


class NatsUnavailable(QuestlineError):
    """NATS could not be reached, or refused what questline asked of it."""


class ConnectionLog:
    """Logs a connection's errors, each once until another error or a reconnection: NATS
    away would otherwise log the same failed attempt twice a second for as long as it is."""

    def __init__(self) -> None:
        self.last: str | None = None

    async def error(self, error: Exception) -> None:
        said = (str(error) or type(error).__name__).removeprefix("nats: ")
        if said != self.last:
            log.info("nats: %s", said)
            self.last = said

    async def reconnected(self) -> None:
        if self.last is not None:
            log.info("nats: connected again")
            self.last = None


async def connect(settings: NatsSettings, errors: ConnectionLog | None = None) -> Client:
    """A client that, once connected, reconnects forever; NatsUnavailable if no connection
    is made within CONNECT_TIMEOUT. `errors` logs the connection's errors (pass the same one
    to attempts made one after another, to log a lasting failure once)."""
    errors = errors or ConnectionLog()
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT):
            return await nats.connect(
                settings.url,
                allow_reconnect=True,
                max_reconnect_attempts=-1,
                reconnect_time_wait=RECONNECT_WAIT,
                error_cb=errors.error,
                reconnected_cb=errors.reconnected,
            )
    except TimeoutError:
        raise NatsUnavailable(
            f"cannot connect to NATS at {settings.url} (no answer in {CONNECT_TIMEOUT} s)"
        ) from None
    except Exception as error:  # nats-py raises several unrelated types for an unreachable URL
        raise NatsUnavailable(
            f"cannot connect to NATS at {settings.url}: {error or type(error).__name__}"
        ) from None


def stream_configs(settings: NatsSettings) -> list[StreamConfig]:
    """The events stream (a work queue: a message leaves once recorded and acked), the
    awards stream and the dead-letter stream."""
    return [
        StreamConfig(
            name=settings.stream,
            subjects=settings.partition_subjects(),
            retention=RetentionPolicy.WORK_QUEUE,
            storage=StorageType.FILE,
            duplicate_window=settings.duplicate_window,
        ),
        StreamConfig(
            name=settings.awards_stream,
            subjects=[settings.awards_subject("*")],
            storage=StorageType.FILE,
            duplicate_window=settings.duplicate_window,
        ),
        StreamConfig(
            name=settings.dead_stream,
            subjects=[settings.dead_subject("*")],
            storage=StorageType.FILE,
        ),
    ]


async def close_quietly(client: Client) -> None:
    """Close `client`; a connection that is already gone (NATS away) is only logged, so that
    it never hides the error that ended the work."""
    try:
        await client.close()
    except Exception as error:  # nats-py raises OSError, its own errors, timeouts
        log.info("nats: closing a lost connection: %s", str(error) or type(error).__name__)


async def ensure_streams(js: JetStreamContext, settings: NatsSettings) -> None:
    """Create the streams, or check that existing ones fit; NatsUnavailable names the stream,
    and for the events stream a partition count other than this process's."""
    for config in stream_configs(settings):
        try:
            await js.add_stream(config)
        except BadRequestError as error:
            if config.name == settings.stream:
                await _fit_events_stream(js, settings, config, error.description)
                continue
            try:
                await js.stream_info(config.name)
            except NotFoundError:  # not there: another stream holds its subjects
                raise _subjects_taken(config, config.subjects or [], error.description) from None
            raise _other_configuration(config, error.description) from None


async def _fit_events_stream(
    js: JetStreamContext, settings: NatsSettings, config: StreamConfig, why: str | None
) -> None:
    """An events stream made before subjects were listed per partition (one wildcard) gets
    them; one listing another number of partitions is refused."""
    try:
        found = (await js.stream_info(settings.stream)).config.subjects or []
    except NotFoundError:  # not there: another stream holds its subjects
        raise _subjects_taken(config, [settings.events_subject("*")], why) from None
    if found == [settings.events_subject("*")]:
        try:
            await js.update_stream(config)
        except BadRequestError as error:
            raise _other_configuration(config, error.description) from None
        log.info("nats: stream %s now lists its %d partitions", config.name, settings.partitions)
        return
    raise _misfit(settings, found) or _other_configuration(config, why)


def _misfit(settings: NatsSettings, found: list[str]) -> NatsUnavailable | None:
    """Why the events stream, listing the subjects `found`, does not fit `settings` (None if
    it fits: its partition subjects, or the one wildcard of earlier versions)."""
    if found in (settings.partition_subjects(), [settings.events_subject("*")]):
        return None
    if all(subject.startswith(settings.events_subject("")) for subject in found):
        return NatsUnavailable(
            f"NATS stream {settings.stream} has {len(found)} partitions and "
            f"QUESTLINE_NATS_PARTITIONS is {settings.partitions}: every process must use the "
            "stream's number (change it only with an empty stream, deleted first)"
        )
    return NatsUnavailable(
        f"NATS stream {settings.stream} holds the subjects {', '.join(found[:2])}…, not "
        f"those of QUESTLINE_NATS_SUBJECT={settings.subject} ({settings.events_subject('N')}): "
        "every process must use the stream's subject"
    )


async def check_events_stream(js: JetStreamContext, settings: NatsSettings) -> None:
    """Refuse settings that do not fit the existing events stream (another number of
    partitions, another subject) without changing anything; no stream is not a misfit."""
    try:
        config = (await js.stream_info(settings.stream)).config
    except NotFoundError:
        return
    misfit = _misfit(settings, config.subjects or [])
    if misfit is not None:
        raise misfit
    wanted = stream_configs(settings)[0]
    if (config.retention, config.storage) != (wanted.retention, wanted.storage):
        kept = f"retention {_name(config.retention)}, storage {_name(config.storage)}"
        raise _other_configuration(wanted, kept)


def _name(setting: object) -> str:
    return str(getattr(setting, "value", setting))


def _subjects_taken(config: StreamConfig, subjects: list[str], why: str | None) -> NatsUnavailable:
    return NatsUnavailable(
        f"NATS stream {config.name} cannot be created ({why}): another stream takes subjects "
        f"under {', '.join(subjects)}; delete it or choose another QUESTLINE_NATS_SUBJECT"
    )


def _other_configuration(config: StreamConfig, why: str | None) -> NatsUnavailable:
    return NatsUnavailable(
        f"NATS stream {config.name} exists with another configuration ({why}); "
        "delete it or choose another QUESTLINE_NATS_STREAM"
    )
