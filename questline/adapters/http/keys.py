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
        self._trusting = False
        """Whether keys are admitted on their confirmation alone (the database is away)."""

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
            return self._on_trust(recent, f"no answer within {self.patience:g} s")
        except (DBAPIError, PoolTimeout) as error:
            if recent is None or not database_unreachable(error):
                raise
            return self._on_trust(recent, "the database is away")
        if self._trusting:
            self._trusting = False
            log.warning("the database answers again: API keys are looked up again")
        self._confirmed.pop(fingerprint, None)
        if key is not None:
            self._confirmed[fingerprint] = (key, self.clock())
            while len(self._confirmed) > REMEMBERED:
                self._confirmed.popitem(last=False)
        return key

    def _on_trust(self, key: ApiKeyView, reason: str) -> ApiKeyView:
        """Admit `key` as recently confirmed, saying so once per outage."""
        if not self._trusting:
            self._trusting = True
            log.warning(
                "API keys: %s; keys confirmed in the last %g s are admitted meanwhile",
                reason,
                self.trust,
            )
        return key

    def _recent(self, fingerprint: str) -> ApiKeyView | None:
        confirmed = self._confirmed.get(fingerprint)
        if confirmed is None or self.clock() - confirmed[1] > self.trust:
            return None
        return confirmed[0]
