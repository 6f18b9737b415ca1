"""Problems a panellist can read: translatable issues, and the errors that carry them.

Messages a panellist may read are *issues*: an English msgid with ``%(name)s`` parameters, so the web layer
can translate them through the panellist's gettext catalog (see :class:`Issue` and :func:`fail`).  Pure: no
SQLAlchemy, no Litestar, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any, TypeVar

from delphi.errors import Conflict, DelphiError, NotFound


def N_(msgid: str) -> str:
    """Mark ``msgid`` for extraction without translating it now."""
    return msgid


@dataclass(frozen=True, slots=True)
class Issue:
    """A problem a panellist can fix: ``field`` (a form field id or ""), an English ``msgid``, its params."""

    field: str
    msgid: str
    params: Mapping[str, Any] = dc_field(default_factory=dict)

    def text(self, gettext: Callable[[str], str] | None = None) -> str:
        """The message, translated by ``gettext`` when given, with its parameters filled in."""
        template = gettext(self.msgid) if gettext else self.msgid
        return template % dict(self.params) if self.params else template


E = TypeVar("E", bound=DelphiError)


def fail(cls: type[E], msgid: str, *, field: str = "", **params: Any) -> E:
    """An error of class ``cls`` whose message is ``msgid % params``, carrying its :class:`Issue` list.

    The web layer reads ``exc.issues`` to translate; everything else reads ``exc.message`` (English).
    """
    issue = Issue(field, msgid, params)
    exc = cls(issue.text(), field=field or None)
    exc.issues = [issue]  # type: ignore[attr-defined]
    if hasattr(exc, "errors"):
        exc.errors = [(field, issue.text())]  # type: ignore[attr-defined]
    return exc


def fail_many(cls: type[E], issues: Sequence[Issue]) -> E:
    """One error for several issues (a page of answers); its message is the first issue's."""
    first = issues[0]
    exc = cls(first.text(), field=first.field or None)
    exc.issues = list(issues)  # type: ignore[attr-defined]
    if hasattr(exc, "errors"):
        exc.errors = [(i.field, i.text()) for i in issues]  # type: ignore[attr-defined]
    return exc


# --- errors -------------------------------------------------------------------------------------------------


class LinkNotValid(NotFound):
    """A link that is unknown, re-issued, or belongs to someone who left: one answer for all three."""


class SessionEnded(DelphiError):
    """No valid panellist session (never opened the link, link re-issued since, or left the panel)."""

    status_code = 403


class SessionExpired(SessionEnded):
    """A session that ran out (too long without activity, or too long in all) or was signed out: the personal
    link signs in again, and nothing saved is lost.  401, so the rating page's script can tell it apart."""

    status_code = 401


class ConsentNeeded(Conflict):
    """A write before the panellist agreed to take part."""


class NoRoundOpen(Conflict):
    """Nothing to rate: round 1 has not opened, or the round has no statements."""


class RoundClosed(Conflict):
    """A write after the round closed (by hand or at its closing time)."""


class StatementNotInRound(NotFound):
    """A statement that is not asked in the current round (another round's, or another panel's)."""


class SuggestionsClosed(Conflict):
    """A suggestion in a round where the panel does not take them."""


class NotFinished(NotFound):
    """Final results asked for before the panel finished."""


def link_not_valid() -> LinkNotValid:
    """The one answer for an unknown, re-issued or withdrawn link and for erased data."""
    return fail(LinkNotValid, N_("This link does not work."))


def session_ended() -> SessionEnded:
    """The one answer for a session cookie that no longer names a panellist who may take part."""
    return fail(SessionEnded, N_("Please open the personal link in your e-mail to continue."))


def session_timed_out() -> SessionExpired:
    """The answer for a session past its idle or total lifetime (``settings.sessions.panellist_*``)."""
    return fail(
        SessionExpired,
        N_(
            "For your privacy, you were signed out after a while without activity. Nothing you saved is lost. "
            "To carry on, open the personal link in your invitation e-mail: it signs you in again."
        ),
    )


def session_signed_out() -> SessionExpired:
    """The answer for a session started before the panellist signed out (on this or another browser)."""
    return fail(
        SessionExpired,
        N_(
            "You have been signed out of the panel on this browser. Nothing you saved is lost. To carry on, "
            "open the personal link in your invitation e-mail: it signs you in again."
        ),
    )
