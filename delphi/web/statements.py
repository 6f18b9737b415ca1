"""Facilitator pages of a panel's statements: the list, add one, import many (previewed first), edit, reorder,
pick for the draft, delete one before round 1 opens.

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
from delphi.errors import Conflict, DelphiError
from delphi.panels import listing
from delphi.panels.access import start_over
from delphi.panels.numbering import panel_statement_labels
from delphi.panels.statements import (
    add_statement,
    asked_in_opened_round,
    delete_statement,
    deleting_allowed,
    draft_round,
    edit_statement,
    get_statement,
    import_statements,
    move_statement,
    preview_statement_import,
    set_in_draft,
    why_not_deletable,
)
from delphi.panels.textfile import UnreadableFile, read_text
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
        can_delete=await deleting_allowed(session, access.panel),
        preview=None,
        labels=await panel_statement_labels(session, access.panel.id),
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


async def _posted_statements(request: Request) -> tuple[bytes | str, bool]:
    """``(data, confirmed)``: the uploaded file's bytes when one was sent and is not empty, else the pasted
    text (``bulk``, also what the preview sends back), and whether the preview's "Import" was pressed."""
    form = await request.form()
    upload = form.get("file")
    data: bytes | str = form.get("bulk", "") or ""
    if upload is not None and not isinstance(upload, str):
        content = await upload.read()
        if content:
            data = content
    return data, form.get("confirm") == "1"


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
        """First post (upload or paste): a preview listing every statement and every problem with its line.
        Posted again with ``confirm=1`` and no problems: imports the same text. A file with any problem
        imports nothing."""
        panel = panel_access.panel
        data, confirmed = await _posted_statements(request)
        ctx = await _list_ctx(db_session, panel_access, account)
        try:
            text = read_text(data).text
        except UnreadableFile as exc:
            where = "bulk" if isinstance(data, str) else "file"
            return render_form(
                "facilitator/statements.html", ctx, errors=[(where, exc.message)], status_code=422
            )
        ctx["values"]["bulk"] = text
        if not text.strip():
            errors = [("bulk", "Paste statements, one per line, or choose a CSV file.")]
            return render_form("facilitator/statements.html", ctx, errors=errors, status_code=422)
        preview = await preview_statement_import(db_session, panel, text)
        if confirmed and preview.ok:
            try:
                added = await import_statements(db_session, panel, text, Actor.account(account))
            except DelphiError as exc:
                await start_over(db_session, panel, account)
                ctx = await _list_ctx(db_session, panel_access, account)
                ctx["values"]["bulk"] = text
                return refused_form("facilitator/statements.html", ctx, exc, "bulk")
            return Redirect(f"/panels/{panel.id}/statements?imported={len(added)}", status_code=303)
        ctx["preview"] = preview
        errors = [(f"line-{line}", f"Line {line}: {msg}" if line else msg) for line, msg in preview.problems]
        return render_form(
            "facilitator/statements_preview.html", ctx, errors=errors, status_code=422 if errors else 200
        )

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

    @get("/{statement_id:int}/delete", opt=EDITORS_ONLY)
    async def delete_form(
        self, panel_access: PanelAccess, statement_id: int, db_session: AsyncSession, account: Account
    ) -> Template:
        """The confirmation: the statement's text and a "Delete" button, or why it can no longer be deleted."""
        ctx = await _edit_ctx(db_session, panel_access, account, statement_id, None)
        ctx["refusal"] = await why_not_deletable(db_session, panel_access.panel, ctx["statement"])
        return render_form("facilitator/statement_delete.html", ctx)

    @post("/{statement_id:int}/delete")
    async def delete(
        self, panel_access: PanelAccess, statement_id: int, db_session: AsyncSession, account: Account
    ) -> Redirect | Template:
        panel = panel_access.panel
        try:
            await delete_statement(db_session, panel, statement_id, Actor.account(account))
        except Conflict as exc:
            await start_over(db_session, panel, account)
            ctx = await _edit_ctx(db_session, panel_access, account, statement_id, None)
            ctx["refusal"] = exc.message
            return refused_form("facilitator/statement_delete.html", ctx, exc, "")
        return Redirect(f"/panels/{panel.id}/statements?deleted=1", status_code=303)
