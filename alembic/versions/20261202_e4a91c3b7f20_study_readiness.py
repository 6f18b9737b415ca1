"""Study readiness: the panel contact and discreet mode, per-round visits, manual reminders, panel mail texts,
honorarium payments and comment redaction.

``panels.contact_*``: the contact shown on every panellist page and mail.  ``panels.discreet`` and
``discreet_name``: topic-neutral mail subjects, sender name and cards.  ``round_visits``: a panellist's first visit
in each round ("opened" on the monitor).  ``rounds.reminded_at``: the last reminder sent by hand.  ``mail_texts``:
a panel's own wording of a kind of mail.  ``payments``: honoraria paid.  ``ratings.comment_edited_at``: a
facilitator redacted the comment (the wording before is in the audit trail).

Revision ID: e4a91c3b7f20
Revises: b7e2c94d1a53
Create Date: 2026-12-02 14:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC

from alembic import op

revision: str = "e4a91c3b7f20"
down_revision: str | None = "b7e2c94d1a53"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, DateTimeUTC(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("panels") as batch:
        batch.add_column(sa.Column("contact_name", sa.String(length=200), nullable=False, server_default=""))
        batch.add_column(sa.Column("contact_email", sa.String(length=320), nullable=False, server_default=""))
        batch.add_column(sa.Column("contact_phone", sa.String(length=50), nullable=False, server_default=""))
        batch.add_column(sa.Column("discreet", sa.Boolean(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("discreet_name", sa.String(length=100), nullable=False, server_default=""))
    with op.batch_alter_table("rounds") as batch:
        batch.add_column(_when("reminded_at", nullable=True))
    with op.batch_alter_table("ratings") as batch:
        batch.add_column(_when("comment_edited_at", nullable=True))
    op.create_table(
        "round_visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("panellist_id", sa.Integer(), nullable=False),
        _when("opened_at"),
        sa.ForeignKeyConstraint(
            ["panellist_id"],
            ["panellists.id"],
            name=op.f("fk_round_visits_panellist_id_panellists"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["rounds.id"], name=op.f("fk_round_visits_round_id_rounds"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round_visits")),
        sa.UniqueConstraint("round_id", "panellist_id", name=op.f("uq_round_visits_round_id_panellist_id")),
    )
    op.create_index(op.f("ix_round_visits_panellist_id"), "round_visits", ["panellist_id"])
    op.create_table(
        "mail_texts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("panel_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        _when("updated_at"),
        sa.ForeignKeyConstraint(
            ["panel_id"], ["panels.id"], name=op.f("fk_mail_texts_panel_id_panels"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_texts")),
        sa.UniqueConstraint("panel_id", "kind", name=op.f("uq_mail_texts_panel_id_kind")),
    )
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("panel_id", sa.Integer(), nullable=False),
        sa.Column("panellist_id", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        _when("created_at"),
        sa.ForeignKeyConstraint(
            ["panel_id"], ["panels.id"], name=op.f("fk_payments_panel_id_panels"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["panellist_id"],
            ["panellists.id"],
            name=op.f("fk_payments_panellist_id_panellists"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["accounts.id"],
            name=op.f("fk_payments_recorded_by_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
    )
    op.create_index(op.f("ix_payments_panel_id"), "payments", ["panel_id"])
    op.create_index(op.f("ix_payments_panellist_id"), "payments", ["panellist_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_payments_panellist_id"), table_name="payments")
    op.drop_index(op.f("ix_payments_panel_id"), table_name="payments")
    op.drop_table("payments")
    op.drop_table("mail_texts")
    op.drop_index(op.f("ix_round_visits_panellist_id"), table_name="round_visits")
    op.drop_table("round_visits")
    with op.batch_alter_table("ratings") as batch:
        batch.drop_column("comment_edited_at")
    with op.batch_alter_table("rounds") as batch:
        batch.drop_column("reminded_at")
    with op.batch_alter_table("panels") as batch:
        batch.drop_column("discreet_name")
        batch.drop_column("discreet")
        batch.drop_column("contact_phone")
        batch.drop_column("contact_email")
        batch.drop_column("contact_name")
