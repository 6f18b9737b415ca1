"""A panel's team: who has access besides the panellists, and the owner sharing, changing and revoking it.

The team is every :class:`~delphi.db.models.PanelAccess` row of the panel (owner, facilitators, researchers)
and every pending :class:`~delphi.db.models.TeamInvitation`.  Only the panel's owner (or an admin, who acts as
the owner of every panel) manages it; the owner's own row is never changed or revoked here.

* :func:`share` gives an address access: an existing account gets its access row at once, an address without an
  account gets an invitation and a one-time link (:data:`INVITATION_LIFETIME`); the caller queues the mail of
  the outcome (:func:`delphi.mail.team.notify_shared`) in the same transaction.
* :func:`change_member`, :func:`revoke_member`, :func:`revoke_invitation` and :func:`resend_invitation` (a new
  link; the earlier one stops working) change what exists.
* :func:`accept_invitation` spends the link and creates the account (when the address has none yet) and the
  access, all in the caller's transaction.

Who sees panellists' e-mail addresses is one rule, :func:`delphi.panels.access.can_see_contacts`: the owner,
and facilitators the owner grants "contact panellists" (``can_contact``); researchers never have the grant.

Every change is audited with the panel's id; the detail names the team member by address (``member``): team
members' addresses may be in the audit trail, panellists' never are.  Nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit
from delphi.accounts import create_account, normalise_email
from delphi.accounts.links import find_link, issue_link, spend_links, use_link
from delphi.db.models import Account, OneTimeLink, Panel, PanelAccess, TeamInvitation, utcnow
from delphi.domain import AccountRole, Actor, LinkPurpose, PanelRole
from delphi.errors import Conflict, Forbidden, InvalidInput, NotFound
from delphi.panels.access import OWNERS, can_see_contacts, load_panel
from delphi.security import password_problems

#: How long an invitation link works.
INVITATION_LIFETIME = timedelta(days=7)
#: The roles the owner can give; a panel has one owner, who is never made or unmade here.
SHAREABLE = (PanelRole.FACILITATOR, PanelRole.RESEARCHER)
ROLE_LABELS = {
    PanelRole.OWNER: "owner",
    PanelRole.FACILITATOR: "facilitator",
    PanelRole.RESEARCHER: "researcher (read and export)",
}
NO_CONTACT_FOR_RESEARCHERS = (
    "Researchers never see panellists' e-mail addresses: choose facilitator, or leave "
    "“may contact panellists” unticked."
)


@dataclass(frozen=True, slots=True)
class Member:
    """An account with access to the panel: its role and whether it sees panellists' addresses."""

    account_id: int
    email: str
    name: str
    role: PanelRole
    can_contact: bool
    since: datetime

    @property
    def is_owner(self) -> bool:
        return self.role == PanelRole.OWNER

    @property
    def sees_contacts(self) -> bool:
        return can_see_contacts(self.role, self.can_contact)


@dataclass(frozen=True, slots=True)
class PendingInvitation:
    """An invitation not yet accepted nor withdrawn.  ``expires_at``: when its newest link stops working (None
    when it has no link left, e.g. spent); ``usable``: that link still works (unused, not expired)."""

    id: int
    email: str
    role: PanelRole
    can_contact: bool
    invited_at: datetime
    invited_by: str
    expires_at: datetime | None
    usable: bool


@dataclass(frozen=True, slots=True)
class Team:
    """Members (owner first, then by address) and pending invitations (oldest first)."""

    members: list[Member]
    invitations: list[PendingInvitation]


@dataclass(frozen=True, slots=True)
class Shared:
    """What :func:`share` did: ``access`` for an address that had an account (``account`` is it), else
    ``invitation`` and its ``link`` (whose token delivery puts in the mail)."""

    email: str
    role: PanelRole
    can_contact: bool
    account: Account | None = None
    access: PanelAccess | None = None
    invitation: TeamInvitation | None = None
    link: OneTimeLink | None = None


@dataclass(frozen=True, slots=True)
class InvitationView:
    """What the invitation page shows: to which panel, as what, from whom, and whether the address has an
    account already (then accepting only adds the access)."""

    invitation_id: int
    email: str
    role: PanelRole
    can_contact: bool
    panel_id: int
    panel_title: str
    invited_by: str
    has_account: bool
    expires_at: datetime


