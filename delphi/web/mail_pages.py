"""The facilitator's mail page: what was sent to whom, counts per round and kind, dead letters with a retry.

Editors only, reading included (:mod:`delphi.web.guards`). Addresses are shown only to an editor who sees
contacts (the owner, and facilitators with the "contact panellists" grant); for everyone else every row is
pseudonymous: no ``to_address``, and an address in an SMTP error is masked (:func:`pseudonymous`). Mail kinds are
shown with their declared labels (:func:`delphi.mail.kinds.kind_label`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from litestar import Controller, MediaType, Request, get, post
from litestar.exceptions import ValidationException
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Account
from delphi.db.paging import page_at
from delphi.domain import Actor
from delphi.mail import status
from delphi.mail.kinds import kind_label
from delphi.mail.status import MailRecord
from delphi.web.guards import EDITORS_ONLY, PanelAccess
from delphi.web.ids import possible_id
from delphi.web.panel_nav import panel_nav

#: Messages per page of the history.
PAGE_SIZE = 200


#: What stands for an address in a pseudonymous row's SMTP error.
MASKED = "[address]"


def pseudonymous(records: Sequence[MailRecord]) -> list[MailRecord]:
    """``records`` without addresses: ``to_address`` empty, the address masked in ``last_error`` (SMTP errors
    often quote the recipient)."""
    out = []
    for m in records:
        error = m.last_error.replace(m.to_address, MASKED) if m.to_address else m.last_error
        out.append(replace(m, to_address="", last_error=error))
    return out


class MailController(Controller):
    """What was sent to whom: counts per round and kind, dead letters (with a retry), the full history."""

    path = "/panels/{panel_id:int}/mail"
    include_in_schema = False
    opt = EDITORS_ONLY

    @get("/", name="panel_mail")
    async def index(
        self, panel_access: PanelAccess, db_session: AsyncSession, account: Account, page: int = 1
    ) -> Template:
        """The mail page; ``page`` counts :data:`PAGE_SIZE` messages of the history from 1 (below 1: the first;
        past the last page with a message: a 404 saying how many there are, :func:`page_at`), and a page past any
        message id a row can have (:func:`possible_id`) is a 400, not a database overflow. The number of pages
        comes from the per-round counts (one aggregate), never from loading the history."""
        if not possible_id(page):
            raise ValidationException("There is no such page of the mail history. Go back to its first page.")
        panel_id = panel_access.panel.id
        ctx = await panel_nav(db_session, panel_access, account)
        counts = await status.counts(db_session, panel_id)
        at = page_at(max(1, page), sum(c.total for c in counts), PAGE_SIZE)
        dead = await status.dead_letters(db_session, panel_id)
        history = await status.history(db_session, panel_id, limit=PAGE_SIZE, offset=at.offset)
        if not panel_access.sees_contacts:
            dead, history = pseudonymous(dead), pseudonymous(history)
        ctx.update(
            tab="mail",
            round_numbers={r.id: r.number for r in ctx["rounds"]},
            kind_label=kind_label,
            counts=counts,
            dead=dead,
            history=history,
            page=at,
        )
        return Template("facilitator/mail.html", context=ctx, media_type=MediaType.HTML)

    @post("/retry")
    async def retry(
        self, panel_access: PanelAccess, request: Request, db_session: AsyncSession, account: Account
    ) -> Redirect:
        """Retry the dead letters ticked (``message_id``, ASCII digits within the id range), else all of them."""
        panel_id = panel_access.panel.id
        form = await request.form()
        raw = [str(v) for v in form.getall("message_id", [])]
        ids = [int(v) for v in raw if v.isascii() and v.isdigit() and possible_id(int(v))]
        n = await status.retry_dead(db_session, panel_id, ids or None, actor=Actor.account(account))
        return Redirect(f"/panels/{panel_id}/mail?retried={n}", status_code=303)
