"""A partial index of the ratings that carry a comment or a reason, for the round results page's counts and lists.

A national round holds millions of ratings and a few thousand texts; ix_ratings_texts (round, statement)
covers only the ratings with a comment or a reason, so counting and paging them reads those alone.

Revision ID: 76bd7595984d
Revises: a63bc3132155
Create Date: 2026-12-03 14:25:33
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "76bd7595984d"
down_revision: str | None = "a63bc3132155"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ratings_texts",
            ["round_id", "statement_id"],
            unique=False,
            postgresql_where=sa.text("comment <> '' OR reason <> ''"),
            sqlite_where=sa.text("comment <> '' OR reason <> ''"),
        )


def downgrade() -> None:
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_ratings_texts",
            postgresql_where=sa.text("comment <> '' OR reason <> ''"),
            sqlite_where=sa.text("comment <> '' OR reason <> ''"),
        )
