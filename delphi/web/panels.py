"""Facilitator pages of a panel itself: create it, its overview, settings, groups and audit trail.

Controllers parse forms, call the :mod:`delphi.panels` use cases, and either redirect (303, the write commits)
or re-show the form with an error summary (4xx, the transaction rolls back). The panel and the account's role
come from the ``panel_access`` dependency (:mod:`delphi.web.guards`).
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, MediaType, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit
from delphi.db.models import Account
from delphi.domain import Actor
from delphi.errors import Conflict, DelphiError, InvalidInput
from delphi.panels import listing
from delphi.panels.access import require_panel_creator, start_over
from delphi.panels.groups import add_group, delete_group, rename_group
from delphi.panels.settings import create_panel, locked_rule_repair, update_panel
from delphi.rounds.overview import round_overview
from delphi.stats import ConsensusRule
from delphi.web import panel_form
from delphi.web.forms import read_form, refused_form, render_form
from delphi.web.guards import EDITORS_ONLY, PanelAccess
from delphi.web.panel_nav import panel_nav


def _new_panel_form(account: Account, values: dict[str, Any]) -> dict[str, Any]:
    return {
        "account": account,
        **panel_form.context(values),
        "action": "/panels",
        "locked": False,
        "panel": None,
    }


async def _settings_ctx(
    session: AsyncSession, access: PanelAccess, account: Account, values: dict[str, Any]
) -> dict[str, Any]:
    panel = access.panel
    ctx = await panel_nav(session, access, account)
    ctx.update(
        **panel_form.context(values),
        action=f"/panels/{panel.id}/settings",
        locked=panel.rule_locked_at is not None,
        rule_repair=locked_rule_repair(panel),
        tab="settings",
    )
    return ctx


async def _groups_ctx(session: AsyncSession, access: PanelAccess, account: Account) -> dict[str, Any]:
    ctx = await panel_nav(session, access, account)
    rows = await listing.groups_with_counts(session, access.panel.id)
    ctx.update(groups=rows, tab="groups", name="", renaming=None, rename_value="")
    return ctx


class PanelController(Controller):
    """Panel creation, overview, settings, groups and the audit trail."""

    path = "/panels"
    include_in_schema = False

    @get("/new", name="panel_new")
    async def new_form(self, account: Account) -> Template:
        require_panel_creator(account)
        return render_form(
            "facilitator/panel_form.html", _new_panel_form(account, panel_form.form_values(None))
        )

    @post("/", name="panel_create")
    async def create(
        self, request: Request, db_session: AsyncSession, account: Account
    ) -> Redirect | Template:
        require_panel_creator(account)
        form = await read_form(request)
        try:
            panel = await create_panel(
                db_session, panel_form.panel_input(form), account.id, Actor.account(account)
            )
        except InvalidInput as exc:
            return render_form(
                "facilitator/panel_form.html",
                _new_panel_form(account, panel_form.posted_values(form)),
                errors=exc.errors,
                status_code=422,
            )
        return Redirect(f"/panels/{panel.id}", status_code=303)

    @get("/{panel_id:int}", name="panel_overview")
    async def overview(
        self, panel_access: PanelAccess, db_session: AsyncSession, account: Account
    ) -> Template:
        panel = panel_access.panel
        ctx = await panel_nav(db_session, panel_access, account)
        ctx.update(
            groups=await listing.groups_with_counts(db_session, panel.id),
            n_statements=await listing.statement_count(db_session, panel.id),
            overview=await round_overview(db_session, panel),
            rule_text=ConsensusRule.from_dict(panel.rule).describe(),
            tab="overview",
        )
        return Template("facilitator/panel.html", context=ctx, media_type=MediaType.HTML)

    @get("/{panel_id:int}/settings", name="panel_settings", opt=EDITORS_ONLY)
    async def settings_form(
        self, panel_access: PanelAccess, db_session: AsyncSession, account: Account
    ) -> Template:
        values = panel_form.form_values(panel_access.panel)
        return render_form(
            "facilitator/panel_form.html", await _settings_ctx(db_session, panel_access, account, values)
        )

    @post("/{panel_id:int}/settings")
    async def save_settings(
        self, panel_access: PanelAccess, request: Request, db_session: AsyncSession, account: Account
    ) -> Redirect | Template:
        panel = panel_access.panel
        form = await read_form(request)
        try:
            await update_panel(db_session, panel, panel_form.panel_input(form), Actor.account(account))
        except DelphiError as exc:
            # The rollback expires every loaded row, so the page's context is built after it, not before.
            await start_over(db_session, panel, account)
            ctx = await _settings_ctx(db_session, panel_access, account, panel_form.posted_values(form))
            errors = exc.errors if isinstance(exc, InvalidInput) else [(exc.field or "", exc.message)]
            status = 422 if isinstance(exc, InvalidInput) else exc.status_code
            return render_form("facilitator/panel_form.html", ctx, errors=errors, status_code=status)
        return Redirect(f"/panels/{panel.id}?saved=settings", status_code=303)

    @get("/{panel_id:int}/groups", name="panel_groups")
    async def groups(self, panel_access: PanelAccess, db_session: AsyncSession, account: Account) -> Template:
        return render_form("facilitator/groups.html", await _groups_ctx(db_session, panel_access, account))

    @post("/{panel_id:int}/groups")
    async def add_group(
        self, panel_access: PanelAccess, request: Request, db_session: AsyncSession, account: Account
    ) -> Redirect | Template:
        panel = panel_access.panel
        form = await read_form(request)
        try:
            await add_group(
                db_session,
                panel,
                form.get("name", ""),
                Actor.account(account),
                lived_experience=form.get("lived_experience") == "on",
            )
        except DelphiError as exc:
            await start_over(db_session, panel, account)
            ctx = await _groups_ctx(db_session, panel_access, account)
            ctx["name"] = form.get("name", "")
            return refused_form("facilitator/groups.html", ctx, exc, "name")
        return Redirect(f"/panels/{panel.id}/groups", status_code=303)

    @post("/{panel_id:int}/groups/{group_id:int}/rename")
    async def rename_group(
        self,
        panel_access: PanelAccess,
        group_id: int,
        request: Request,
        db_session: AsyncSession,
        account: Account,
    ) -> Redirect | Template:
        """Rename a group (at any time); a refused name re-shows the page with that group's form open."""
        panel = panel_access.panel
        form = await read_form(request)
        try:
            await rename_group(db_session, panel, group_id, form.get("name", ""), Actor.account(account))
        except (InvalidInput, Conflict) as exc:
            await start_over(db_session, panel, account)
            ctx = await _groups_ctx(db_session, panel_access, account)
            ctx.update(renaming=group_id, rename_value=form.get("name", ""))
            errors = [(f"rename-{group_id}", exc.message)]
            return render_form("facilitator/groups.html", ctx, errors=errors, status_code=exc.status_code)
        return Redirect(f"/panels/{panel.id}/groups?renamed=1", status_code=303)

    @post("/{panel_id:int}/groups/{group_id:int}/delete")
    async def delete_group(
        self, panel_access: PanelAccess, group_id: int, db_session: AsyncSession, account: Account
    ) -> Redirect:
        await delete_group(db_session, panel_access.panel, group_id, Actor.account(account))
        return Redirect(f"/panels/{panel_access.panel.id}/groups", status_code=303)

    @get("/{panel_id:int}/audit", name="panel_audit")
    async def audit_trail(
        self, panel_access: PanelAccess, db_session: AsyncSession, account: Account
    ) -> Template:
        ctx = await panel_nav(db_session, panel_access, account)
        events = await audit.latest_events(db_session, panel_access.panel.id)
        # An edited comment's original wording may identify someone: editors only (delphi.audit.REDACTIONS).
        editor = panel_access.can_edit
        entries = [
            (
                e,
                audit.who(e.actor),
                audit.describe(e.action, e.detail),
                audit.redaction_wording(e.action, e.detail) if editor else None,
            )
            for e in events
        ]
        ctx.update(entries=entries, tab="audit")
        return Template("facilitator/audit.html", context=ctx, media_type=MediaType.HTML)
