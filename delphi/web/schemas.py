"""msgspec schemas of the JSON API (``/api/v1``), and the typed path parameters shared with the results pages.

Shapes mirror :mod:`delphi.results`: percentages are 0-100, statistics are ``null`` where undefined, timestamps
are ISO 8601 UTC. No schema carries a panellist's e-mail except :class:`Panellist`, where it is filled for the
panel's owner and facilitators with the "contact panellists" grant only (``null`` for everyone else).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar.params import Parameter

from delphi.results.exports import CATALOG

#: Largest id the database holds (32-bit signed integer keys): larger path ids are a 400, not a driver error.
MAX_ID = 2**31 - 1

PanelId = Annotated[int, Parameter(ge=1, le=MAX_ID, description="Panel id.")]
RoundNumber = Annotated[int, Parameter(ge=1, le=1000, description="Round number, from 1.")]
RowId = Annotated[int, Parameter(ge=1, le=MAX_ID)]
#: ``<export>.<format>``: documented as the list of every export in every format it comes in.  Anything else is
#: refused by the handler with its reason (404 for an unknown export, 400 naming the formats for a wrong one).
ExportFile = Annotated[
    str,
    Parameter(
        description="The export and its format, e.g. final-list.csv.",
        schema_extra={"enum": [f"{spec.name}.{fmt}" for spec in CATALOG for fmt in spec.formats]},
    ),
]


class Me(msgspec.Struct):
    id: int
    email: str
    name: str
    role: str
    authenticated_by: Literal["session", "token"]
    #: What the request may do: ``["read"]`` (a session, or a read-only token) or ``["read", "write"]``.
    scopes: list[Literal["read", "write"]]


class PanelSummary(msgspec.Struct):
    id: int
    title: str
    status: str
    role: str
    created_at: datetime


class Panel(msgspec.Struct):
    """A panel and every setting that shapes its results."""

    id: int
    title: str
    description: str
    status: str
    role: str
    scale_min: int
    scale_max: int
    scale_labels: list[str]
    allow_unable: bool
    unable_label: str
    rule: dict[str, Any] | None
    rule_text: str
    rule_locked_at: datetime | None
    rule_changed_after_lock: bool
    #: Which answers results count: "submitted" (only panellists who sent the round) or "all".
    analysis_population: str
    quantile_method: str
    unable_policy: str
    max_rounds: int
    k_min: int
    honorarium_minor: int | None
    currency: str
    #: The panel contact panellists see on every page and in every mail ("" when not set yet).
    contact_name: str
    contact_email: str
    contact_phone: str
    #: Discreet mode: mail to panellists comes from ``discreet_name`` and never names the title.
    discreet: bool
    discreet_name: str
    #: The ranking rule: a ranking question reaches consensus when Kendall's W is at least this (0 < W <= 1).
    ranking_w_min: float
    created_at: datetime
    finished_at: datetime | None


class Group(msgspec.Struct):
    id: int
    name: str
    lived_experience: bool
    position: int
    panellists: int


class Statement(msgspec.Struct):
    id: int
    section: str
    text: str
    position: int
    version: int
    parent_id: int | None
    origin: str
    origin_round: int | None
    status: str
    status_round: int | None


class Panellist(msgspec.Struct):
    """``email`` and ``name`` are null unless the caller owns the panel or is a facilitator the owner lets
    contact panellists. ``id`` addresses the panellist in the API's paths (a new link: ``.../reissue``)."""

    id: int
    pseudonym: str
    group_id: int
    status: str
    email: str | None = None
    name: str | None = None


class Round(msgspec.Struct):
    number: int
    status: str
    opens_at: datetime | None
    closes_at: datetime | None
    opened_at: datetime | None
    closed_at: datetime | None
    statements: list[int]
    #: When reminders go, in hours before ``closes_at``, largest first (e.g. ``[168, 48]``).
    reminder_hours: list[int]


class GroupProgress(msgspec.Struct):
    group_id: int | None
    name: str
    invited: int
    opened: int
    started: int
    submitted: int
    bounced: int
    withdrawn: int
    response_rate: float | None


class Awaiting(msgspec.Struct):
    pseudonym: str
    group_id: int
    opened: bool
    started: bool
    answers: int
    last_activity: datetime | None


class Monitor(msgspec.Struct):
    round: int
    status: str
    groups: list[GroupProgress]
    awaiting: list[Awaiting]


