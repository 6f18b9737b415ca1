"""Languages: a panel is offered in a primary language and further ones, and answers record their language.

``panels.language`` is the primary language; ``panel_languages`` the further ones, with who translated each;
``translations`` holds each panellist-facing text in a further language, keyed by what it translates
("statement.12", "mail.invitation.subject"), with the primary-language source it was made from.  ``ratings``,
``rank_answers``, ``idea_answers``, ``baseline_answers`` and ``submissions`` gain ``language``: the language
the panellist answered in (None for answers saved before this revision).

Revision ID: 7e2e4dc65ee4
Revises: 94167228f8a6
Create Date: 2026-12-03 07:26:46
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa

from alembic import op

revision: str = "7e2e4dc65ee4"
down_revision: str | None = "94167228f8a6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "panel_languages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("panel_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("translated_by", sa.Text(), nullable=False),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["panel_id"], ["panels.id"], name=op.f("fk_panel_languages_panel_id_panels"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_panel_languages")),
        sa.UniqueConstraint("panel_id", "language", name=op.f("uq_panel_languages_panel_id_language")),
    )
    op.create_table(
        "translations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("panel_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["panel_id"], ["panels.id"], name=op.f("fk_translations_panel_id_panels"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_translations")),
        sa.UniqueConstraint(
            "panel_id", "language", "key", name=op.f("uq_translations_panel_id_language_key")
        ),
    )
    with op.batch_alter_table("baseline_answers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=10), nullable=True))

    with op.batch_alter_table("idea_answers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=10), nullable=True))

    with op.batch_alter_table("panels", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=10), server_default="en", nullable=False))

    with op.batch_alter_table("rank_answers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=10), nullable=True))

    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=10), nullable=True))

    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_column("language")

    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.drop_column("language")

    with op.batch_alter_table("rank_answers", schema=None) as batch_op:
        batch_op.drop_column("language")

    with op.batch_alter_table("panels", schema=None) as batch_op:
        batch_op.drop_column("language")

    with op.batch_alter_table("idea_answers", schema=None) as batch_op:
        batch_op.drop_column("language")

    with op.batch_alter_table("baseline_answers", schema=None) as batch_op:
        batch_op.drop_column("language")

    op.drop_table("translations")
    op.drop_table("panel_languages")
