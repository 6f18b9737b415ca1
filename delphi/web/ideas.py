"""The facilitator's page of an open round's answers (``/panels/{id}/rounds/1/answers``): every answer per question
side by side with its theme and pseudonym, and one form to group chosen answers under a theme or to make a draft
statement for the next round from a theme or from the chosen answers.

Reading needs a reader's role (researchers read, never change), posting an editor's (:mod:`delphi.web.guards`).
The read model is :func:`delphi.results.ideas.load_answers`, the changes :mod:`delphi.panels.from_answers`; a
refused post re-shows the page with every problem listed (400, rolled back) and what was typed kept.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Account
from delphi.domain import Actor
from delphi.errors import DelphiError, InvalidInput, NotFound
from delphi.panels import from_answers
from delphi.panels.access import start_over
from delphi.results import ideas
from delphi.web.forms import read_form_multi, render_form
from delphi.web.guards import PanelAccess
from delphi.web.ids import possible_id
from delphi.web.panel_nav import panel_nav

TEMPLATE = "facilitator/ideas.html"
EMPTY = {"theme": "", "from_theme": "", "text": "", "section": ""}


async def _ctx(
    session: AsyncSession,
    access: PanelAccess,
    account: Account,
    number: int,
    values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    review = await ideas.load_answers(session, access.panel)
    if review.round is None or review.round.number != number:
        raise NotFound(f"Round {number} of this panel is not an open round, so it has no answers to show.")
    ctx = await panel_nav(session, access, account)
    ctx.update(
        tab=f"round{number}",
        review=review,
        values={**EMPTY, "chosen": set(), **(values or {})},
        made=await ideas.load_provenance(session, access.panel),
    )
    return ctx


def _chosen(form: dict[str, list[str]]) -> set[int]:
    return {int(v) for v in form.get("answer", []) if v.isascii() and v.isdigit() and possible_id(int(v))}


class IdeasReviewController(Controller):
    path = "/panels/{panel_id:int}/rounds/{number:int}/answers"
    include_in_schema = False

    @get("/", name="round-answers")
    async def show(
        self, panel_access: PanelAccess, number: int, db_session: AsyncSession, account: Account
    ) -> Template:
        return render_form(TEMPLATE, await _ctx(db_session, panel_access, account, number))

    @post("/")
    async def act(
        self,
        panel_access: PanelAccess,
        number: int,
        request: Request,
        db_session: AsyncSession,
        account: Account,
    ) -> Redirect | Template:
        """``action=theme``: give the chosen answers (``answer``, several) the theme ``theme``;
        ``action=statement``: draft statement ``text`` (``section``) from theme ``from_theme`` and/or the chosen
        answers."""
        form = await read_form_multi(request)
        one = {k: (v[-1] if v else "") for k, v in form.items()}
        chosen = _chosen(form)
        values = {k: one.get(k, "") for k in EMPTY} | {"chosen": chosen}
        actor = Actor.account(account)
        panel = panel_access.panel
        await _ctx(
            db_session, panel_access, account, number
        )  # NotFound unless round ``number`` is the open round
        try:
            if one.get("action") == "statement":
                statement = await from_answers.make_statement(
                    db_session,
                    panel,
                    one.get("text", ""),
                    one.get("section", ""),
                    actor,
                    theme=one.get("from_theme", ""),
                    answer_ids=chosen,
                )
                return Redirect(
                    f"/panels/{panel.id}/rounds/{number}/answers?made={statement.id}#made", status_code=303
                )
            count = await from_answers.set_theme(db_session, panel, chosen, one.get("theme", ""), actor)
            return Redirect(f"/panels/{panel.id}/rounds/{number}/answers?themed={count}", status_code=303)
        except DelphiError as exc:
            await start_over(db_session, panel, account)
            ctx = await _ctx(db_session, panel_access, account, number, values)
            errors = list(getattr(exc, "errors", None) or [(exc.field or "", exc.message)])
            return render_form(
                TEMPLATE,
                ctx,
                errors=errors,
                status_code=400 if isinstance(exc, InvalidInput) else exc.status_code,
            )