# -- reading ------------------------------------------------------------------------------------------------


async def list_team(session: AsyncSession, panel_id: int, now: datetime | None = None) -> Team:
    """The panel's members and pending invitations (three queries)."""
    now = now or utcnow()
    rows = await session.execute(
        select(Account.id, Account.email, Account.name, PanelAccess.role, PanelAccess.can_contact)
        .add_columns(PanelAccess.created_at)
        .join(PanelAccess, PanelAccess.account_id == Account.id)
        .where(PanelAccess.panel_id == panel_id)
    )
    members = [
        Member(aid, email, name or "", PanelRole(role), bool(contact), since)
        for aid, email, name, role, contact, since in rows
    ]
    members.sort(key=lambda m: (not m.is_owner, m.email))
    inviter = Account.__table__.alias("inviter")
    pending = (
        await session.execute(
            select(TeamInvitation, inviter.c.email)
            .outerjoin(inviter, inviter.c.id == TeamInvitation.invited_by_id)
            .where(
                TeamInvitation.panel_id == panel_id,
                TeamInvitation.accepted_at.is_(None),
                TeamInvitation.revoked_at.is_(None),
            )
            .order_by(TeamInvitation.created_at, TeamInvitation.id)
        )
    ).all()
    links = await _live_links(session, [inv.id for inv, _ in pending])
    invitations = []
    for inv, by in pending:
        expires = links.get(inv.id)
        invitations.append(
            PendingInvitation(
                inv.id,
                inv.email,
                PanelRole(inv.role),
                inv.can_contact,
                inv.created_at,
                by or "",
                expires,
                expires is not None and expires > now,
            )
        )
    return Team(members, invitations)


async def _live_links(session: AsyncSession, invitation_ids: list[int]) -> dict[int, datetime]:
    """``{invitation id: expiry of its newest unused link}`` (invitations without one are left out)."""
    if not invitation_ids:
        return {}
    rows = await session.execute(
        select(OneTimeLink.invitation_id, func.max(OneTimeLink.expires_at))
        .where(
            OneTimeLink.invitation_id.in_(invitation_ids),
            OneTimeLink.purpose == LinkPurpose.TEAM_INVITATION.value,
            OneTimeLink.used_at.is_(None),
        )
        .group_by(OneTimeLink.invitation_id)
    )
    return {int(i): e for i, e in rows if i is not None}


# -- input --------------------------------------------------------------------------------------------------


def parse_role(value: str | None) -> PanelRole:
    """``"facilitator"`` or ``"researcher"`` as a :class:`PanelRole`; InvalidInput (field ``role``) otherwise,
    also for ``"owner"``."""
    try:
        role = PanelRole((value or "").strip().lower())
    except ValueError:
        role = None
    if role not in SHAREABLE:
        raise InvalidInput("Choose facilitator or researcher.", field="role")
    return role


class GrantRefused(Forbidden):
    """A researcher was to be given "contact panellists", which the permission rule never allows (403)."""


def check_grant(role: PanelRole, can_contact: bool) -> None:
    """Researchers never get "contact panellists": :class:`GrantRefused` (field ``can_contact``) when asked."""
    if can_contact and role == PanelRole.RESEARCHER:
        raise GrantRefused(NO_CONTACT_FOR_RESEARCHERS, field="can_contact")


# -- the owner's changes ------------------------------------------------------------------------------------


