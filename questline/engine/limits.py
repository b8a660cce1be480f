"""What the engine accepts: number ranges its columns hold, and the limits of an event.

Each is checked before the database is touched, so a value is refused with the same message on
SQLite (which would store an INTEGER up to 2^63 - 1, and text of any length) and on
MySQL/MariaDB (which would refuse or cut it, with no line number).
"""

from __future__ import annotations

from datetime import UTC, datetime

INT_MIN = -(2**31)
INT_MAX = 2**31 - 1
"""``INTEGER`` columns: user and lesson ids, course ``order``, durations, points, scores."""

BIGINT_MAX = 2**63 - 1
"""``BIGINT`` columns: ``users.telegram_id``."""

MAX_DETAILS_DEPTH = 16
"""Deepest nesting of objects and lists in an event's ``details`` (the object is level 1)."""

MAX_DETAILS_BYTES = 16 * 1024
"""Largest ``details`` as compact UTF-8 JSON; ``activity_log.details`` is ``TEXT``, which holds
65,535 bytes on MySQL/MariaDB, so the stored form (with the score added) always fits."""

EARLIEST = datetime(1000, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=UTC)
"""``occurred_at`` bounds: the years MySQL/MariaDB ``DATETIME`` stores (1000-9999), a day inside
each end so that the time is a valid date in every time zone too."""
