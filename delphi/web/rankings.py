"""Facilitator pages of a panel's ranking questions: the list with the add form, edit, delete (while no opened
round asked the question), and add to or drop from the draft round.

Controllers parse forms, call the :mod:`delphi.panels.rankings` use cases, and either redirect (303) or re-show
the page with an error summary listing every problem (4xx; the transaction rolled back by
:func:`delphi.panels.access.start_over`). Reading needs a reader's role (researchers see the list), changing an
editor's (:mod:`delphi.web.guards`); the edit and delete pages are for editors only.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Account
from delphi.domain import Actor
from delphi.errors import DelphiError, InvalidInput
from delphi.panels.access import start_over
from delphi.panels.rankings import (
    MAX_ITEMS,
    MIN_ITEMS,
    add_ranking_question,
    delete_ranking_question,
    edit_ranking_question,
    get_ranking_question,
    question_items,
    ranking_questions,
    set_ranking_in_draft,
    why_not_changeable,
)
from delphi.panels.statements import draft_round
from delphi.web.forms import read_form, render_form
from delphi.web.guards import EDITORS_ONLY, PanelAccess
from delphi.web.panel_nav import panel_nav

EMPTY = {"text": "", "items": "", "allow_ties": False}


def _posted(form: dict[str, str]) -> dict[str, Any]:
    return {
        "text": form.get("text", ""),
        "items": form.get("items", ""),
        "allow_ties": form.get("allow_ties") == "on",
    }


async def _list_ctx(session: AsyncSession, access: PanelAccess, account: Account) -> dict[str, Any]:
    ctx = await panel_nav(session, access, account)
    ctx.update(
        questions=await ranking_questions(session, access.panel.id),
        draft=await draft_round(session, access.panel.id),
        tab="rankings",
        values=dict(EMPTY),
        min_items=MIN_ITEMS,
        max_items=MAX_ITEMS,
    )
    return ctx


async def _question_ctx(
    session: AsyncSession,
    access: PanelAccess,
    account: Account,
    ranking_id: int,
    values: dict[str, Any] | None,
) -> dict[str, Any]:
    """The edit or delete page's context; ``values`` None shows the stored question."""
    question = await get_ranking_question(session, access.panel, ranking_id)
    items = await question_items(session, question.id)
    ctx = await panel_nav(session, access, account)
    ctx.update(
        question=question,
        items=items,
        refusal=await why_not_changeable(session, question),
        values=values
        if values is not None
        else {
            "text": question.text,
            "items": "\n".join(i.text for i in items),
            "allow_ties": question.allow_ties,
        },
        tab="rankings",
        min_items=MIN_ITEMS,
        max_items=MAX_ITEMS,
    )
    return ctx


def _problems(exc: DelphiError, field: str) -> list[tuple[str, str]]:
    """Every problem of a refused post, for the error summary."""
    if isinstance(exc, InvalidInput):
        return exc.errors
    return [(exc.field or field, exc.message)]


class RankingController(Controller):
    path = "/panels/{panel_id:int}/rankings"
    include_in_schema = False

    @get("/", name="rankings")
    async def index(self, panel_access: PanelAccess, db_session: AsyncSession, account: Account) -> Template:
        return render_form("facilitator/rankings.html", await _list_ctx(db_session, panel_access, account))

    @post("/")
    async def add(
        self, panel_access: PanelAccess, request: Request, db_session: AsyncSession, account: Account
    ) -> Redirect | Template:
        panel = panel_access.panel
        values = _posted(await read_form(request))
        try:
            question = await add_ranking_question(
                db_session,
                panel,
                values["text"],
                values["items"],
                values["allow_ties"],
                Actor.account(account),
            )
        except DelphiError as exc:
            await start_over(db_session, panel, account)
            ctx = await _list_ctx(db_session, panel_access, account)
            ctx["values"] = values
            return render_form(
                "facilitator/rankings.html", ctx, errors=_problems(exc, "text"), status_code=exc.status_code
            )
        return Redirect(f"/panels/{panel.id}/rankings#q{question.id}", status_code=303)

    @get("/{ranking_id:int}/edit", opt=EDITORS_ONLY)
    async def edit_form(
        self, panel_access: PanelAccess, ranking_id: int, db_session: AsyncSession, account: Account
    ) -> Template:
        ctx = await _question_ctx(db_session, panel_access, account, ranking_id, None)
        return render_form("facilitator/ranking_edit.html", ctx)

    @post("/{ranking_id:int}/edit")
    async def edit(
        self,
        panel_access: PanelAccess,
        ranking_id: int,
        request: Request,
        db_session: AsyncSession,
        account: Account,
    ) -> Redirect | Template:
        panel = panel_access.panel
        values = _posted(await read_form(request))
        try:
            await edit_ranking_question(
                db_session,
                panel,
                ranking_id,
                values["text"],
                values["items"],
                values["allow_ties"],
                Actor.account(account),
            )
        except DelphiError as exc:
            await start_over(db_session, panel, account)
            ctx = await _question_ctx(db_session, panel_access, account, ranking_id, values)
            return render_form(
                "facilitator/ranking_edit.html",
                ctx,
                errors=_problems(exc, "text"),
                status_code=exc.status_code,
            )
        return Redirect(f"/panels/{panel.id}/rankings#q{ranking_id}", status_code=303)

    @post("/{ranking_id:int}/draft")
    async def toggle_draft(
        self,
        panel_access: PanelAccess,
        ranking_id: int,
        request: Request,
        db_session: AsyncSession,
        account: Account,
    ) -> Redirect | Template:
        panel = panel_access.panel
        form = await read_form(request)
        try:
            await set_ranking_in_draft(
                db_session, panel, ranking_id, form.get("include") == "1", Actor.account(account)
            )
        except DelphiError as exc:
            await start_over(db_session, panel, account)
            ctx = await _list_ctx(db_session, panel_access, account)
            return render_form(
                "facilitator/rankings.html", ctx, errors=_problems(exc, ""), status_code=exc.status_code
            )
        return Redirect(f"/panels/{panel.id}/rankings#q{ranking_id}", status_code=303)

    @get("/{ranking_id:int}/delete", opt=EDITORS_ONLY)
    async def delete_form(
        self, panel_access: PanelAccess, ranking_id: int, db_session: AsyncSession, account: Account
    ) -> Template:
        """The confirmation: the question and its items and a "Delete" button, or why it can no longer go."""
        ctx = await _question_ctx(db_session, panel_access, account, ranking_id, None)
        return render_form("facilitator/ranking_delete.html", ctx)

    @post("/{ranking_id:int}/delete")
    async def delete(
        self, panel_access: PanelAccess, ranking_id: int, db_session: AsyncSession, account: Account
    ) -> Redirect | Template:
        panel = panel_access.panel
        try:
            await delete_ranking_question(db_session, panel, ranking_id, Actor.account(account))
        except DelphiError as exc:
            await start_over(db_session, panel, account)
            ctx = await _question_ctx(db_session, panel_access, account, ranking_id, None)
            return render_form(
                "facilitator/ranking_delete.html", ctx, errors=_problems(exc, ""), status_code=exc.status_code
            )
        return Redirect(f"/panels/{panel.id}/rankings?deleted=1", status_code=303)