async def share(
    session: AsyncSession,
    panel: Panel,
    *,
    by: Account,
    email: str,
    role: str,
    can_contact: bool,
    secret_key: str,
    now: datetime | None = None,
) -> Shared:
    """Give ``email`` access to the panel as ``role`` (``"facilitator"`` or ``"researcher"``).

    An address with an account gets its access row now; one without gets a :class:`TeamInvitation` and a link
    that works for :data:`INVITATION_LIFETIME`.  Every problem of the input is raised at once (InvalidInput with
    ``errors``); :class:`GrantRefused` for a researcher with ``can_contact``; Conflict when the address has
    access already or a pending invitation (resend that instead); Forbidden for anyone but the owner.  Audited as ``team.shared`` or ``team.invited``.
    """
    await load_panel(session, by, panel.id, OWNERS)
    problems: list[tuple[str, str]] = []
    address = ""
    try:
        address = normalise_email(email)
    except InvalidInput:
        problems.append(("email", "Enter the e-mail address of the person, like name@example.org."))
    parsed: PanelRole | None = None
    try:
        parsed = parse_role(role)
    except InvalidInput as exc:
        problems.extend(exc.errors)
    if problems or parsed is None:
        raise InvalidInput(problems[0][1], field=problems[0][0], errors=problems)
    check_grant(parsed, can_contact)
    now = now or utcnow()
    account = await session.scalar(select(Account).where(Account.email == address))
    if account is not None:
        existing = await session.scalar(
            select(PanelAccess.role).where(
                PanelAccess.panel_id == panel.id, PanelAccess.account_id == account.id
            )
        )
        if existing is not None:
            raise Conflict(
                f"{address} has access to this panel already, as {ROLE_LABELS[PanelRole(existing)]}. "
                "Change their role in the team list instead.",
                field="email",
            )
        access = PanelAccess(
            panel_id=panel.id,
            account_id=account.id,
            role=parsed.value,
            can_contact=can_contact,
            created_at=now,
        )
        session.add(access)
        await session.flush()
        audit.record(
            session,
            actor=Actor.account(by),
            action="team.shared",
            panel_id=panel.id,
            account_id=account.id,
            detail={"member": address, "role": parsed.value, "can_contact": can_contact},
        )
        return Shared(address, parsed, can_contact, account=account, access=access)
    if await _pending_for(session, panel.id, address) is not None:
        raise Conflict(
            f"{address} has been invited already and has not answered yet. Send the invitation again from "
            "the list of pending invitations instead.",
            field="email",
        )
    invitation = TeamInvitation(
        panel_id=panel.id,
        email=address,
        role=parsed.value,
        can_contact=can_contact,
        invited_by_id=by.id,
        created_at=now,
    )
    session.add(invitation)
    await session.flush()
    link = await _new_link(session, secret_key, invitation, now)
    audit.record(
        session,
        actor=Actor.account(by),
        action="team.invited",
        panel_id=panel.id,
        detail={
            "member": address,
            "role": parsed.value,
            "can_contact": can_contact,
            "invitation_id": invitation.id,
        },
    )
    return Shared(address, parsed, can_contact, invitation=invitation, link=link)


async def _pending_for(session: AsyncSession, panel_id: int, address: str) -> TeamInvitation | None:
    return await session.scalar(
        select(TeamInvitation).where(
            TeamInvitation.panel_id == panel_id,
            TeamInvitation.email == address,
            TeamInvitation.accepted_at.is_(None),
            TeamInvitation.revoked_at.is_(None),
        )
    )


async def _new_link(
    session: AsyncSession, secret_key: str, invitation: TeamInvitation, now: datetime
) -> OneTimeLink:
    return await issue_link(
        session,
        secret_key,
        purpose=LinkPurpose.TEAM_INVITATION,
        email=invitation.email,
        lifetime=INVITATION_LIFETIME,
        invitation_id=invitation.id,
        now=now,
    )


async def _member_row(session: AsyncSession, panel_id: int, account_id: int) -> tuple[PanelAccess, Account]:
    """The access row and account of a member; NotFound when the account has no access to the panel."""
    row = (
        await session.execute(
            select(PanelAccess, Account)
            .join(Account, Account.id == PanelAccess.account_id)
            .where(PanelAccess.panel_id == panel_id, PanelAccess.account_id == account_id)
        )
    ).first()
    if row is None:
        raise NotFound("There is no such member in this panel's team.")
    access, account = row
    if access.role == PanelRole.OWNER.value:
        raise Forbidden("The owner's own access cannot be changed or revoked here.")
    return access, account


