"""API of a panel's team: read it (everyone on the panel), share, change and revoke (the owner only).

The same use cases as the team page (:mod:`delphi.panels.team`), the same refusals as RFC 9457 problems: 400
for a body outside the schema, 422 for an address the schema lets through that is still not one, 409 for an
address that has access or a pending invitation already, 403 for anyone but the owner, for the owner's own
access and for a researcher with the contact grant, 404 for a member or an invitation the panel does not have.
"""

from __future__ import annotations

from typing import Any

from litestar import delete, get, patch, post
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Account
from delphi.mail.team import notify_shared
from delphi.panels import team
from delphi.settings import Settings
from delphi.web import schemas
from delphi.web.api.problems import PROBLEMS, problem_spec
from delphi.web.guards import OWNERS_ONLY, PanelAccess
from delphi.web.schemas import RowId

INVALID = {422: problem_spec("The body is not acceptable; `errors` lists every problem.")}
TAKEN = {409: problem_spec("The address has access to the panel already, or a pending invitation.")}


def member_schema(m: team.Member) -> schemas.TeamMember:
    return schemas.TeamMember(
        m.account_id, m.email, m.name, m.role.value, m.can_contact, m.sees_contacts, m.since
    )


def invitation_schema(i: team.PendingInvitation) -> schemas.TeamInvitation:
    return schemas.TeamInvitation(
        i.id, i.email, i.role.value, i.can_contact, i.invited_at, i.invited_by, i.expires_at, i.usable
    )


@get("/panels/{panel_id:int}/team", responses=PROBLEMS, summary="The panel's team and pending invitations")
async def get_team(panel_access: PanelAccess, db_session: AsyncSession) -> schemas.Team:
    found = await team.list_team(db_session, panel_access.panel.id)
    return schemas.Team(
        [member_schema(m) for m in found.members], [invitation_schema(i) for i in found.invitations]
    )


@post(
    "/panels/{panel_id:int}/team",
    opt=OWNERS_ONLY,
    responses={**PROBLEMS, **INVALID, **TAKEN},
    summary="Share the panel with an e-mail address (the owner)",
)
async def share(
    panel_access: PanelAccess,
    data: schemas.Share,
    db_session: AsyncSession,
    settings: Settings,
    account: Account,
) -> schemas.Shared:
    panel = panel_access.panel
    shared = await team.share(
        db_session,
        panel,
        by=account,
        email=data.email,
        role=data.role,
        can_contact=data.can_contact,
        secret_key=settings.secret_key,
    )
    await notify_shared(db_session, panel, shared, by=account, base_url=settings.base_url)
    await db_session.flush()
    found = await team.list_team(db_session, panel.id)
    if shared.access is not None:
        member = next(m for m in found.members if m.email == shared.email)
        return schemas.Shared("shared", member=member_schema(member))
    invitation = next(i for i in found.invitations if shared.invitation and i.id == shared.invitation.id)
    return schemas.Shared("invited", invitation=invitation_schema(invitation))


@patch(
    "/panels/{panel_id:int}/team/members/{account_id:int}",
    opt=OWNERS_ONLY,
    responses={**PROBLEMS, **INVALID},
    summary="Change a member's role or contact grant (the owner)",
)
async def change_member(
    panel_access: PanelAccess,
    account_id: RowId,
    data: schemas.MemberChange,
    db_session: AsyncSession,
    account: Account,
) -> schemas.TeamMember:
    member = await team.change_member(
        db_session, panel_access.panel, account_id, by=account, role=data.role, can_contact=data.can_contact
    )
    await db_session.flush()
    return member_schema(member)


@delete(
    "/panels/{panel_id:int}/team/members/{account_id:int}",
    opt=OWNERS_ONLY,
    responses=PROBLEMS,
    summary="Revoke a member's access, at once (the owner)",
)
async def revoke_member(
    panel_access: PanelAccess, account_id: RowId, db_session: AsyncSession, account: Account
) -> None:
    await team.revoke_member(db_session, panel_access.panel, account_id, by=account)
    await db_session.flush()


@delete(
    "/panels/{panel_id:int}/team/invitations/{invitation_id:int}",
    opt=OWNERS_ONLY,
    responses=PROBLEMS,
    summary="Withdraw a pending invitation; its link stops working (the owner)",
)
async def revoke_invitation(
    panel_access: PanelAccess, invitation_id: RowId, db_session: AsyncSession, account: Account
) -> None:
    await team.revoke_invitation(db_session, panel_access.panel, invitation_id, by=account)
    await db_session.flush()


HANDLERS: list[Any] = [get_team, share, change_member, revoke_member, revoke_invitation]
