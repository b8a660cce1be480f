"""Streak freezes as a walk over a learner's days: which missed days freezes cover, and the runs.

The rules (docs/engine.md, "Streak freezes"), as a pure function of the learning days and the
grants, so the answer does not depend on the order events arrive in:

- a *missed day* is a day without learning after the learner's first learning day;
- a freeze granted on local day ``g`` can cover missed days after ``g``;
- walking forward, each missed day uses one freeze while the learner holds one (oldest missed
  day first), whether or not the rest of the gap is covered;
- a gap of missed days all covered keeps the streak: the learning days on both sides are one
  run. A run counts learning days; a covered day keeps a run alive but adds nothing to it.

Every figure here grows with the freezes given, not with the history.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import accumulate


@dataclass
class Ledger:
    """A learner's grants as (local day, amount), and the days freezes cover."""

    grants: list[tuple[int, int]] = field(default_factory=list)
    frozen: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.grants.sort()
        self._index()

    def _index(self) -> None:
        self._days = [day for day, _ in self.grants]
        self._sums = list(accumulate(amount for _, amount in self.grants))

    def add(self, day: int, amount: int) -> None:
        insort(self.grants, (day, amount))
        self._index()

    def granted_before(self, day: int) -> int:
        """Freezes granted on days before `day`: those that can cover `day`."""
        count = bisect_left(self._days, day)
        return self._sums[count - 1] if count else 0

    def next_growth(self, day: int) -> int | None:
        """The first day after `day` that more freezes can cover, if any."""
        count = bisect_left(self._days, day)
        return self._days[count] + 1 if count < len(self._days) else None


def cover(ledger: Ledger, first: int, last: int, used: int) -> tuple[list[int], bool]:
    """The missed days in [first, last] that freezes cover, `used` freezes having been used
    before `first`; and whether they are all covered."""
    days: list[int] = []
    day = first
    while day <= last:
        balance = ledger.granted_before(day) - used - len(days)
        if balance > 0:
            taken = min(balance, last - day + 1)
            days.extend(range(day, day + taken))
            day += taken
            continue
        growth = ledger.next_growth(day)
        if growth is None or growth > last:
            break
        day = growth
    return days, len(days) == max(last - first + 1, 0)


@dataclass(frozen=True)
class Cursor:
    """The walk at the end of local day `day`: the learning days of the run still alive there
    (0 once a missed day went uncovered), freezes used so far, and whether any learning day
    came yet."""

    day: int
    run: int
    used: int
    started: bool


@dataclass(frozen=True)
class Walked:
    """What a walk found: covered days, the cursor at its last learning day, the longest run
    met, the run each learning day ended up in, and the peaks: the learning days on which the
    run grew past every run before it in the walk (the cursor's too), with that run."""

    frozen: list[int]
    cursor: Cursor
    longest: int
    runs: dict[int, int]
    peaks: list[tuple[int, int]]


def walk(ledger: Ledger, cursor: Cursor, learning: Iterable[int]) -> Walked:
    """Walk the learning days after `cursor.day` in order, covering missed days greedily."""
    frozen: list[int] = []
    longest = 0
    chains: list[list[int]] = []
    finals: list[int] = []
    peaks: list[tuple[int, int]] = []
    best = cursor.run
    for day in sorted(learning):
        days: list[int] = []
        whole = False
        if cursor.started:
            days, whole = cover(ledger, cursor.day + 1, day - 1, cursor.used)
            frozen += days
        alive = whole and cursor.run > 0
        run = cursor.run + 1 if alive else 1
        if not alive or not chains:
            chains.append([])
            finals.append(0)
        chains[-1].append(day)
        finals[-1] = run
        if run > best:
            peaks.append((day, run))
            best = run
        longest = max(longest, run)
        cursor = Cursor(day, run, cursor.used + len(days), True)
    runs = {day: final for chain, final in zip(chains, finals, strict=True) for day in chain}
    return Walked(frozen, cursor, longest, runs, peaks)
