"""The kinds of mail: each one declared function that returns its template context (the Warehouse habit).

A kind is declared once, with :func:`mail_kind` on the function that builds its context::

    @mail_kind(label="new round", key="r{round_id}:p{panellist_id}")
    def round_open(panel, round_, panellist, *, summary=()) -> dict[str, Any]: ...

Everything else is derived from that declaration: the kind's name is the function's name (``"round_open"``),
which is also the outbox's ``kind`` column and the template triple ``templates/email/round_open/``; the label
is the plain name facilitators read; the dedupe key is ``"<prefix>:<key formatted>[:<tag>]"``
(:meth:`MailKind.key`).  :data:`MAIL_KINDS` lists every kind, in declaration order.

Each context function returns every variable its template triple uses, so a template never sees an undefined
name.  Mails to panellists also use ``link`` and ``withdraw_link``: :func:`delphi.mail.outbox.enqueue_mail`
adds them as placeholders, which delivery replaces with the panellist's personal links.

Privacy rules the templates keep: the subject never names the panel (a panel's title may mention drug
services, and subjects show on the lock screen of shared phones), the first line of a body is generic for the
same reason, and no mail ever shows another recipient.

Every panellist mail carries the panel contact (``contact_name``, ``contact_email``, ``contact_phone``; "" when
unset), shown in its footer.  In discreet mode (``Panel.discreet``) ``panel_title`` is the panel's neutral
``discreet_name``, and what could name the topic is left out: the invitation's ``panel_description`` is "" and
the final mail's ``agreed`` list is empty (``n_agreed`` still counts them); delivery sends such mail from the
neutral name too (:data:`delphi.mail.outbox.SENDER_NAME`).  The keys of a panellist kind's context are also the
placeholders a panel's own wording of it may use (:mod:`delphi.mail.texts`).

Every panellist mail is in its reader's language: the shipped templates through gettext, and what the facilitator
wrote (title, neutral name, description) through the panel's translations: build the context from
:func:`in_language` of the panel and the reader's :class:`PanelTexts` (a
:class:`delphi.panels.translations.Wording`), and translate the ``agreed`` statements and ``summary`` lines
(:func:`round_summary`) before passing them in.

Usage from a service, in the transaction that changed the state::

    await enqueue_mail(
        session, invitation, invitation(panel, round_, panellist),
        to_address=panellist.email, dedupe_key=invitation.key(round_id=round_.id, panellist_id=panellist.id),
        language=panellist.language, panel_id=panel.id, round_id=round_.id, panellist_id=panellist.id,
    )
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from delphi.formatting import format_money
from delphi.locale import catalog


def template_names(name: str) -> tuple[str, str, str]:
    """The template triple of the mail ``name``, relative to the template folder:
    ``("email/<name>/subject.txt", "email/<name>/body.txt", "email/<name>/body.html")``."""
    return f"email/{name}/subject.txt", f"email/{name}/body.txt", f"email/{name}/body.html"


@dataclass(frozen=True, slots=True)
class MailKind:
    """One kind of mail, made by :func:`mail_kind` from the function that builds its context.

    ``name``: the function's name, stored as the outbox's ``kind`` and naming the template folder.
    ``label``: plain words for facilitators ("new round").  ``key_format``: :meth:`str.format` pattern of the
    dedupe key after its prefix, e.g. ``"r{round_id}:p{panellist_id}"``.  ``key_prefix``: first part of the
    dedupe key (the name unless the declaration says otherwise).  Calling the kind calls the function.
    """

    name: str
    label: str
    key_format: str
    key_prefix: str
    build: Callable[..., dict[str, Any]]

    def __call__(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The template context (see the declared function's docstring)."""
        return self.build(*args, **kwargs)

    @property
    def templates(self) -> tuple[str, str, str]:
        """The kind's template triple (:func:`template_names` of its name)."""
        return template_names(self.name)

    def key(self, tag: str = "", **fields: object) -> str:
        """The dedupe key: ``"<prefix>:<key_format filled with fields>"``, then ``":<tag>"`` when ``tag`` is set.

        ``invitation.key(round_id=4, panellist_id=17)`` → ``"invitation:r4:p17"``; with ``tag="reissue2"`` →
        ``"invitation:r4:p17:reissue2"``.  Stored keys of existing databases have this exact form, so it must
        not change.  Raises ``KeyError`` when a field of the pattern is missing.
        """
        key = f"{self.key_prefix}:{self.key_format.format(**fields)}"
        return f"{key}:{tag}" if tag else key


