"""One function per kind of mail that returns its template context (the Warehouse habit), plus dedupe keys.

Each ``*_context`` function returns every variable its template triple uses, so a template never sees an
undefined name.  Mails to panellists also use ``link`` and ``withdraw_link``:
:func:`delphi.mail.outbox.enqueue_mail` adds them as placeholders, which delivery replaces with the
panellist's personal links.

Privacy rules the templates keep: the subject never names the panel (a panel's title may mention drug
services, and subjects show on the lock screen of shared phones), the first line of a body is generic for the
same reason, and no mail ever shows another recipient.

Usage from a service, in the transaction that changed the state::

    await enqueue_mail(
        session, INVITATION, invitation_context(panel, round_, panellist),
        to_address=panellist.email, dedupe_key=invitation_key(round_.id, panellist.id),
        language=panellist.language, panel_id=panel.id, round_id=round_.id, panellist_id=panellist.id,
    )
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from delphi.formatting import format_money

INVITATION = "invitation"
ROUND_OPEN = "round_open"
REMINDER = "reminder"
RECEIPT = "receipt"
FINAL_RESULTS = "final_results"
FACILITATOR_NOTICE = "facilitator_notice"
KINDS = (INVITATION, ROUND_OPEN, REMINDER, RECEIPT, FINAL_RESULTS, FACILITATOR_NOTICE)

#: Plain names of the kinds, for facilitator notices and pages.
KIND_LABELS = {
    INVITATION: "invitation",
    ROUND_OPEN: "new round",
    REMINDER: "reminder",
    RECEIPT: "receipt",
    FINAL_RESULTS: "final results",
    FACILITATOR_NOTICE: "notice to facilitators",
}


class _Panel(Protocol):
    title: str
    description: str
    honorarium_minor: int | None
    currency: str


class _Round(Protocol):
    id: int
    number: int
    closes_at: datetime | None


class _Panellist(Protocol):
    id: int
    name: str
    language: str


def _person(panellist: _Panellist) -> dict[str, Any]:
    return {"name": (panellist.name or "").strip()}


def _honorarium(panel: _Panel, panellist: _Panellist) -> str | None:
    """The panel's honorarium in the panellist's language, without a zero fraction ("£15", "£15.50")."""
    if panel.honorarium_minor is None:
        return None
    return format_money(
        panel.honorarium_minor, panel.currency, panellist.language, whole_without_decimals=True
    )


# -- panellist mails -----------------------------------------------------------------------------------------


def invitation_context(
    panel: _Panel, round_: _Round, panellist: _Panellist, *, minutes: int | None = None
) -> dict[str, Any]:
    """Invitation to round 1.  ``minutes``: rough time one round takes, shown when given."""
    return {
        **_person(panellist),
        "panel_title": panel.title,
        "panel_description": (panel.description or "").strip(),
        "round_number": round_.number,
        "closes_at": round_.closes_at,
        "minutes": minutes,
        "honorarium": _honorarium(panel, panellist),
    }


def round_open_context(
    panel: _Panel, round_: _Round, panellist: _Panellist, *, summary: Sequence[str] = ()
) -> dict[str, Any]:
    """A later round has opened.  ``summary``: a few plain sentences on the last round's feedback, e.g.
    ``["The panel agreed on 12 of 30 recommendations.", "18 are asked again, with the group's answers."]``.
    """
    return {
        **_person(panellist),
        "panel_title": panel.title,
        "round_number": round_.number,
        "closes_at": round_.closes_at,
        "summary": list(summary),
        "honorarium": _honorarium(panel, panellist),
    }


def reminder_context(
    panel: _Panel,
    round_: _Round,
    panellist: _Panellist,
    *,
    rated: int | None = None,
    total: int | None = None,
) -> dict[str, Any]:
    """Reminder to someone who has not submitted.  ``rated``/``total``: progress, shown when both are given."""
    return {
        **_person(panellist),
        "panel_title": panel.title,
        "round_number": round_.number,
        "closes_at": round_.closes_at,
        "rated": rated,
        "total": total,
    }


def receipt_context(
    panel: _Panel, round_: _Round, panellist: _Panellist, *, submitted_at: datetime
) -> dict[str, Any]:
    """Thanks for submitting a round; says answers can be changed until the round closes."""
    return {
        **_person(panellist),
        "panel_title": panel.title,
        "round_number": round_.number,
        "closes_at": round_.closes_at,
        "submitted_at": submitted_at,
        "honorarium": _honorarium(panel, panellist),
    }


def final_results_context(
    panel: _Panel, panellist: _Panellist, *, agreed: Sequence[str] = (), n_rounds: int
) -> dict[str, Any]:
    """The panel has finished.  ``agreed``: texts of the recommendations the panel agreed on (may be empty:
    the mail then only links to the results page); ``n_rounds``: rounds held.
    """
    return {
        **_person(panellist),
        "panel_title": panel.title,
        "agreed": list(agreed),
        "n_agreed": len(agreed),
        "n_rounds": n_rounds,
    }


# -- facilitator mails ---------------------------------------------------------------------------------------


def facilitator_notice_context(
    *,
    panel_title: str,
    panel_url: str,
    notice: str,
    pseudonym: str | None = None,
    mail_kind: str | None = None,
    reason: str = "",
    count: int | None = None,
) -> dict[str, Any]:
    """A notice to a panel's owners and facilitators.

    ``notice`` is ``"bounce"`` (an address was refused for good: ``pseudonym``, ``mail_kind``, ``reason`` set)
    or ``"dead"`` (mail could not be delivered after every retry: ``count`` messages so far today).  Never
    holds a panellist's e-mail address: the facilitator finds the person by pseudonym on the panel's pages.
    """
    return {
        "panel_title": panel_title,
        "panel_url": panel_url,
        "notice": notice,
        "pseudonym": pseudonym,
        "mail_kind": KIND_LABELS.get(mail_kind or "", mail_kind or "message"),
        "reason": reason,
        "count": count,
    }


# -- dedupe keys ---------------------------------------------------------------------------------------------


def invitation_key(round_id: int, panellist_id: int) -> str:
    return f"{INVITATION}:r{round_id}:p{panellist_id}"


def round_open_key(round_id: int, panellist_id: int) -> str:
    return f"{ROUND_OPEN}:r{round_id}:p{panellist_id}"


def receipt_key(round_id: int, panellist_id: int) -> str:
    return f"{RECEIPT}:r{round_id}:p{panellist_id}"


def final_results_key(panel_id: int, panellist_id: int) -> str:
    return f"{FINAL_RESULTS}:panel{panel_id}:p{panellist_id}"
