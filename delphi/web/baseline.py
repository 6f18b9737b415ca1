"""Facilitator page of a panel's baseline questions (the panellists' characteristics): the list, add one, edit,
move up or down, delete.

Controllers parse forms, call the :mod:`delphi.panels.baseline` use cases, and either redirect (303) or re-show
the page with an error summary listing every problem (4xx, the transaction rolled back by
:func:`delphi.panels.access.start_over`).  Reading needs a reader's role, changing an editor's.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Account
from delphi.domain import Actor, BaselineKind
from delphi.errors import DelphiError, InvalidInput
from delphi.panels import baseline
from delphi.panels.access import start_over
from delphi.web.forms import read_form, render_form
from delphi.web.guards import PanelAccess
from delphi.web.panel_nav import panel_nav

TEMPLATE = "facilitator/baseline.html"

#: The kinds of question as the form names them.
KIND_LABELS = {
    BaselineKind.SINGLE.value: "One choice (radio buttons)",
    BaselineKind.MULTIPLE.value: "Several choices (tick boxes)",
    BaselineKind.NUMBER.value: "A number",
    BaselineKind.TEXT.value: "A text (not tabulated; in the export only)",
}


def _values(form: dict[str, str] | None) -> dict[str, str]:
    form = form or {}
    return {name: form.get(name, "") for name in ("kind", "text", "choices", "unit")} | {
        "kind": form.get("kind", "") or BaselineKind.SINGLE.value
    }


async def _ctx(
    session: AsyncSession,
    access: PanelAccess,
    account: Account,
    *,
    editing: int | None = None,
    values: dict[str, str] | None = None,
) -> dict[str, Any]:
    ctx = await panel_nav(session, access, account)
    rows = await baseline.questions_with_answers(session, access.panel.id)
    current = next((q for q, _ in rows if q.id == editing), None)
    if values is None and current is not None:
        values = {
            "kind": current.kind,
            "text": current.text,
            "choices": "\n".join(current.choices),
            "unit": current.unit,
        }
    ctx.update(
        tab="baseline",
        questions=rows,
        editing=current,
        editing_answers=next((n for q, n in rows if q.id == editing), 0),
        values=values or _values(None),
        kinds=KIND_LABELS,
        max_choices=baseline.MAX_CHOICES,
    )
    return ctx


def _errors(exc: DelphiError) -> list[tuple[str, str]]:
    return exc.errors if isinstance(exc, InvalidInput) else [(exc.field or "text", exc.message)]


class BaselineController(Controller):
    """``/panels/{panel_id}/baseline``: the questions about the panellists asked at consent time."""

    path = "/panels/{panel_id:int}/baseline"
    include_in_schema = False

    @get("/", name="panel_baseline")
    async def page(
        self, panel_access: PanelAccess, db_session: AsyncSession, account: Account, edit: int | None = None
    ) -> Template:
        """The questions; ``?edit=<id>`` shows that question's edit form (editors) in place of the add form."""
        editing = edit if panel_access.can_edit else None
        return render_form(TEMPLATE, await _ctx(db_session, panel_access, account, editing=editing))

    @post("/")
    async def add(
        self, panel_access: PanelAccess, request: Request, db_session: AsyncSession, account: Account
    ) -> Redirect | Template:
        panel = panel_access.panel
        form = await read_form(request)
        try:
            await baseline.add_question(db_session, panel, Actor.account(account), **_values(form))
        except DelphiError as exc:
            await start_over(db_session, panel, account)
            ctx = await _ctx(db_session, panel_access, account, values=_values(form))
            return render_form(TEMPLATE, ctx, errors=_errors(exc), status_code=exc.status_code)
        return Redirect(f"/panels/{panel.id}/baseline?saved=added", status_code=303)

    @post("/{question_id:int}")
    async def edit(
        self,
        panel_access: PanelAccess,
        question_id: int,
        request: Request,
        db_session: AsyncSession,
        account: Account,
    ) -> Redirect | Template:
        panel = panel_access.panel
        form = await read_form(request)
        try:
            await baseline.edit_question(
                db_session, panel, question_id, Actor.account(account), **_values(form)
            )
        except DelphiError as exc:
            await start_over(db_session, panel, account)
            ctx = await _ctx(db_session, panel_access, account, editing=question_id, values=_values(form))
            if ctx["editing"] is None:  # another panel's question, or gone
                raise
            return render_form(TEMPLATE, ctx, errors=_errors(exc), status_code=exc.status_code)
        return Redirect(f"/panels/{panel.id}/baseline?saved=edited", status_code=303)

    @post("/{question_id:int}/move")
    async def move(
        self,
        panel_access: PanelAccess,
        question_id: int,
        request: Request,
        db_session: AsyncSession,
        account: Account,
    ) -> Redirect:
        form = await read_form(request)
        await baseline.move_question(
            db_session, panel_access.panel, question_id, form.get("direction", ""), Actor.account(account)
        )
        return Redirect(f"/panels/{panel_access.panel.id}/baseline#q{question_id}", status_code=303)

    @post("/{question_id:int}/delete")
    async def delete(
        self, panel_access: PanelAccess, question_id: int, db_session: AsyncSession, account: Account
    ) -> Redirect:
        await baseline.delete_question(db_session, panel_access.panel, question_id, Actor.account(account))
        return Redirect(f"/panels/{panel_access.panel.id}/baseline?saved=deleted", status_code=303)