#: Every kind of mail by name, in declaration order (filled by :func:`mail_kind` when this module is imported).
MAIL_KINDS: dict[str, MailKind] = {}


def mail_kind(
    *, label: str, key: str, key_prefix: str | None = None
) -> Callable[[Callable[..., dict[str, Any]]], MailKind]:
    """Declare the decorated context function a kind of mail named after it; see :class:`MailKind`."""

    def declare(build: Callable[..., dict[str, Any]]) -> MailKind:
        name = build.__name__
        if name in MAIL_KINDS:
            raise ValueError(f"The mail kind {name!r} is declared twice.")
        kind = MailKind(name=name, label=label, key_format=key, key_prefix=key_prefix or name, build=build)
        MAIL_KINDS[name] = kind
        return kind

    return declare


def kind_label(name: str | None) -> str:
    """Plain words for a stored kind name (``"round_open"`` → ``"new round"``); an unknown name as it is, and
    ``"message"`` for None or ""."""
    kind = MAIL_KINDS.get(name or "")
    return kind.label if kind is not None else (name or "message")


class _Panel(Protocol):
    title: str
    description: str
    honorarium_minor: int | None
    currency: str
    contact_name: str
    contact_email: str
    contact_phone: str
    discreet: bool
    discreet_name: str


class _Round(Protocol):
    id: int
    number: int
    closes_at: datetime | None


class _Panellist(Protocol):
    id: int
    name: str
    language: str


class PanelTexts(Protocol):
    """A panel's texts in one reader's language (:class:`delphi.panels.translations.Wording` is one): the primary
    text wherever there is no translation."""

    @property
    def is_primary(self) -> bool: ...

    def panel(self, panel: Any, name: str) -> str: ...

    def statement(self, statement_id: int, source: str) -> str: ...

    def mail(self, kind: str, subject: str, body: str) -> tuple[str, str]: ...


@dataclass(frozen=True, slots=True)
class PanelInLanguage:
    """A panel's mail attributes with what the facilitator wrote (title, description, neutral name) in one reader's
    language; the rest as the panel has it.  Made by :func:`in_language`."""

    title: str
    description: str
    honorarium_minor: int | None
    currency: str
    contact_name: str
    contact_email: str
    contact_phone: str
    discreet: bool
    discreet_name: str


def in_language(panel: _Panel, texts: PanelTexts | None) -> _Panel:
    """``panel`` as a reader of ``texts``' language sees it in mail: its title, description and neutral name
    translated where a translation exists (the primary text otherwise); ``panel`` itself for None or the primary
    language."""
    if texts is None or texts.is_primary:
        return panel
    return PanelInLanguage(
        title=texts.panel(panel, "title"),
        description=texts.panel(panel, "description"),
        honorarium_minor=panel.honorarium_minor,
        currency=panel.currency,
        contact_name=panel.contact_name,
        contact_email=panel.contact_email,
        contact_phone=panel.contact_phone,
        discreet=panel.discreet,
        discreet_name=texts.panel(panel, "discreet_name"),
    )


def round_summary(
    round_number: int, agreed: int, shown: int, withheld: int, n_now: int, language: str | None = "en"
) -> list[str]:
    """The "round N is open" mail's sentences on the last round, in ``language`` (gettext; English msgids).

    ``agreed`` of ``shown`` verdicts panellists may see were "in"; ``withheld``: verdicts not shown (too few
    answers), counted apart without saying what they were; ``n_now``: statements the new round asks.  E.g.
    ``(1, 12, 30, 0, 18)`` → ``["In round 1 the panel agreed on 12 of 30 recommendations.", "This round asks 18
    again or for the first time, and shows how the panel answered last time."]``.
    """
    ngettext = catalog(language).ngettext
    out = [
        ngettext(
            "In round %(round)s the panel agreed on %(agreed)s of %(num)s recommendation.",
            "In round %(round)s the panel agreed on %(agreed)s of %(num)s recommendations.",
            shown,
        )
        % {"round": round_number, "agreed": agreed, "num": shown}
    ]
    if withheld:
        out.append(
            ngettext(
                "For %(num)s more, too few people answered to show a result.",
                "For %(num)s more, too few people answered to show a result.",
                withheld,
            )
            % {"num": withheld}
        )
    out.append(
        ngettext(
            "This round asks %(num)s again or for the first time, and shows how the panel answered last time.",
            "This round asks %(num)s again or for the first time, and shows how the panel answered last time.",
            n_now,
        )
        % {"num": n_now}
    )
    return out


