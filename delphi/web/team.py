"""The panel's team page (``/panels/{id}/team``) and the invitation page (``/invitation/{token}``).

Everyone on the panel sees who is on the team; only the owner (or an admin) shares, changes, revokes and resends
(:data:`~delphi.web.guards.OWNERS_ONLY`), through the use cases of :mod:`delphi.panels.team`; the mail of a share
or a resend is queued in the same transaction (:func:`delphi.mail.team.notify_shared`).  A refused form is shown
again with an error summary (4xx, nothing saved).

The invitation page needs no sign-in: the one-time link is the proof of the address.  Every link that does not
work (unknown, spent, expired, withdrawn, accepted) gets the same neutral page, a 404.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, MediaType, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Account
from delphi.errors import DelphiError, InvalidInput
from delphi.mail.team import notify_shared
from delphi.panels import team
from delphi.panels.access import start_over
from delphi.settings import Settings
from delphi.web.forms import read_form, render_form
from delphi.web.guards import OWNERS_ONLY, PanelAccess
from delphi.web.panel_nav import panel_nav
from delphi.web.schemas import RowId

TEMPLATE = "facilitator/team.html"


async def _ctx(session: AsyncSession, access: PanelAccess, account: Account) -> dict[str, Any]:
    ctx = await panel_nav(session, access, account)
    ctx.update(
        team=await team.list_team(session, access.panel.id),
        role_labels={r.value: label for r, label in team.ROLE_LABELS.items()},
        shareable=[r.value for r in team.SHAREABLE],
        tab="team",
        values={},
    )
    return ctx


def _errors(exc: DelphiError, field: str) -> list[tuple[str, str]]:
    if isinstance(exc, InvalidInput):
        return [(f or field, m) for f, m in exc.errors]
    return [(exc.field or field, exc.message)]


class TeamController(Controller):
    """Who is on the panel's team, and the owner's forms to change it."""

    path = "/panels/{panel_id:int}/team"
    include_in_schema = False

    @get("/", name="panel_team")
    async def index(self, panel_access: PanelAccess, db_session: AsyncSession, account: Account) -> Template:
        return render_form(TEMPLATE, await _ctx(db_session, panel_access, account))

    async def _refused(
        self,
        db_session: AsyncSession,
        access: PanelAccess,
        account: Account,
        exc: DelphiError,
        field: str,
        values: dict[str, str] | None = None,
    ) -> Template:
        await start_over(db_session, access.panel, account)
        ctx = await _ctx(db_session, access, account)
        ctx["values"] = values or {}
        return render_form(TEMPLATE, ctx, errors=_errors(exc, field), status_code=exc.status_code)

    @post("/", opt=OWNERS_ONLY)
    async def share(
        self,
        panel_access: PanelAccess,
        request: Request,
        db_session: AsyncSession,
        settings: Settings,
        account: Account,
    ) -> Redirect | Template:
        """Share the panel with the address typed (``email``, ``role``, ``can_contact``)."""
        form = await read_form(request)
        panel = panel_access.panel
        try:
            shared = await team.share(
                db_session,
                panel,
                by=account,
                email=form.get("email", "")[:400],
                role=form.get("role", ""),
                can_contact=form.get("can_contact") == "on",
                secret_key=settings.secret_key,
            )
            await notify_shared(db_session, panel, shared, by=account, base_url=settings.base_url)
        except DelphiError as exc:
            return await self._refused(db_session, panel_access, account, exc, "email", form)
        what = "shared" if shared.access is not None else "invited"
        return Redirect(f"/panels/{panel.id}/team?{what}=1", status_code=303)

    @post("/members/{account_id:int}", opt=OWNERS_ONLY)
    async def change(
        self,
        panel_access: PanelAccess,
        account_id: RowId,
        request: Request,
        db_session: AsyncSession,
        account: Account,
    ) -> Redirect | Template:
        """Set a member's role and contact grant (``role``, ``can_contact``)."""
        form = await read_form(request)
        try:
            await team.change_member(
                db_session,
                panel_access.panel,
                account_id,
                by=account,
                role=form.get("role", ""),
                can_contact=form.get("can_contact") == "on",
            )
        except (InvalidInput, team.GrantRefused) as exc:
            field = f"{exc.field or 'role'}-{account_id}"
            shown = type(exc)(exc.message, field=field)
            return await self._refused(db_session, panel_access, account, shown, field)
        return Redirect(f"/panels/{panel_access.panel.id}/team?changed=1", status_code=303)

    @post("/members/{account_id:int}/revoke", opt=OWNERS_ONLY)
    async def revoke(
        self, panel_access: PanelAccess, account_id: RowId, db_session: AsyncSession, account: Account
    ) -> Redirect:
        await team.revoke_member(db_session, panel_access.panel, account_id, by=account)
        return Redirect(f"/panels/{panel_access.panel.id}/team?revoked=1", status_code=303)

    @post("/invitations/{invitation_id:int}/resend", opt=OWNERS_ONLY)
    async def resend(
        self,
        panel_access: PanelAccess,
        invitation_id: RowId,
        db_session: AsyncSession,
        settings: Settings,
        account: Account,
    ) -> Redirect:
        panel = panel_access.panel
        shared = await team.resend_invitation(
            db_session, panel, invitation_id, by=account, secret_key=settings.secret_key
        )
        await notify_shared(db_session, panel, shared, by=account, base_url=settings.base_url)
        return Redirect(f"/panels/{panel.id}/team?resent=1", status_code=303)

    @post("/invitations/{invitation_id:int}/revoke", opt=OWNERS_ONLY)
    async def withdraw(
        self, panel_access: PanelAccess, invitation_id: RowId, db_session: AsyncSession, account: Account
    ) -> Redirect:
        await team.revoke_invitation(db_session, panel_access.panel, invitation_id, by=account)
        return Redirect(f"/panels/{panel_access.panel.id}/team?withdrawn=1", status_code=303)


def _unusable() -> Template:
    return Template("account/invitation_unusable.html", status_code=404, media_type=MediaType.HTML)


class InvitationController(Controller):
    """``/invitation/{token}``: who invited you to which panel as what, and the form that creates the account."""

    path = "/invitation"
    include_in_schema = False

    @get("/{token:str}", name="team_invitation")
    async def show(self, token: str, db_session: AsyncSession) -> Template:
        view = await team.view_invitation(db_session, token)
        if view is None:
            return _unusable()
        return render_form("account/invitation.html", {"view": view, "name": "", "token": token})

    @post("/{token:str}")
    async def accept(self, token: str, request: Request, db_session: AsyncSession) -> Redirect | Template:
        """Create the account (or, for an address that has one, just the access); then to the login page."""
        form = await read_form(request)
        name = form.get("name", "")[:300]
        try:
            accepted = await team.accept_invitation(
                db_session,
                token,
                name=name,
                password=form.get("password", "")[:1000],
                password_again=form.get("password_again", "")[:1000],
            )
        except DelphiError as exc:
            await db_session.rollback()
            view = await team.view_invitation(db_session, token)
            if view is None:
                return _unusable()
            ctx = {"view": view, "name": name, "token": token}
            errors = _errors(exc, "name")
            return render_form("account/invitation.html", ctx, errors=errors, status_code=exc.status_code)
        if accepted is None:
            return _unusable()
        return Redirect(f"/login?joined=1&next=/panels/{accepted.panel_id}", status_code=303)
