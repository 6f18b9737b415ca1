"""Plain shared types: the states and roles the engine knows, as string enums.

Stored as short strings in the database (no database enum types), so adding a value needs no migration of a type.
"""

from __future__ import annotations

from enum import StrEnum


class AccountRole(StrEnum):
    ADMIN = "admin"
    FACILITATOR = "facilitator"
    RESEARCHER = "researcher"


class PanelRole(StrEnum):
    """An account's role on one panel (PanelAccess)."""

    OWNER = "owner"
    FACILITATOR = "facilitator"
    RESEARCHER = "researcher"


class TokenScope(StrEnum):
    """What an API token may do; a token's ``scopes`` lists them separated by spaces (``"read write"``)."""

    READ = "read"
    WRITE = "write"


class LinkPurpose(StrEnum):
    """What a :class:`~delphi.db.models.OneTimeLink` is for."""

    PASSWORD_RESET = "password_reset"
    TEAM_INVITATION = "team_invitation"


class PanelStatus(StrEnum):
    DRAFT = "draft"
    RUNNING = "running"
    FINISHED = "finished"


class PanellistStatus(StrEnum):
    INVITED = "invited"
    ACTIVE = "active"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"
    BOUNCED = "bounced"


class StatementStatus(StrEnum):
    ACTIVE = "active"
    RETIRED_IN = "retired_in"
    RETIRED_OUT = "retired_out"
    WITHDRAWN = "withdrawn"


class StatementOrigin(StrEnum):
    FACILITATOR = "facilitator"
    PANELLIST = "panellist"
    #: Made by the facilitator from answers to an open round (:class:`delphi.db.models.StatementSource`).
    OPEN_ROUND = "open_round"


class RoundKind(StrEnum):
    """What a round asks: statements to rate (and rankings), or open questions answered in free text."""

    RATING = "rating"
    #: Idea generation: free-text answers that the facilitator turns into the statements of the next round.
    OPEN = "open"


class BaselineKind(StrEnum):
    """The kinds of baseline question (:class:`delphi.db.models.BaselineQuestion`)."""

    SINGLE = "single"
    MULTIPLE = "multiple"
    NUMBER = "number"
    TEXT = "text"


class RoundStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class CommentStatus(StrEnum):
    PENDING = "pending"
    PUBLISHED = "published"
    HIDDEN = "hidden"


class PaymentMethod(StrEnum):
    """How an honorarium was paid (:class:`delphi.db.models.Payment`)."""

    CASH = "cash"
    VOUCHER = "voucher"
    BANK_TRANSFER = "bank_transfer"
    OTHER = "other"


class SuggestionKind(StrEnum):
    NEW = "new"
    REWORDING = "rewording"


class SuggestionStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    MERGED = "merged"
    REJECTED = "rejected"


class OutboxStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"
    CANCELLED = "cancelled"


class AnalysisPopulation(StrEnum):
    """Which saved answers a round's frozen result counts: part of the protocol, fixed with the consensus rule
    when round 1 opens (BRIEF §5)."""

    #: Only the answers of panellists who sent the round ("Send my answers"); unsent drafts are left out.
    SUBMITTED = "submitted"
    #: Every saved answer, whether or not the panellist sent the round.
    ALL = "all"

    @property
    def label(self) -> str:
        """Short words for tables and form options, e.g. "Submitted answers only"."""
        return _POPULATION_LABELS[self]

    @property
    def description(self) -> str:
        """One sentence for results pages, reports, exports and the codebook."""
        return _POPULATION_DESCRIPTIONS[self]


_POPULATION_LABELS = {
    AnalysisPopulation.SUBMITTED: "Submitted answers only",
    AnalysisPopulation.ALL: "Every saved answer",
}
_POPULATION_DESCRIPTIONS = {
    AnalysisPopulation.SUBMITTED: "Only the answers of panellists who sent the round count; answers saved but "
    "never sent are left out.",
    AnalysisPopulation.ALL: "Every saved answer counts, whether or not the panellist sent the round.",
}


POOLED_SCOPE = "all"
"""RoundResult scope key for the pooled panel; a group's scope key is ``"group:<id>"``."""


def group_scope(group_id: int) -> str:
    return f"group:{group_id}"


class Actor:
    """Who performs a use case, for the audit trail: an account, a panellist (by pseudonym) or the system."""

    __slots__ = ("account_id", "label")

    def __init__(self, label: str, account_id: int | None = None) -> None:
        self.label = label
        self.account_id = account_id

    @classmethod
    def account(cls, account: object) -> Actor:
        return cls(f"account:{account.email}", account.id)  # type: ignore[attr-defined]

    @classmethod
    def panellist(cls, pseudonym: str) -> Actor:
        return cls(f"panellist:{pseudonym}")

    def __repr__(self) -> str:
        return f"Actor({self.label!r})"


SYSTEM = Actor("system")
