"""API keys checked against the database, and what happens while it cannot answer.

Every request's key is looked up (revoking a key takes effect at once). A key the database
confirmed within the last `trust` seconds is still admitted while the database is away or
does not answer within `patience` seconds: with QUESTLINE_NATS_URL set, events are queued
through a database outage, as docs/scale-out.md promises; every other route needs the
database anyway. A key never confirmed, or confirmed longer ago, gets 503 then.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from questline.engine import Engine
from questline.engine.api_keys import ApiKeyView, digest
from questline.engine.db import database_unreachable

log = logging.getLogger(__name__)
TRUST_SECONDS = 600.0
PATIENCE_SECONDS = 2.0
REMEMBERED = 1_000
"""Keys confirmed recently that are remembered (by the digest of their secret); the least
recently used are forgotten first."""


class KeyCheck:
    """Looks each key up in the engine's database, remembering recent confirmations."""

    def __init__(
        self,
        engine: Engine,
        *,
        trust: float = TRUST_SECONDS,
        patience: float = PATIENCE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.trust = trust
        self.patience = patience
        self.clock = clock
        self._confirmed: OrderedDict[str, tuple[ApiKeyView, float]] = OrderedDict()

    async def live_key(self, secret: str) -> ApiKeyView | None:
        """The live key `secret` is, or None (never issued, or revoked). A database error
        is raised unless the key was confirmed within `trust` seconds."""
        fingerprint = digest(secret)
        recent = self._recent(fingerprint)
        try:
            if recent is None:
                key = await self.engine.authenticate(secret)
            else:
                async with asyncio.timeout(self.patience) as deadline:
                    key = await self.engine.authenticate(secret)
        except TimeoutError:
            if recent is None or not deadline.expired():
                raise
            log.warning("key %s: no answer from the database; admitted as confirmed", recent.prefix)
            return recent
        except (DBAPIError, PoolTimeout) as error:
            if recent is None or not database_unreachable(error):
                raise
            log.warning("key %s: the database is away; admitted as confirmed", recent.prefix)
            return recent
        self._confirmed.pop(fingerprint, None)
        if key is not None:
            self._confirmed[fingerprint] = (key, self.clock())
            while len(self._confirmed) > REMEMBERED:
                self._confirmed.popitem(last=False)
        return key

    def _recent(self, fingerprint: str) -> ApiKeyView | None:
        confirmed = self._confirmed.get(fingerprint)
        if confirmed is None or self.clock() - confirmed[1] > self.trust:
            return None
        return confirmed[0]
