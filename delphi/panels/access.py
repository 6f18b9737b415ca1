"""Who may act on a panel: an account's role on it, checked in one place.

A panel the account has no access to is a 404 (its existence is not revealed); access with a role too weak for
the action is a 403 with the reason.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Account, Panel, PanelAccess
from delphi.domain import AccountRole, PanelRole
from delphi.errors import Forbidden, NotFound

#: Roles allowed to change a panel; researchers read and export only.
EDITORS = frozenset({PanelRole.OWNER, PanelRole.FACILITATOR})
READERS = frozenset({PanelRole.OWNER, PanelRole.FACILITATOR, PanelRole.RESEARCHER})
OWNERS = frozenset({PanelRole.OWNER})


def require_panel_creator(account: Account) -> None:
    """Only facilitators and admins create panels: Forbidden (with the reason) for any other account."""
    if account.role not in (AccountRole.ADMIN, AccountRole.FACILITATOR):
        raise Forbidden(
            "Only facilitators and admins can create panels; your account is a researcher account."
        )


async def start_over(session: AsyncSession, panel: Panel, account: Account) -> None:
    """Roll back a refused change and reload ``panel`` and ``account``, so the page is shown again from the
    state before the request (the rollback expires every loaded row; build the page's context after this)."""
    await session.rollback()
    await session.refresh(panel)
    await session.refresh(account)


def can_see_contacts(role: PanelRole, can_contact: bool) -> bool:
    """Whether a panel role sees panellists' e-mail addresses, names and the pseudonym key: the owner always,
    a facilitator only with the owner's "contact panellists" grant (``can_contact``), a researcher never.
    Everyone else on the panel sees pseudonyms only."""
    if role == PanelRole.OWNER:
        return True
    return role == PanelRole.FACILITATOR and can_contact


async def panel_grant(
    session: AsyncSession, account: Account, panel_id: int
) -> tuple[PanelRole, bool] | None:
    """``(role, can_contact)`` of the account on the panel (one query), None without access; admins act as
    owners of every panel."""
    if account.role == AccountRole.ADMIN:
        return PanelRole.OWNER, True
    row = (
        await session.execute(
            select(PanelAccess.role, PanelAccess.can_contact).where(
                PanelAccess.panel_id == panel_id, PanelAccess.account_id == account.id
            )
        )
    ).first()
    return (PanelRole(row[0]), bool(row[1])) if row is not None and row[0] else None


async def panel_role(session: AsyncSession, account: Account, panel_id: int) -> PanelRole | None:
    """The account's role on the panel; admins act as owners of every panel."""
    grant = await panel_grant(session, account, panel_id)
    return grant[0] if grant is not None else None


async def load_panel(
    session: AsyncSession, account: Account, panel_id: int, allowed: frozenset[PanelRole] = READERS
) -> tuple[Panel, PanelRole]:
    """Load a panel the account may act on with one of ``allowed`` roles.

    Raises NotFound when the panel does not exist or the account has no role on it, Forbidden when its role is
    not among ``allowed``.
    """
    panel, role, _ = await load_panel_grant(session, account, panel_id, allowed)
    return panel, role


async def load_panel_grant(
    session: AsyncSession, account: Account, panel_id: int, allowed: frozenset[PanelRole] = READERS
) -> tuple[Panel, PanelRole, bool]:
    """:func:`load_panel`, plus whether the account sees panellists' contacts (:func:`can_see_contacts`)."""
    panel = await session.get(Panel, panel_id)
    grant = await panel_grant(session, account, panel_id) if panel is not None else None
    if panel is None or grant is None:
        raise NotFound("There is no panel at this address, or you have no access to it.")
    role, can_contact = grant
    if role not in allowed:
        need = "the panel's owner" if allowed == OWNERS else "a facilitator of this panel"
        raise Forbidden(f"Only {need} can do this; your role on this panel is {role.value}.")
    return panel, role, can_see_contacts(role, can_contact)


async def visible_panels(session: AsyncSession, account: Account) -> list[tuple[Panel, PanelRole]]:
    """Panels the account may see, newest first, with its role on each."""
    if account.role == AccountRole.ADMIN:
        panels = (
            await session.scalars(select(Panel).order_by(Panel.created_at.desc(), Panel.id.desc()))
        ).all()
        return [(p, PanelRole.OWNER) for p in panels]
    rows = (
        await session.execute(
            select(Panel, PanelAccess.role)
            .join(PanelAccess, PanelAccess.panel_id == Panel.id)
            .where(PanelAccess.account_id == account.id)
            .order_by(Panel.created_at.desc(), Panel.id.desc())
        )
    ).all()
    return [(p, PanelRole(r)) for p, r in rows]
