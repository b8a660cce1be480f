"""Content and achievements in more than one language.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02

Additive only. The seed tables keep each text in its document's own language; these tables
hold the others, one row per module, lesson or achievement and language.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LANGUAGE = sa.String(length=8)


def _table(name: str, owner: str, parent: str, *columns: sa.Column) -> None:
    op.create_table(
        name,
        sa.Column(owner, sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("language", LANGUAGE, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        *columns,
        sa.ForeignKeyConstraint(
            [owner], [f"{parent}.id"], name=f"fk_{name}_{owner}_{parent}", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint(owner, "language", name=f"pk_{name}"),
    )


def upgrade() -> None:
    _table(
        "module_translations",
        "module_id",
        "modules",
        sa.Column("description", sa.Text(), nullable=True),
    )
    _table(
        "lesson_translations",
        "lesson_id",
        "lessons",
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("question", sa.Text(), nullable=True),
        sa.Column("answers", sa.Text(), nullable=True),
        sa.Column("options", sa.Text(), nullable=True),
    )
    _table(
        "achievement_translations",
        "achievement_id",
        "achievements",
        sa.Column("description", sa.Text(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("achievement_translations")
    op.drop_table("lesson_translations")
    op.drop_table("module_translations")