def _person(panellist: _Panellist) -> dict[str, Any]:
    return {"name": (panellist.name or "").strip()}


def is_discreet(panel: _Panel) -> bool:
    """Whether mail to the panel's panellists is discreet: discreet mode on, with a neutral name to use."""
    return bool(panel.discreet and (panel.discreet_name or "").strip())


def panel_name(panel: _Panel) -> str:
    """The name panellists' mail and pages call the panel: its neutral ``discreet_name`` in discreet mode, else
    its title."""
    return panel.discreet_name.strip() if is_discreet(panel) else panel.title


def sender_name(panel: _Panel) -> str | None:
    """The display name panellists' mail is sent under: the neutral name in discreet mode; None (the configured
    ``DELPHI_MAIL_FROM`` as it is) otherwise."""
    return panel.discreet_name.strip() if is_discreet(panel) else None


def _panel(panel: _Panel) -> dict[str, Any]:
    """What every panellist mail says about its panel: the name it goes by and the contact."""
    return {
        "panel_title": panel_name(panel),
        "contact_name": (panel.contact_name or "").strip(),
        "contact_email": (panel.contact_email or "").strip(),
        "contact_phone": (panel.contact_phone or "").strip(),
    }


def _honorarium(panel: _Panel, panellist: _Panellist) -> str | None:
    """The panel's honorarium in the panellist's language, without a zero fraction ("£15", "£15.50")."""
    if panel.honorarium_minor is None:
        return None
    return format_money(
        panel.honorarium_minor, panel.currency, panellist.language, whole_without_decimals=True
    )


# -- panellist mails -----------------------------------------------------------------------------------------


@mail_kind(label="invitation", key="r{round_id}:p{panellist_id}")
def invitation(
    panel: _Panel, round_: _Round, panellist: _Panellist, *, minutes: int | None = None
) -> dict[str, Any]:
    """Invitation to round 1.  ``minutes``: rough time one round takes, shown when given."""
    return {
        **_person(panellist),
        **_panel(panel),
        "panel_description": "" if is_discreet(panel) else (panel.description or "").strip(),
        "round_number": round_.number,
        "closes_at": round_.closes_at,
        "minutes": minutes,
        "honorarium": _honorarium(panel, panellist),
    }


@mail_kind(label="new round", key="r{round_id}:p{panellist_id}")
def round_open(
    panel: _Panel, round_: _Round, panellist: _Panellist, *, summary: Sequence[str] = ()
) -> dict[str, Any]:
    """A later round has opened.  ``summary``: a few plain sentences on the last round's feedback, e.g.
    ``["The panel agreed on 12 of 30 recommendations.", "18 are asked again, with the group's answers."]``.
    """
    return {
        **_person(panellist),
        **_panel(panel),
        "round_number": round_.number,
        "closes_at": round_.closes_at,
        "summary": list(summary),
        "honorarium": _honorarium(panel, panellist),
    }


@mail_kind(label="reminder", key="r{round_id}:p{panellist_id}")
def reminder(
    panel: _Panel,
    round_: _Round,
    panellist: _Panellist,
    *,
    rated: int | None = None,
    total: int | None = None,
) -> dict[str, Any]:
    """Reminder to someone who has not submitted.  ``rated``/``total``: progress, shown when both are given.

    Its dedupe key always has a tag naming the reminder (``"reminder:r4:p17:48h"``), so each reminder of a
    round goes once.
    """
    return {
        **_person(panellist),
        **_panel(panel),
        "round_number": round_.number,
        "closes_at": round_.closes_at,
        "rated": rated,
        "total": total,
    }


