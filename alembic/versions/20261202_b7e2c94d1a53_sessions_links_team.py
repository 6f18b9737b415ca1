"""Server-side account sessions, one-time links, team invitations and the "contact panellists" grant.

``account_sessions``: one row per signed-in browser, revoked by signing out; the cookie names its id.
``team_invitations`` and ``one_time_links``: an owner invites a person without an account, and password resets,
by a link that works once (only its SHA-256 is stored).  ``panel_access.can_contact``: the owner lets a
facilitator see panellists' e-mail addresses.  ``outbox_messages.link_id``: the one-time link a mail carries.  ``panellists.sessions_ended_at``: a panellist's
"Sign out" ends every session cookie started before it.

Revision ID: b7e2c94d1a53
Revises: 6c1f0a7d2e41
Create Date: 2026-12-02 07:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC

from alembic import op

revision: str = "b7e2c94d1a53"
down_revision: str | None = "6c1f0a7d2e41"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, DateTimeUTC(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "account_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        _when("created_at"),
        _when("last_seen_at"),
        _when("revoked_at", nullable=True),
        sa.Column("user_agent", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_account_sessions_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_sessions")),
    )
    op.create_index(op.f("ix_account_sessions_account_id"), "account_sessions", ["account_id"])
    op.create_table(
        "team_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("panel_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("can_contact", sa.Boolean(), nullable=False),
        sa.Column("invited_by_id", sa.Integer(), nullable=True),
        _when("created_at"),
        _when("accepted_at", nullable=True),
        _when("revoked_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["invited_by_id"],
            ["accounts.id"],
            name=op.f("fk_team_invitations_invited_by_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["panel_id"], ["panels.id"], name=op.f("fk_team_invitations_panel_id_panels"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_invitations")),
    )
    op.create_index(op.f("ix_team_invitations_panel_id"), "team_invitations", ["panel_id"])
    op.create_table(
        "one_time_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=24), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("invitation_id", sa.Integer(), nullable=True),
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        _when("created_at"),
        _when("expires_at"),
        _when("used_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_one_time_links_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["team_invitations.id"],
            name=op.f("fk_one_time_links_invitation_id_team_invitations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_one_time_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_one_time_links_token_hash")),
    )
    op.create_index(op.f("ix_one_time_links_account_id"), "one_time_links", ["account_id"])
    op.create_index(op.f("ix_one_time_links_invitation_id"), "one_time_links", ["invitation_id"])
    with op.batch_alter_table("panel_access") as batch:
        batch.add_column(sa.Column("can_contact", sa.Boolean(), nullable=False, server_default="0"))
    with op.batch_alter_table("panellists") as batch:
        batch.add_column(_when("sessions_ended_at", nullable=True))
    with op.batch_alter_table("outbox_messages") as batch:
        batch.add_column(sa.Column("link_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_outbox_messages_link_id_one_time_links"),
            "one_time_links",
            ["link_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox_messages") as batch:
        batch.drop_constraint(op.f("fk_outbox_messages_link_id_one_time_links"), type_="foreignkey")
        batch.drop_column("link_id")
    with op.batch_alter_table("panellists") as batch:
        batch.drop_column("sessions_ended_at")
    with op.batch_alter_table("panel_access") as batch:
        batch.drop_column("can_contact")
    op.drop_index(op.f("ix_one_time_links_invitation_id"), table_name="one_time_links")
    op.drop_index(op.f("ix_one_time_links_account_id"), table_name="one_time_links")
    op.drop_table("one_time_links")
    op.drop_index(op.f("ix_team_invitations_panel_id"), table_name="team_invitations")
    op.drop_table("team_invitations")
    op.drop_index(op.f("ix_account_sessions_account_id"), table_name="account_sessions")
    op.drop_table("account_sessions")
