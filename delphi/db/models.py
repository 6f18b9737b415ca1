"""The data model (BRIEF §3): SQLAlchemy 2 declarative classes, one table each.

Conventions
-----------
* Integer surrogate keys; every timestamp is timezone-aware UTC (:class:`DateTimeUTC`).
* States are short strings from :mod:`delphi.domain` (no database enum types).
* Constraint names follow :data:`NAMING_CONVENTION` so Alembic migrations are stable across dialects.
* A panellist's personal data (e-mail, name) can be erased; the pseudonym and ratings stay.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import (
    text as sql_text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from delphi import domain

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: DateTimeUTC(timezone=True), dict[str, Any]: JSON, list[Any]: JSON}


class Account(Base):
    """A facilitator, researcher or admin who logs in with e-mail and password."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # stored lower-cased
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=domain.AccountRole.FACILITATOR)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]


class ApiToken(Base):
    """A per-account API token; only the SHA-256 of the token is stored.

    ``scopes`` is space-separated (:data:`delphi.domain.TokenScope`): ``read`` reads, ``read write`` also
    changes panels through the API.  A cookie session never writes through the API.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(50), default=domain.TokenScope.READ)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class IdempotencyKey(Base):
    """The first answer to an API request sent with an ``Idempotency-Key`` header, kept to answer its retries.

    One row per account and key, written in the same transaction as the change it answers, so a request that
    failed leaves none and its retry runs afresh.  ``fingerprint`` is the SHA-256 (hex) of the method, path
    and body: the same key with another request is refused.  ``body`` is the JSON answer as sent, ``status``
    its HTTP status.  Rows older than :data:`delphi.accounts.idempotency.KEEP` are deleted.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("account_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None]
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class AccountSession(Base):
    """One signed-in browser of an account: the session cookie names its ``id``.

    The session is live while ``revoked_at`` is unset, ``last_seen_at`` is within the idle lifetime and
    ``created_at`` within the absolute one (:class:`delphi.settings.SessionSettings`).  Signing out revokes it;
    "sign out everywhere", a password change or reset, a role change and deactivation revoke the account's others.
    """

    __tablename__ = "account_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    #: A short description of the browser ("Firefox on Windows"), shown on the account page; never the full header.
    user_agent: Mapped[str] = mapped_column(String(100), default="")


class OneTimeLink(Base):
    """A link mailed to one address that works once, until ``expires_at``: a password reset or a team invitation.

    Its token is derived from the secret key, the row id and ``nonce`` (:func:`delphi.security.one_time_token`);
    only its SHA-256 is stored, and the outbox keeps a placeholder that delivery fills (like panellist links).
    ``purpose`` is a :class:`delphi.domain.LinkPurpose`; ``account_id`` is set for a reset, ``invitation_id``
    for an invitation.  ``used_at`` marks it spent.
    """

    __tablename__ = "one_time_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(24))
    email: Mapped[str] = mapped_column(String(320))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("team_invitations.id", ondelete="CASCADE"), index=True
    )
    nonce: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class TeamInvitation(Base):
    """The owner's invitation of a person without an account to a panel, as ``role`` (facilitator or
    researcher); accepting it (through its :class:`OneTimeLink`) creates the account and its panel access."""

    __tablename__ = "team_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("panels.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(16))
    #: The invitee will see panellists' e-mail addresses (see :attr:`PanelAccess.can_contact`).
    can_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    accepted_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class Panel(Base):
    """One Delphi study: its scale, consensus rule and settings."""

    __tablename__ = "panels"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    consent_text: Mapped[str] = mapped_column(Text, default="")
    scale_min: Mapped[int] = mapped_column(Integer, default=1)
    scale_max: Mapped[int] = mapped_column(Integer, default=9)
    #: One label per scale point, from scale_min to scale_max; "" where a point has no label.
    scale_labels: Mapped[list[Any]] = mapped_column(default=list)
    allow_unable: Mapped[bool] = mapped_column(Boolean, default=True)
    unable_label: Mapped[str] = mapped_column(String(100), default="Unable to rate")
    #: :meth:`delphi.stats.ConsensusRule.to_dict` of the consensus rule.
    rule: Mapped[dict[str, Any]] = mapped_column(default=dict)
    rule_locked_at: Mapped[datetime | None]
    #: Set when the rule was changed after it was locked; every report shows it.
    rule_changed_after_lock: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Which answers count (:class:`delphi.domain.AnalysisPopulation`); locked with the rule.
    analysis_population: Mapped[str] = mapped_column(
        String(16), default=domain.AnalysisPopulation.SUBMITTED, server_default="submitted"
    )
    quantile_method: Mapped[str] = mapped_column(String(16), default="linear")
    unable_policy: Mapped[str] = mapped_column(String(16), default="exclude")
    max_rounds: Mapped[int] = mapped_column(Integer, default=3)
    #: Groups with fewer ratings than this are suppressed in panellist feedback.
    k_min: Mapped[int] = mapped_column(Integer, default=3)
    #: Honorarium per completed round in minor units (pence); None when unpaid.
    honorarium_minor: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    suggestions_after_round1: Mapped[bool] = mapped_column(Boolean, default=False)
    ask_reason_outside_iqr: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The panel contact shown on every panellist page and in every mail ("" when not set).
    contact_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    contact_email: Mapped[str] = mapped_column(String(320), default="", server_default="")
    contact_phone: Mapped[str] = mapped_column(String(50), default="", server_default="")
    #: Discreet mode: mail subjects, the sender name and printed cards use ``discreet_name`` and never the title.
    discreet: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    #: The topic-neutral name used in discreet mode, e.g. "Service feedback study".
    discreet_name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    #: The consensus rule for ranking questions: Kendall's W at least this (0-1); locked with ``rule``.
    ranking_w_min: Mapped[float] = mapped_column(Float, default=0.7, server_default="0.7")
    #: The primary language (a BCP 47 tag with a shipped catalog, e.g. "en", "cy"): what the facilitator writes
    #: in, and the language of results and exports.  Further languages are :class:`PanelLanguage` rows.
    language: Mapped[str] = mapped_column(String(10), default="en", server_default="en")
    status: Mapped[str] = mapped_column(String(16), default=domain.PanelStatus.DRAFT)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    groups: Mapped[list[StakeholderGroup]] = relationship(
        back_populates="panel", order_by="StakeholderGroup.position", lazy="raise"
    )


