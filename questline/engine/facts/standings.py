"""The leaderboard facts: the learner's rank and score on the last finished week's and month's
boards, so that rules can award "Top 3 this week" when the week closes.

A finished period's board no longer changes (unless events dated in it arrive late), so the
value is the same whenever it is read; it costs one ranked read per board asked for.
"""

from __future__ import annotations

from typing import Any

from questline.engine import leaderboard
from questline.engine.facts.provider import FactContext
from questline.engine.periods import PERIODS, last_finished
from questline.rules.facts import FactSpec, default_catalog


class LeaderboardFacts:
    namespace = "leaderboard"

    def specs(self) -> list[FactSpec]:
        return default_catalog().in_namespace(self.namespace)

    async def provide(self, context: FactContext, names: frozenset[str]) -> dict[str, Any]:
        facts: dict[str, Any] = {}
        for period in PERIODS:
            prefix = f"last_{period.value}_"
            if not any(name.startswith(prefix) for name in names):
                continue
            board = leaderboard.period_board(
                period, last_finished(period, context.moment, context.zone)
            )
            entry = await leaderboard.standing(context.session, context.user.id, board)
            facts[f"{prefix}rank"] = entry.rank if entry else None
            facts[f"{prefix}score"] = entry.total_score if entry else 0
        return facts
