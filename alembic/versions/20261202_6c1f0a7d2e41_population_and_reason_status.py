"""analysis population, and moderation of reasons

``panels.analysis_population``: which answers a round's result counts. Panels whose rule was locked before this
revision froze their results over every saved answer, so they keep ``all``; every other panel starts with the
new default, ``submitted``.

``ratings.reason_status``: a reason for a rating outside last round's middle half is moderated on its own, like
a comment; reasons given before this revision start as pending.

Revision ID: 6c1f0a7d2e41
Revises: 20915be3f830
Create Date: 2026-12-02 01:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6c1f0a7d2e41"
down_revision: str | None = "20915be3f830"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("panels") as batch:
        batch.add_column(
            sa.Column("analysis_population", sa.String(length=16), nullable=False, server_default="submitted")
        )
    op.execute("UPDATE panels SET analysis_population = 'all' WHERE rule_locked_at IS NOT NULL")
    with op.batch_alter_table("ratings") as batch:
        batch.add_column(
            sa.Column("reason_status", sa.String(length=16), nullable=False, server_default="pending")
        )


def downgrade() -> None:
    with op.batch_alter_table("ratings") as batch:
        batch.drop_column("reason_status")
    with op.batch_alter_table("panels") as batch:
        batch.drop_column("analysis_population")