async def change_member(
    session: AsyncSession,
    panel: Panel,
    account_id: int,
    *,
    by: Account,
    role: str | None = None,
    can_contact: bool | None = None,
) -> Member:
    """Set a member's ``role`` and/or ``can_contact`` (None: keep it).  A member made researcher loses the
    contact grant; asking a researcher to have it is :class:`GrantRefused`.  NotFound for an account not on the team,
    Forbidden for the owner's row or a caller who is not the owner.  Audited as ``team.changed`` when something
    changed; returns the member as it is now."""
    await load_panel(session, by, panel.id, OWNERS)
    access, account = await _member_row(session, panel.id, account_id)
    new_role = parse_role(role) if role is not None else None
    target_role = new_role or PanelRole(access.role)
    if can_contact is None:
        target_contact = access.can_contact and target_role == PanelRole.FACILITATOR
    else:
        check_grant(target_role, can_contact)
        target_contact = can_contact
    changed = target_role.value != access.role or target_contact != access.can_contact
    if changed:
        was = access.role
        access.role = target_role.value
        access.can_contact = target_contact
        await session.flush()
        audit.record(
            session,
            actor=Actor.account(by),
            action="team.changed",
            panel_id=panel.id,
            account_id=account.id,
            detail={
                "member": account.email,
                "was": was,
                "role": target_role.value,
                "can_contact": target_contact,
            },
        )
    return Member(
        account.id, account.email, account.name or "", target_role, target_contact, access.created_at
    )


async def revoke_member(session: AsyncSession, panel: Panel, account_id: int, *, by: Account) -> str:
    """Remove a member's access; it ends at once (every request checks the access row).  Returns the member's
    address.  NotFound / Forbidden as :func:`change_member`.  Audited as ``team.revoked``."""
    await load_panel(session, by, panel.id, OWNERS)
    access, account = await _member_row(session, panel.id, account_id)
    role = access.role
    await session.execute(
        delete(PanelAccess).where(PanelAccess.id == access.id).execution_options(synchronize_session=False)
    )
    session.expunge(access)
    audit.record(
        session,
        actor=Actor.account(by),
        action="team.revoked",
        panel_id=panel.id,
        account_id=account.id,
        detail={"member": account.email, "role": role},
    )
    return account.email


async def _pending(session: AsyncSession, panel_id: int, invitation_id: int) -> TeamInvitation:
    invitation = await session.get(TeamInvitation, invitation_id)
    if (
        invitation is None
        or invitation.panel_id != panel_id
        or invitation.accepted_at is not None
        or invitation.revoked_at is not None
    ):
        raise NotFound("There is no such pending invitation on this panel.")
    return invitation


async def revoke_invitation(
    session: AsyncSession, panel: Panel, invitation_id: int, *, by: Account, now: datetime | None = None
) -> TeamInvitation:
    """Withdraw a pending invitation: its links stop working at once.  NotFound for an invitation of another
    panel, accepted or withdrawn already.  Audited as ``team.invitation_revoked``."""
    await load_panel(session, by, panel.id, OWNERS)
    invitation = await _pending(session, panel.id, invitation_id)
    now = now or utcnow()
    invitation.revoked_at = now
    await spend_links(session, now, invitation_id=invitation.id)
    audit.record(
        session,
        actor=Actor.account(by),
        action="team.invitation_revoked",
        panel_id=panel.id,
        detail={"member": invitation.email, "invitation_id": invitation.id},
    )
    return invitation


async def resend_invitation(
    session: AsyncSession,
    panel: Panel,
    invitation_id: int,
    *,
    by: Account,
    secret_key: str,
    now: datetime | None = None,
) -> Shared:
    """A new link for a pending invitation, working for :data:`INVITATION_LIFETIME` from ``now``; the earlier
    links stop working.  The caller queues its mail.  Audited as ``team.invitation_resent``."""
    await load_panel(session, by, panel.id, OWNERS)
    invitation = await _pending(session, panel.id, invitation_id)
    link = await _new_link(session, secret_key, invitation, now or utcnow())
    audit.record(
        session,
        actor=Actor.account(by),
        action="team.invitation_resent",
        panel_id=panel.id,
        detail={"member": invitation.email, "invitation_id": invitation.id},
    )
    role = PanelRole(invitation.role)
    return Shared(invitation.email, role, invitation.can_contact, invitation=invitation, link=link)


# -- the invitee --------------------------------------------------------------------------------------------


async def _usable(
    session: AsyncSession, link: OneTimeLink | None
) -> tuple[OneTimeLink, TeamInvitation, Panel] | None:
    if link is None or link.invitation_id is None:
        return None
    invitation = await session.get(TeamInvitation, link.invitation_id)
    if invitation is None or invitation.accepted_at is not None or invitation.revoked_at is not None:
        return None
    panel = await session.get(Panel, invitation.panel_id)
    return (link, invitation, panel) if panel is not None else None