class ScopeResult(msgspec.Struct):
    scope: str
    group_id: int | None
    name: str
    n: int
    n_unable: int
    median: float | None
    q1: float | None
    q3: float | None
    iqr: float | None
    pct_agree: float | None
    pct_disagree: float | None
    verdict: str
    counts: list[int]
    suppressed: bool
    #: Whether panellists were shown this scope's figures (disclosure control).
    shown_to_panellists: bool


class StatementResult(msgspec.Struct):
    statement_id: int
    version: int
    section: str
    text: str
    verdict: str
    flags: list[str]
    lived_experience_split: bool
    sensitivity: dict[str, str]
    divergence_test: str
    divergence_p: float | None
    stability: dict[str, Any] | None
    pooled: ScopeResult | None
    groups: list[ScopeResult]


class RoundResults(msgspec.Struct):
    round: int
    rule: str
    #: "submitted" or "all": the answers these figures count.
    analysis_population: str
    k_min: int
    statements: list[StatementResult]


class Comment(msgspec.Struct):
    rating_id: int
    statement_id: int
    pseudonym: str
    group_id: int
    text: str
    status: str


class Reason(msgspec.Struct):
    """A panellist's reason for a rating outside the previous round's middle half, by pseudonym and the rating
    it explains (``value`` null with ``unable`` true for "unable to rate"); ``status`` is its own moderation
    status: pending, published or hidden."""

    rating_id: int
    statement_id: int
    pseudonym: str
    group_id: int
    value: int | None
    unable: bool
    text: str
    status: str


class Moderation(msgspec.Struct):
    """The body of a comment moderation request."""

    status: Literal["published", "hidden"]


class FlowRow(msgspec.Struct):
    group_id: int | None
    name: str
    invited: int
    responded: list[int]
    retained: list[int]


class BiasRow(msgspec.Struct):
    round: int
    statement_id: int
    n_dropouts: int
    median_dropouts: float | None
    pct_agree_dropouts: float | None
    n_completers: int
    median_completers: float | None
    pct_agree_completers: float | None
    difference: float | None
    p_value: float | None


class Attrition(msgspec.Struct):
    rounds: list[int]
    open_rounds: list[int]
    flow: list[FlowRow]
    bias: list[BiasRow]


class FinalStatement(msgspec.Struct):
    statement_id: int
    section: str
    text: str
    verdict: str
    consensus_round: int | None
    last_round: int
    rounds: list[int]
    earlier_texts: list[str]
    n: int | None
    median: float | None
    iqr: float | None
    pct_agree: float | None
    pct_disagree: float | None


class FinalList(msgspec.Struct):
    rounds_closed: int
    #: "submitted" or "all": the answers the figures count.
    analysis_population: str
    statements: list[FinalStatement]


class Export(msgspec.Struct):
    name: str
    title: str
    description: str
    formats: list[str]
    urls: dict[str, str]
    available: bool


#: One e-mail address as the team API takes it: no spaces, control characters or list separators (``<>,;``).
EMAIL_PATTERN = r"^[^@\s<>,;\x00-\x1f\x7f]+@[^@\s<>,;\x00-\x1f\x7f]+\.[^@\s<>,;\x00-\x1f\x7f]+$"


class TeamMember(msgspec.Struct):
    """An account on the panel's team.  ``sees_contacts``: it sees panellists' e-mail addresses (the owner
    always; a facilitator with ``can_contact``; a researcher never)."""

    account_id: int
    email: str
    name: str
    role: str
    can_contact: bool
    sees_contacts: bool
    since: datetime


class TeamInvitation(msgspec.Struct):
    """A pending invitation; ``expires_at`` is when its newest link stops working (null: no link works)."""

    id: int
    email: str
    role: str
    can_contact: bool
    invited_at: datetime
    invited_by: str
    expires_at: datetime | None
    usable: bool


class Team(msgspec.Struct):
    members: list[TeamMember]
    invitations: list[TeamInvitation]


class Share(msgspec.Struct):
    """Share the panel with an address: an account gets access at once, anyone else an invitation e-mail.
    ``can_contact`` (see panellists' e-mail addresses) is for facilitators only."""

    email: Annotated[str, msgspec.Meta(max_length=300, pattern=EMAIL_PATTERN)]
    role: Literal["facilitator", "researcher"]
    can_contact: bool = False


class Shared(msgspec.Struct):
    """``outcome`` "shared" (``member`` set) or "invited" (``invitation`` set)."""

    outcome: Literal["shared", "invited"]
    member: TeamMember | None = None
    invitation: TeamInvitation | None = None


class MemberChange(msgspec.Struct):
    """A member's new role and/or contact grant (omitted: unchanged; a researcher never has the grant)."""

    role: Literal["facilitator", "researcher"] | None = None
    can_contact: bool | None = None
