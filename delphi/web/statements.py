"""Facilitator pages of a panel's statements: the list, add one, import many, edit, reorder, pick for the draft.

Controllers parse forms, call the :mod:`delphi.panels.statements` use cases, and either redirect (303) or
re-show the page with an error summary (4xx, the transaction rolled back by
:func:`delphi.panels.access.start_over`). Reading needs a reader's role, changing an editor's
(:mod:`delphi.web.guards`); the edit form is for editors only.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Account
from delphi.domain import Actor
from delphi.errors import DelphiError, InvalidInput
from delphi.panels import listing
from delphi.panels.access import start_over
from delphi.panels.statements import (
    add_statement,
    asked_in_opened_round,
    draft_round,
    edit_statement,
    get_statement,
    import_statements,
    move_statement,
    set_in_draft,
)
from delphi.web.forms import read_form, refused_form, render_form
from delphi.web.guards import EDITORS_ONLY, PanelAccess
from delphi.web.panel_nav import panel_nav


async def _list_ctx(session: AsyncSession, access: PanelAccess, account: Account) -> dict[str, Any]:
    ctx = await panel_nav(session, access, account)
    draft = await draft_round(session, access.panel.id)
    ctx.update(
        statements=await listing.statements_of(session, access.panel.id),
        draft=draft,
        in_draft=await listing.statement_ids_in(session, draft.id) if draft is not None else set(),
        tab="statements",
        values={"text": "", "section": "", "bulk": ""},
    )
    return ctx


async def _edit_ctx(
    session: AsyncSession,
    access: PanelAccess,
    account: Account,
    statement_id: int,
    values: dict[str, str] | None,
) -> dict[str, Any]:
    """The edit form's context; ``values`` None shows the statement's stored text and section."""
    statement = await get_statement(session, access.panel, statement_id)
    ctx = await panel_nav(session, access, account)
    ctx.update(
        statement=statement,
        values=values if values is not None else {"text": statement.text, "section": statement.section},
        asked=await asked_in_opened_round(session, statement.id),
        tab="statements",
    )
    return ctx


async def _posted_statements(request: Request) -> bytes | str:
    """The import's data: the uploaded file's bytes when one was sent and is not empty, else the pasted text."""
    form = await request.form()
    upload = form.get("file")
    data: bytes | str = form.get("bulk", "") or ""
    if upload is not None and not isinstance(upload, str):
        content = await upload.read()
        if content:
            data = content
    return data


def _at_statement(access: PanelAccess, statement_id: int) -> Redirect:
    """Back to the statements page, scrolled to statement ``statement_id`` (303)."""
    return Redirect(f"/panels/{access.panel.id}/statements#s{statement_id}", status_code=303)


class StatementController(Controller):
    path = "/panels/{panel_id:int}/statements"
    include_in_schema = False

    @get("/", name="statements")
    async def index(self, panel_access: PanelAccess, db_session: AsyncSession, account: Account) -> Template:
        return render_form("facilitator/statements.html", await _list_ctx(db_session, panel_access, account))

    @post("/")
    async def add(
        self, panel_access: PanelAccess, request: Request, db_session: AsyncSession, account: Account
    ) -> Redirect | Template:
        panel = panel_access.panel
        form = await read_form(request)
        try:
            await add_statement(
                db_session, panel, form.get("text", ""), form.get("section", ""), Actor.account(account)
            )
        except DelphiError as exc:
            await start_over(db_session, panel, account)
            ctx = await _list_ctx(db_session, panel_access, account)
            ctx["values"].update(text=form.get("text", ""), section=form.get("section", ""))
            return refused_form("facilitator/statements.html", ctx, exc, "text")
        return Redirect(f"/panels/{panel.id}/statements#add", status_code=303)

    @post("/import")
    async def bulk(
        self, panel_access: PanelAccess, request: Request, db_session: AsyncSession, account: Account
    ) -> Redirect | Template:
        panel = panel_access.panel
        data = await _posted_statements(request)
        try:
            await import_statements(db_session, panel, data, Actor.account(account))
        except InvalidInput as exc:
            await start_over(db_session, panel, account)
            ctx = await _list_ctx(db_session, panel_access, account)
            ctx["values"]["bulk"] = data if isinstance(data, str) else ""
            errors = [("bulk", f"{where.capitalize()}: {msg}") for where, msg in exc.errors]
            return render_form("facilitator/statements.html", ctx, errors=errors, status_code=422)
        return Redirect(f"/panels/{panel.id}/statements", status_code=303)

    @get("/{statement_id:int}/edit", opt=EDITORS_ONLY)
    async def edit_form(
        self, panel_access: PanelAccess, statement_id: int, db_session: AsyncSession, account: Account
    ) -> Template:
        ctx = await _edit_ctx(db_session, panel_access, account, statement_id, None)
        return render_form("facilitator/statement_edit.html", ctx)

    @post("/{statement_id:int}/edit")
    async def edit(
        self,
        panel_access: PanelAccess,
        statement_id: int,
        request: Request,
        db_session: AsyncSession,
        account: Account,
    ) -> Redirect | Template:
        panel = panel_access.panel
        form = await read_form(request)
        try:
            await edit_statement(
                db_session,
                panel,
                statement_id,
                form.get("text", ""),
                form.get("section", ""),
                Actor.account(account),
            )
        except DelphiError as exc:
            await start_over(db_session, panel, account)
            ctx = await _edit_ctx(db_session, panel_access, account, statement_id, form)
            return refused_form("facilitator/statement_edit.html", ctx, exc, "text")
        return Redirect(f"/panels/{panel.id}/statements", status_code=303)

    @post("/{statement_id:int}/move")
    async def move(
        self,
        panel_access: PanelAccess,
        statement_id: int,
        request: Request,
        db_session: AsyncSession,
        account: Account,
    ) -> Redirect:
        form = await read_form(request)
        step = -1 if form.get("direction") == "up" else 1
        await move_statement(db_session, panel_access.panel, statement_id, step, Actor.account(account))
        return _at_statement(panel_access, statement_id)

    @post("/{statement_id:int}/draft")
    async def toggle_draft(
        self,
        panel_access: PanelAccess,
        statement_id: int,
        request: Request,
        db_session: AsyncSession,
        account: Account,
    ) -> Redirect:
        form = await read_form(request)
        include = form.get("include") == "1"
        await set_in_draft(db_session, panel_access.panel, statement_id, include, Actor.account(account))
        return _at_statement(panel_access, statement_id)