async def view_invitation(
    session: AsyncSession, token: str, now: datetime | None = None
) -> InvitationView | None:
    """What the link ``token`` invites to, without spending it; None when it does not work (unknown, spent,
    expired, withdrawn or accepted: the page says the same for all of them)."""
    found = await _usable(session, await find_link(session, token, LinkPurpose.TEAM_INVITATION, now))
    if found is None:
        return None
    link, invitation, panel = found
    inviter = await session.get(Account, invitation.invited_by_id) if invitation.invited_by_id else None
    has_account = (
        await session.scalar(select(Account.id).where(Account.email == invitation.email)) is not None
    )
    return InvitationView(
        invitation_id=invitation.id,
        email=invitation.email,
        role=PanelRole(invitation.role),
        can_contact=invitation.can_contact,
        panel_id=panel.id,
        panel_title=panel.title,
        invited_by=(inviter.name or inviter.email) if inviter is not None else "",
        has_account=has_account,
        expires_at=link.expires_at,
    )


def check_new_password(name: str, password: str, repeated: str, *, needs_password: bool) -> None:
    """Every problem of the accept form at once (InvalidInput with ``errors``): a name of 1 to 200 characters,
    and (for a new account) a password as :func:`delphi.security.password_problems` wants it, typed the same
    twice."""
    if not needs_password:
        return
    problems = []
    if not 1 <= len(name.strip()) <= 200:
        problems.append(("name", "Enter your name (up to 200 characters)."))
    problems += password_problems(password, repeated, field="password", repeat_field="password_again")
    if problems:
        raise InvalidInput(problems[0][1], field=problems[0][0], errors=problems)


@dataclass(frozen=True, slots=True)
class Accepted:
    """The account that joined (``created``: it was made now) and its new access."""

    account: Account
    created: bool
    panel_id: int
    role: PanelRole


async def accept_invitation(
    session: AsyncSession,
    token: str,
    *,
    name: str = "",
    password: str = "",
    password_again: str = "",
    now: datetime | None = None,
) -> Accepted | None:
    """Accept the invitation the link ``token`` carries, in the caller's transaction: spend the link, create the
    account (account role facilitator when invited as facilitator, else researcher) unless the address has one
    by now, and give it the access.  None when the link does not work (see :func:`view_invitation`), also when
    a concurrent request spent it first.  InvalidInput (every problem) for a bad name or password, checked
    before the link is spent.  Audited as ``team.invitation_accepted`` (and ``account.created``)."""
    now = now or utcnow()
    preview = await view_invitation(session, token, now)
    if preview is None:
        return None
    check_new_password(name, password, password_again, needs_password=not preview.has_account)
    found = await _usable(session, await use_link(session, token, LinkPurpose.TEAM_INVITATION, now))
    if found is None:
        return None
    _, invitation, panel = found
    account = await session.scalar(select(Account).where(Account.email == invitation.email))
    created = account is None
    if account is None:
        account_role = (
            AccountRole.FACILITATOR if invitation.role == PanelRole.FACILITATOR else AccountRole.RESEARCHER
        )
        account = await create_account(
            session, email=invitation.email, password=password, role=account_role.value, name=name
        )
    existing = await session.scalar(
        select(PanelAccess).where(PanelAccess.panel_id == panel.id, PanelAccess.account_id == account.id)
    )
    role = PanelRole(invitation.role)
    if existing is None:
        session.add(
            PanelAccess(
                panel_id=panel.id,
                account_id=account.id,
                role=role.value,
                can_contact=invitation.can_contact and role == PanelRole.FACILITATOR,
                created_at=now,
            )
        )
    else:
        role = PanelRole(existing.role)  # shared with the account meanwhile: that access stands
    invitation.accepted_at = now
    await session.flush()
    audit.record(
        session,
        actor=Actor.account(account),
        action="team.invitation_accepted",
        panel_id=panel.id,
        account_id=account.id,
        detail={"member": account.email, "role": role.value, "invitation_id": invitation.id},
    )
    return Accepted(account, created, panel.id, role)