class PanelLanguage(Base):
    """A further language a panel is offered in (besides ``Panel.language``), with who translated it."""

    __tablename__ = "panel_languages"
    __table_args__ = (UniqueConstraint("panel_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("panels.id", ondelete="CASCADE"))
    #: A BCP 47 tag with a shipped catalog ("cy", "es", "pt-BR"), never the panel's primary language.
    language: Mapped[str] = mapped_column(String(10))
    #: Credit for the translation as the facilitator enters it ("Translated by ..."); "" when not given.
    translated_by: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Translation(Base):
    """One panellist-facing text of a panel in a further language (:mod:`delphi.panels.translations`).

    ``key`` names what is translated ("statement.12", "panel.consent_text", "mail.invitation.subject"...);
    ``source`` is the primary-language text the translation was made from, so a translation whose source has
    changed since is known to be out of date.
    """

    __tablename__ = "translations"
    __table_args__ = (UniqueConstraint("panel_id", "language", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("panels.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(10))
    key: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PanelAccess(Base):
    __tablename__ = "panel_access"
    __table_args__ = (UniqueConstraint("panel_id", "account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("panels.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    #: The owner let this facilitator see panellists' e-mail addresses and the pseudonym key ("contact
    #: panellists"); owners always may, researchers never.
    can_contact: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StakeholderGroup(Base):
    __tablename__ = "stakeholder_groups"
    __table_args__ = (UniqueConstraint("panel_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("panels.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    #: Marks the group whose view the divergence flag compares against the others (e.g. service users).
    is_lived_experience: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)

    panel: Mapped[Panel] = relationship(back_populates="groups", lazy="raise")


class Panellist(Base):
    """A person invited to a panel; known to others only by pseudonym."""

    __tablename__ = "panellists"
    __table_args__ = (
        UniqueConstraint("panel_id", "email"),
        UniqueConstraint("panel_id", "pseudonym"),
        Index("ix_panellists_panel_id_status", "panel_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("panels.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("stakeholder_groups.id"), index=True)
    #: None once the facilitator has erased the person's data.
    email: Mapped[str | None] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200), default="")
    pseudonym: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(10), default="en")
    status: Mapped[str] = mapped_column(String(16), default=domain.PanellistStatus.INVITED)
    #: SHA-256 hex of the current link token; the token itself is never stored.
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_issued_at: Mapped[datetime | None]
    #: Bumped when a link is re-issued, so sessions made with the old link stop working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    #: "Sign out" or "Quick exit": every session cookie started before this is ended (the link still works).
    sessions_ended_at: Mapped[datetime | None]
    #: When the panellist answered (or passed over) the panel's baseline questions; None before.
    baseline_at: Mapped[datetime | None]
    first_visit_at: Mapped[datetime | None]
    consented_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]
    erased_at: Mapped[datetime | None]
    bounced_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Statement(Base):
    """A draft recommendation; a rewording is a new row whose ``parent_id`` points at the previous version."""

    __tablename__ = "statements"
    __table_args__ = (Index("ix_statements_panel_id_position", "panel_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("panels.id", ondelete="CASCADE"))
    section: Mapped[str] = mapped_column(String(200), default="")
    text: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("statements.id"), index=True)
    #: 1 for an original statement, parent's version + 1 for a rewording.
    version: Mapped[int] = mapped_column(Integer, default=1)
    origin: Mapped[str] = mapped_column(String(16), default=domain.StatementOrigin.FACILITATOR)
    #: Round number in which a panellist suggested it (origin "panellist").
    origin_round: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=domain.StatementStatus.ACTIVE)
    #: Round number in which the status last changed (consensus reached, dropped...).
    status_round: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Round(Base):
    """A round of rating: a set of timestamps plus the statements it asks."""

    __tablename__ = "rounds"
    __table_args__ = (UniqueConstraint("panel_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("panels.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    #: What the round asks (:class:`delphi.domain.RoundKind`): ratings (and rankings), or open questions.
    kind: Mapped[str] = mapped_column(String(16), default=domain.RoundKind.RATING, server_default="rating")
    status: Mapped[str] = mapped_column(String(16), default=domain.RoundStatus.DRAFT)
    opens_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]
    #: Hours before ``closes_at`` at which reminders go, e.g. [168, 48].
    reminder_offsets_hours: Mapped[list[Any]] = mapped_column(default=list)
    #: Offsets already sent, so a reminder goes once per offset.
    reminders_sent: Mapped[list[Any]] = mapped_column(default=list)
    #: When the last reminder sent by hand ("Send a reminder now") went; None when none was.
    reminded_at: Mapped[datetime | None]
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RoundStatement(Base):
    """A statement asked in a round, with its position and (after close) its outcome."""

    __tablename__ = "round_statements"
    __table_args__ = (UniqueConstraint("round_id", "statement_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    #: Verdict under the panel's rule at close: in, out, none, insufficient.
    verdict: Mapped[str | None] = mapped_column(String(16))
    #: Flags at close: divergent groups, suppressed groups, verdict sensitive to the definition, stability...
    outcome: Mapped[dict[str, Any]] = mapped_column(default=dict)


#: The ratings that carry a comment or a reason: the few the moderation lists and their counts read.
_HAS_TEXT = "comment <> '' OR reason <> ''"


class Rating(Base):
    """One panellist's answer to one statement in one round; saved one at a time.

    ``ix_ratings_texts`` is partial (only the ratings with a comment or a reason), so the round results page
    counts and lists a national round's few thousand texts without reading its millions of ratings.
    """

    __tablename__ = "ratings"
    __table_args__ = (
        UniqueConstraint("round_id", "statement_id", "panellist_id"),
        Index("ix_ratings_round_id_panellist_id", "round_id", "panellist_id"),
        Index(
            "ix_ratings_texts",
            "round_id",
            "statement_id",
            postgresql_where=sql_text(_HAS_TEXT),
            sqlite_where=sql_text(_HAS_TEXT),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id"))
    panellist_id: Mapped[int] = mapped_column(ForeignKey("panellists.id", ondelete="CASCADE"))
    #: A point on the panel's scale; None when unanswered or "unable".
    value: Mapped[int | None] = mapped_column(Integer)
    unable: Mapped[bool] = mapped_column(Boolean, default=False)
    comment: Mapped[str] = mapped_column(Text, default="")
    comment_status: Mapped[str] = mapped_column(String(16), default=domain.CommentStatus.PENDING)
    #: When a facilitator last edited (redacted) ``comment``; the wording before is in the audit trail.
    comment_edited_at: Mapped[datetime | None]
    #: The panellist's reason for a rating outside last round's IQR, when the panel asks for one.
    reason: Mapped[str] = mapped_column(Text, default="")
    #: Moderation of ``reason``, apart from the comment's (see :func:`delphi.rounds.moderation.moderate`).
    reason_status: Mapped[str] = mapped_column(
        String(16), default=domain.CommentStatus.PENDING, server_default=domain.CommentStatus.PENDING.value
    )
    #: The language the panellist answered in (their page's language when saved); None before languages were
    #: recorded.
    language: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RoundVisit(Base):
    """A panellist's first visit to their link while ``round_id`` was open: "opened" on the monitor."""

    __tablename__ = "round_visits"
    __table_args__ = (UniqueConstraint("round_id", "panellist_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    panellist_id: Mapped[int] = mapped_column(ForeignKey("panellists.id", ondelete="CASCADE"), index=True)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)


class Submission(Base):
    """Marks a panellist's round complete; at most one per (round, panellist)."""

    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("round_id", "panellist_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    panellist_id: Mapped[int] = mapped_column(ForeignKey("panellists.id", ondelete="CASCADE"), index=True)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The language the panellist answered in (their page's language when saved); None before languages were
    #: recorded.
    language: Mapped[str | None] = mapped_column(String(10))


class Suggestion(Base):
    """A new statement or a rewording proposed by a panellist, reviewed by the facilitator."""

    __tablename__ = "suggestions"

    id: Mapped[int] = mapped_column(primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("panels.id", ondelete="CASCADE"), index=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    panellist_id: Mapped[int | None] = mapped_column(ForeignKey("panellists.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16), default=domain.SuggestionKind.NEW)
    #: The statement a rewording is for.
    statement_id: Mapped[int | None] = mapped_column(ForeignKey("statements.id"))
    section: Mapped[str] = mapped_column(String(200), default="")
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=domain.SuggestionStatus.PENDING)
    #: The statement created or merged into when the suggestion was accepted.
    result_statement_id: Mapped[int | None] = mapped_column(ForeignKey("statements.id"))
    reviewed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RoundResult(Base):
    """Frozen statistics per (round, statement, scope) computed at close; never edited.

    ``scope`` is ``"all"`` for the pooled panel or ``"group:<id>"``; ``stats`` holds every statistic of
    :meth:`delphi.stats.RoundAnalysis.records` (None for NaN), the typed columns repeat the ones queried most.
    """

    __tablename__ = "round_results"
    __table_args__ = (UniqueConstraint("round_id", "statement_id", "scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id"), index=True)
    scope: Mapped[str] = mapped_column(String(32))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("stakeholder_groups.id"))
    n: Mapped[int] = mapped_column(Integer)
    n_unable: Mapped[int] = mapped_column(Integer)
    median: Mapped[float | None] = mapped_column(Float)
    q1: Mapped[float | None] = mapped_column(Float)
    q3: Mapped[float | None] = mapped_column(Float)
    iqr: Mapped[float | None] = mapped_column(Float)
    pct_agree: Mapped[float | None] = mapped_column(Float)
    pct_disagree: Mapped[float | None] = mapped_column(Float)
    verdict: Mapped[str] = mapped_column(String(16))
    #: Counts per scale point, scale_min first.
    counts: Mapped[list[Any]] = mapped_column(default=list)
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class OpenQuestion(Base):
    """A question of a panel's open round ("What should services do to ...?"), answered in free text."""

    __tablename__ = "open_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("panels.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    #: A line of guidance under the question; "" for none.
    hint: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IdeaAnswer(Base):
    """One free-text answer of a panellist to an open question; a panellist may give several (``slot`` 1, 2...).

    ``theme`` is the facilitator's grouping ("" while ungrouped); an answer is never shown to other panellists,
    only the statements made from it (:class:`StatementSource`).
    """

    __tablename__ = "idea_answers"
    __table_args__ = (
        UniqueConstraint("round_id", "question_id", "panellist_id", "slot"),
        Index("ix_idea_answers_round_id_panellist_id", "round_id", "panellist_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("open_questions.id", ondelete="CASCADE"), index=True)
    panellist_id: Mapped[int] = mapped_column(ForeignKey("panellists.id", ondelete="CASCADE"))
    slot: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text, default="")
    theme: Mapped[str] = mapped_column(String(200), default="")
    #: The language the panellist answered in (their page's language when saved); None before languages were
    #: recorded.
    language: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class StatementSource(Base):
    """Provenance: a draft statement was made from this open-round answer (a statement may have many)."""

    __tablename__ = "statement_sources"
    __table_args__ = (UniqueConstraint("statement_id", "answer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id", ondelete="CASCADE"))
    answer_id: Mapped[int] = mapped_column(ForeignKey("idea_answers.id", ondelete="CASCADE"), index=True)


class RankingQuestion(Base):
    """A question asking panellists to put its items in order (1 = first)."""

    __tablename__ = "ranking_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("panels.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    #: Whether two items may share a rank (a tie); otherwise every rank is used once.
    allow_ties: Mapped[bool] = mapped_column(Boolean, default=False)
    #: :class:`delphi.domain.StatementStatus`: active, or retired_in once the ranking rule was met.
    status: Mapped[str] = mapped_column(String(16), default=domain.StatementStatus.ACTIVE)
    status_round: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RankingItem(Base):
    """One item of a ranking question."""

    __tablename__ = "ranking_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("ranking_questions.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(String(500))
    position: Mapped[int] = mapped_column(Integer, default=0)


class RoundRanking(Base):
    """A ranking question asked in a round, with its verdict under the panel's ranking rule after close."""

    __tablename__ = "round_rankings"
    __table_args__ = (UniqueConstraint("round_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(
        ForeignKey("ranking_questions.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    #: "in" (W at least ``Panel.ranking_w_min``), "none" or "insufficient"; None before close.
    verdict: Mapped[str | None] = mapped_column(String(16))
    outcome: Mapped[dict[str, Any]] = mapped_column(default=dict)


class RankAnswer(Base):
    """One panellist's ranking of one question's items in one round.

    ``ranks`` maps each item id (as a string) to its rank, 1 = first; a complete answer ranks every item.
    ``unable`` is "unable to rank" (``ranks`` then empty).
    """

    __tablename__ = "rank_answers"
    __table_args__ = (
        UniqueConstraint("round_id", "question_id", "panellist_id"),
        Index("ix_rank_answers_round_id_panellist_id", "round_id", "panellist_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("ranking_questions.id", ondelete="CASCADE"))
    panellist_id: Mapped[int] = mapped_column(ForeignKey("panellists.id", ondelete="CASCADE"))
    ranks: Mapped[dict[str, Any]] = mapped_column(default=dict)
    unable: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The language the panellist answered in (their page's language when saved); None before languages were
    #: recorded.
    language: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RankingResult(Base):
    """Frozen ranking statistics per (round, question, scope) computed at close; never edited.

    ``scope`` as in :class:`RoundResult`.  ``n`` counts complete rankings, ``n_unable`` "unable to rank".
    ``items`` is one dict per item in the question's order: ``item_id``, ``mean_rank``, ``median_rank``,
    ``rank_sum`` (None when ``n`` is 0).  ``stats`` holds the rest (ties, the change in W from the round before).
    """

    __tablename__ = "ranking_results"
    __table_args__ = (UniqueConstraint("round_id", "question_id", "scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(
        ForeignKey("ranking_questions.id", ondelete="CASCADE"), index=True
    )
    scope: Mapped[str] = mapped_column(String(32))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("stakeholder_groups.id"))
    n: Mapped[int] = mapped_column(Integer)
    n_unable: Mapped[int] = mapped_column(Integer)
    w: Mapped[float | None] = mapped_column(Float)
    chi2: Mapped[float | None] = mapped_column(Float)
    df: Mapped[int] = mapped_column(Integer)
    pvalue: Mapped[float | None] = mapped_column(Float)
    verdict: Mapped[str] = mapped_column(String(16))
    items: Mapped[list[Any]] = mapped_column(default=list)
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class BaselineQuestion(Base):
    """A question about the panellist asked once, at consent time (:class:`delphi.domain.BaselineKind`).

    Every baseline question is optional and offers "prefer not to say".  ``choices`` lists the answers of a
    single or multiple choice question ([] for number and text); ``unit`` labels a number ("years").
    """

    __tablename__ = "baseline_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("panels.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    choices: Mapped[list[Any]] = mapped_column(default=list)
    unit: Mapped[str] = mapped_column(String(50), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BaselineAnswer(Base):
    """A panellist's answer to a baseline question: the ``chosen`` choices (one for a single choice), a
    ``number``, or ``text``; or ``prefer_not`` ("prefer not to say").  A question left blank has no row."""

    __tablename__ = "baseline_answers"
    __table_args__ = (UniqueConstraint("panellist_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    panellist_id: Mapped[int] = mapped_column(ForeignKey("panellists.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(
        ForeignKey("baseline_questions.id", ondelete="CASCADE"), index=True
    )
    chosen: Mapped[list[Any]] = mapped_column(default=list)
    number: Mapped[float | None] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text, default="")
    prefer_not: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The language the panellist answered in (their page's language when saved); None before languages were
    #: recorded.
    language: Mapped[str | None] = mapped_column(String(10))
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)


class MailText(Base):
    """A panel's own wording of one kind of mail (:mod:`delphi.mail.kinds`), replacing the shipped text."""

    __tablename__ = "mail_texts"
    __table_args__ = (UniqueConstraint("panel_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("panels.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(500))
    #: Plain text with ``{placeholder}`` fields; the HTML part is made from it.
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Payment(Base):
    """One honorarium payment made to a panellist, in minor units of the panel's currency."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("panels.id", ondelete="CASCADE"), index=True)
    panellist_id: Mapped[int] = mapped_column(ForeignKey("panellists.id", ondelete="CASCADE"), index=True)
    amount_minor: Mapped[int] = mapped_column(Integer)
    paid_on: Mapped[date] = mapped_column(Date)
    #: How it was paid: one of :class:`delphi.domain.PaymentMethod`.
    method: Mapped[str] = mapped_column(String(16))
    #: A voucher number or transfer reference; never the panellist's bank details.
    reference: Mapped[str] = mapped_column(String(200), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxMessage(Base):
    """A rendered e-mail waiting for, or done with, delivery.

    ``dedupe_key`` (e.g. ``invite:r2:p17``) is unique: enqueuing the same message twice is a no-op.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_outbox_messages_panel_id_round_id", "panel_id", "round_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    panel_id: Mapped[int | None] = mapped_column(ForeignKey("panels.id", ondelete="CASCADE"))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id", ondelete="SET NULL"))
    panellist_id: Mapped[int | None] = mapped_column(
        ForeignKey("panellists.id", ondelete="SET NULL"), index=True
    )
    #: The one-time link whose placeholder delivery fills; a mail whose link is gone is cancelled.
    link_id: Mapped[int | None] = mapped_column(ForeignKey("one_time_links.id", ondelete="SET NULL"))
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(500))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    #: Extra headers, e.g. {"List-Unsubscribe": "<https://...>"}.
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default=domain.OutboxStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEvent(Base):
    """Who did what to which panel, and when. Append-only."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_panel_id_created_at", "panel_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    panel_id: Mapped[int | None] = mapped_column(ForeignKey("panels.id", ondelete="CASCADE"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    #: "account:<email>", "panellist:<pseudonym>" or "system".
    actor: Mapped[str] = mapped_column(String(340))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