@mail_kind(label="receipt", key="r{round_id}:p{panellist_id}")
def receipt(
    panel: _Panel, round_: _Round, panellist: _Panellist, *, submitted_at: datetime
) -> dict[str, Any]:
    """Thanks for submitting a round; says answers can be changed until the round closes."""
    return {
        **_person(panellist),
        **_panel(panel),
        "round_number": round_.number,
        "closes_at": round_.closes_at,
        "submitted_at": submitted_at,
        "honorarium": _honorarium(panel, panellist),
    }


@mail_kind(label="final results", key="panel{panel_id}:p{panellist_id}")
def final_results(
    panel: _Panel, panellist: _Panellist, *, agreed: Sequence[str] = (), n_rounds: int
) -> dict[str, Any]:
    """The panel has finished.  ``agreed``: texts of the recommendations the panel agreed on (may be empty:
    the mail then only links to the results page; always empty in discreet mode, where only their number is
    given); ``n_rounds``: rounds held.
    """
    return {
        **_person(panellist),
        **_panel(panel),
        "agreed": [] if is_discreet(panel) else list(agreed),
        "n_agreed": len(agreed),
        "n_rounds": n_rounds,
    }


# -- facilitator mails ---------------------------------------------------------------------------------------


@mail_kind(label="notice to facilitators", key="{notice}:{about}:a{account_id}", key_prefix="notice")
def facilitator_notice(
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

    Dedupe key: ``"notice:<notice>:<about>:a<account id>"``, where ``about`` is ``"m<message id>"`` for a
    bounce and ``"p<panel id>:<YYYY-MM-DD>"`` for a day's dead letters (one notice per facilitator and day).
    """
    return {
        "panel_title": panel_title,
        "panel_url": panel_url,
        "notice": notice,
        "pseudonym": pseudonym,
        "mail_kind": kind_label(mail_kind),
        "reason": reason,
        "count": count,
    }


# -- account mails -------------------------------------------------------------------------------------------


@mail_kind(label="password reset", key="a{account_id}:l{link_id}")
def password_reset(*, name: str = "", minutes: int) -> dict[str, Any]:
    """A link to choose a new password (:func:`delphi.accounts.passwords.request_reset`), sent to the account's
    address.  ``name``: the account's name ("" for none); ``minutes``: how long the link works.  The link itself
    (``link``) is the one-time-link placeholder, filled at delivery.  Dedupe key
    ``"password_reset:a<account id>:l<link id>"``: one mail per link.
    """
    return {"name": (name or "").strip(), "minutes": minutes}


# -- team mails ----------------------------------------------------------------------------------------------


@mail_kind(label="team invitation", key="i{invitation_id}")
def team_invitation(
    *, panel_title: str, invited_by: str, role: str, can_contact: bool, expires_at: datetime
) -> dict[str, Any]:
    """An invitation to join a panel's team, to an address without an account.  ``role``: the words for the
    role ("facilitator", "researcher (read and export)"); ``expires_at``: when the link stops working.  The mail
    carries a one-time link (``link``, filled by delivery) to the page that creates the account.

    Dedupe key: ``"team_invitation:i<invitation id>:l<link id>"`` (tag ``l<link id>``), so each link resent is
    mailed once.
    """
    return {
        "panel_title": panel_title,
        "invited_by": invited_by,
        "role": role,
        "can_contact": can_contact,
        "expires_at": expires_at,
    }


@mail_kind(label="team access", key="p{panel_id}:a{account_id}")
def team_access(
    *, panel_title: str, panel_url: str, invited_by: str, role: str, can_contact: bool
) -> dict[str, Any]:
    """A short notice to an existing account that it was given access to a panel, with the panel's address.

    Dedupe key: ``"team_access:p<panel id>:a<account id>:g<access row id>"`` (tag ``g<access id>``), so sharing
    again after a revoke sends a new notice and a retried request does not.
    """
    return {
        "panel_title": panel_title,
        "panel_url": panel_url,
        "invited_by": invited_by,
        "role": role,
        "can_contact": can_contact,
    }
