"""Facilitator pages of an open round 1: choose that round 1 asks open questions, and add, edit, reorder and
delete its questions while round 1 is a draft (``/panels/{id}/open-questions``).

Controllers parse forms and call :mod:`delphi.panels.open_questions`; they redirect (303) or re-show the page with
an error summary listing every problem (400, the transaction rolled back).  Reading needs a reader's role,
changing an editor's (:mod:`delphi.web.guards`).
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Account
from delphi.domain import Actor
from delphi.errors import DelphiError, InvalidInput
from delphi.panels import open_questions as oq
from delphi.panels.access import start_over
from delphi.web.forms import read_form, render_form
from delphi.web.guards import PanelAccess
from delphi.web.panel_nav import panel_nav

TEMPLATE = "facilitator/open_questions.html"


async def _ctx(session: AsyncSession, access: PanelAccess, account: Account) -> dict[str, Any]:
    ctx = await panel_nav(session, access, account)
    first = await oq.round_one(session, access.panel)
    ctx.update(
        tab="round1",
        round1=first,
        questions=await oq.list_questions(session, access.panel.id),
        editable=first is not None and first.status == "draft",
        values={"text": "", "hint": ""},
        edit_values={},
    )
    return ctx


def _errors(exc: DelphiError, field: str) -> list[tuple[str, str]]:
    return list(getattr(exc, "errors", None) or [(exc.field or field, exc.message)])


def _status(exc: DelphiError) -> int:
    """400 for a form with problems, else the refusal's own status (404 for another panel's question, 409 once
    round 1 has opened)."""
    return 400 if isinstance(exc, InvalidInput) else exc.status_code


class OpenQuestionController(Controller):
    path = "/panels/{panel_id:int}/open-questions"
    include_in_schema = False

    @get("/", name="open-questions")
    async def index(self, panel_access: PanelAccess, db_session: AsyncSession, account: Account) -> Template:
        return render_form(TEMPLATE, await _ctx(db_session, panel_access, account))

    async def _refused(
        self,
        session: AsyncSession,
        access: PanelAccess,
        account: Account,
        exc: DelphiError,
        field: str,
        **values: Any,
    ) -> Template:
        await start_over(session, access.panel, account)
        ctx = await _ctx(session, access, account)
        ctx.update(values)
        return render_form(TEMPLATE, ctx, errors=_errors(exc, field), status_code=_status(exc))

    @post("/kind")
    async def set_kind(
        self, panel_access: PanelAccess, request: Request, db_session: AsyncSession, account: Account
    ) -> Redirect | Template:
        """Round 1 asks open questions (``kind=open``) or statements to rate (``kind=rating``)."""
        form = await read_form(request)
        try:
            await oq.set_round_kind(
                db_session, panel_access.panel, form.get("kind", ""), Actor.account(account)
            )
        except DelphiError as exc:
            return await self._refused(db_session, panel_access, account, exc, "kind")
        return Redirect(f"/panels/{panel_access.panel.id}/open-questions", status_code=303)

    @post("/")
    async def add(
        self, panel_access: PanelAccess, request: Request, db_session: AsyncSession, account: Account
    ) -> Redirect | Template:
        form = await read_form(request)
        text, hint = form.get("text", ""), form.get("hint", "")
        try:
            await oq.add_question(db_session, panel_access.panel, text, hint, Actor.account(account))
        except DelphiError as exc:
            return await self._refused(
                db_session, panel_access, account, exc, "text", values={"text": text, "hint": hint}
            )
        return Redirect(f"/panels/{panel_access.panel.id}/open-questions#add", status_code=303)

    @post("/{question_id:int}")
    async def edit(
        self,
        panel_access: PanelAccess,
        question_id: int,
        request: Request,
        db_session: AsyncSession,
        account: Account,
    ) -> Redirect | Template:
        form = await read_form(request)
        text, hint = form.get("text", ""), form.get("hint", "")
        try:
            await oq.edit_question(
                db_session, panel_access.panel, question_id, text, hint, Actor.account(account)
            )
        except DelphiError as exc:
            exc_errors = [(f"q{question_id}-{f}", m) for f, m in _errors(exc, "text")]
            await start_over(db_session, panel_access.panel, account)
            ctx = await _ctx(db_session, panel_access, account)
            ctx["edit_values"] = {question_id: {"text": text, "hint": hint}}
            return render_form(TEMPLATE, ctx, errors=exc_errors, status_code=_status(exc))
        return Redirect(f"/panels/{panel_access.panel.id}/open-questions#q{question_id}", status_code=303)

    @post("/{question_id:int}/delete")
    async def delete(
        self, panel_access: PanelAccess, question_id: int, db_session: AsyncSession, account: Account
    ) -> Redirect | Template:
        try:
            await oq.delete_question(db_session, panel_access.panel, question_id, Actor.account(account))
        except DelphiError as exc:
            return await self._refused(db_session, panel_access, account, exc, "")
        return Redirect(f"/panels/{panel_access.panel.id}/open-questions", status_code=303)

    @post("/{question_id:int}/move")
    async def move(
        self,
        panel_access: PanelAccess,
        question_id: int,
        request: Request,
        db_session: AsyncSession,
        account: Account,
    ) -> Redirect | Template:
        form = await read_form(request)
        direction = -1 if form.get("direction") == "up" else 1
        try:
            await oq.move_question(
                db_session, panel_access.panel, question_id, direction, Actor.account(account)
            )
        except DelphiError as exc:
            return await self._refused(db_session, panel_access, account, exc, "")
        return Redirect(f"/panels/{panel_access.panel.id}/open-questions#q{question_id}", status_code=303)
