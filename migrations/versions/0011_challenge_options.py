"""Multiple-choice challenges: the options a challenge offers as buttons.

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-02

Additive only. ``lesson_challenges.options`` is a JSON list of strings, NULL for a challenge
answered in free text only.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("lesson_challenges") as batch:
        batch.add_column(sa.Column("options", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lesson_challenges") as batch:
        batch.drop_column("options")
