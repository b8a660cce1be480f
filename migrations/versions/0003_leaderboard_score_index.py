"""Leaderboard: an index on (total_score, user_id) for ranking without scanning the table.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

Additive only. Competition ranks are "1 + learners with a higher total", and the display order
is (total_score desc, user_id): both are range reads on this index.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_leaderboard_cache_total_score_user_id",
        "leaderboard_cache",
        ["total_score", "user_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_leaderboard_cache_total_score_user_id", table_name="leaderboard_cache")
