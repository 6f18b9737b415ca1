"""The honoraria page ``/panels/{id}/honoraria``: the sheet of owed, paid and due, payments recorded and deleted,
and the sheet as CSV for a finance office.

Reading (the page, ``/honoraria/sheet.csv``) is for every role on the panel; recording and deleting payments for
editors (the default for POST, :mod:`delphi.web.guards`). E-mail addresses and names appear only for an account
that sees contacts (``PanelAccess.sees_contacts``: never a researcher); everyone else reads pseudonyms.

Money is in the panel's currency: each panellist's amounts in their own language, the totals in English (the
facilitators' pages), both by :func:`delphi.formatting.format_money`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Account
from delphi.domain import Actor
from delphi.errors import DelphiError
from delphi.formatting import format_money
from delphi.panels.access import start_over
from delphi.panels.honoraria import (
    MAX_REFERENCE,
    METHOD_LABELS,
    PaymentProblems,
    delete_payment,
    load_sheet,
    record_payment,
)
from delphi.results.people import honoraria_sheet_table
from delphi.results.writers import MEDIA_TYPES, write
from delphi.web.forms import read_form, render_form
from delphi.web.guards import PanelAccess
from delphi.web.panel_nav import panel_nav


def _money_filter(currency: str) -> Any:
    def money(minor: int | None, locale: str = "en") -> str:
        return "–" if minor is None else format_money(minor, currency, locale)

    return money


async def _ctx(session: AsyncSession, access: PanelAccess, account: Account, **extra: Any) -> dict[str, Any]:
    ctx = await panel_nav(session, access, account)
    sheet = await load_sheet(session, access.panel)
    ctx.update(
        tab="honoraria",
        sheet=sheet,
        money=_money_filter(access.panel.currency),
        methods=METHOD_LABELS,
        max_reference=MAX_REFERENCE,
        today=datetime.now(UTC).date().isoformat(),
        posted_for=None,
        values={},
    )
    ctx.update(extra)
    return ctx


class HonorariaController(Controller):
    path = "/panels/{panel_id:int}/honoraria"
    include_in_schema = False

    @get("/", name="honoraria")
    async def index(self, panel_access: PanelAccess, db_session: AsyncSession, account: Account) -> Template:
        """The sheet, a payment form per panellist (editors) and every payment with its delete button."""
        return render_form("facilitator/honoraria.html", await _ctx(db_session, panel_access, account))

    @get("/sheet.csv", name="honoraria_csv")
    async def sheet_csv(self, panel_access: PanelAccess, db_session: AsyncSession) -> Response[bytes]:
        """The sheet as CSV (amounts in major units); e-mail and name only for those who see contacts."""
        panel = panel_access.panel
        table = honoraria_sheet_table(
            await load_sheet(db_session, panel), contacts=panel_access.sees_contacts
        )
        return Response(
            write(table, "csv"),
            media_type=MEDIA_TYPES["csv"],
            headers={
                "Content-Disposition": (
                    f'attachment; filename="panel-{panel.id}-honoraria-{datetime.now(UTC):%Y%m%d}.csv"'
                ),
                "Cache-Control": "no-store",
            },
        )

    @post("/{panellist_id:int}/payments", name="honoraria_record")
    async def record(
        self,
        panel_access: PanelAccess,
        panellist_id: int,
        request: Request,
        db_session: AsyncSession,
        account: Account,
    ) -> Redirect | Template:
        """Record a payment; a bad form is shown again with every problem listed, nothing saved."""
        panel = panel_access.panel
        form = await read_form(request)
        try:
            await record_payment(
                db_session, panel, panellist_id, form, Actor.account(account), today=datetime.now(UTC).date()
            )
        except PaymentProblems as exc:
            await start_over(db_session, panel, account)
            ctx = await _ctx(db_session, panel_access, account, posted_for=panellist_id, values=form)
            errors = [(f"pay-{panellist_id}-{field}", message) for field, message in exc.problems]
            return render_form("facilitator/honoraria.html", ctx, errors=errors, status_code=422)
        except DelphiError as exc:
            await start_over(db_session, panel, account)
            ctx = await _ctx(db_session, panel_access, account)
            return render_form(
                "facilitator/honoraria.html", ctx, errors=[("", exc.message)], status_code=exc.status_code
            )
        return Redirect(f"/panels/{panel.id}/honoraria#panellist-{panellist_id}", status_code=303)

    @post("/payments/{payment_id:int}/delete", name="honoraria_delete")
    async def delete(
        self, panel_access: PanelAccess, payment_id: int, db_session: AsyncSession, account: Account
    ) -> Redirect:
        """Delete a payment recorded by mistake (the audit trail keeps it); 404 for another panel's."""
        await delete_payment(db_session, panel_access.panel, payment_id, Actor.account(account))
        return Redirect(f"/panels/{panel_access.panel.id}/honoraria", status_code=303)
