"""API of a panel's honoraria: the sheet of what each panellist is owed, was paid and is due, one payment,
recording a payment and deleting one recorded by mistake.

The same use cases as the honoraria page (:mod:`delphi.panels.honoraria`), so the same arithmetic, checks,
messages and audit events (``payment.recorded``, ``payment.deleted``; the trail keeps pseudonyms and amounts,
never a name or an address).  The same access too: the sheet and a payment are for every role on the panel,
researchers included; recording and deleting for the panel's editors.  E-mail addresses and names are filled
only for an account that sees contacts (the owner, and facilitators the owner lets contact panellists:
``panel_access.sees_contacts``); everyone else gets ``null`` and reads pseudonyms.

Money is in minor units of the panel's ``currency`` (pence for GBP; ``minor_per_major`` says how many make one
unit), as ``honorarium_minor`` in the panel's settings.  A panellist is owed the honorarium for every round they
submitted; due is owed minus paid, negative when overpaid; a panel without an honorarium owes nothing (owed and
due ``null``) yet takes payments (a voucher given by hand, a travel refund).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, delete, get, post
from litestar.datastructures import ResponseHeader
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Account
from delphi.db.models import Payment as PaymentRow
from delphi.domain import Actor
from delphi.errors import InvalidInput, NotFound
from delphi.formatting import major_amount, minor_per_major
from delphi.panels import honoraria as use
from delphi.web.api.idempotency import IdempotencyKeyHeader, once
from delphi.web.api.problems import PROBLEMS, problem_spec
from delphi.web.guards import PanelAccess
from delphi.web.schemas import MAX_ID, RowId

INVALID = {422: problem_spec("The payment was not recorded; `errors` lists every problem.")}
LOCATION = [
    ResponseHeader(
        name="Location", description="The new payment's URL under /api/v1.", documentation_only=True
    )
]

#: The body's fields by the use case's (the page's form's) names of them.
_FIELDS = {"amount": "amount_minor"}


class Payment(msgspec.Struct):
    """A payment recorded for a panellist: ``amount_minor`` in minor units of the panel's currency, ``paid_on``
    the day it was paid, ``method`` how, ``reference`` a voucher number or transfer reference ("" for none),
    ``recorded_at`` when it was recorded."""

    id: int
    panellist_id: int
    amount_minor: int
    paid_on: date
    method: str
    reference: str
    recorded_at: datetime


class SheetLine(msgspec.Struct):
    """One panellist's line, by pseudonym, with their payments (newest date first).  ``email`` and ``name`` are
    null unless the caller sees contacts (``email`` null too once the panellist was erased); ``rounds``: rounds
    they submitted; ``owed_minor`` and ``due_minor`` null when the panel pays no honorarium; ``overpaid``:
    ``due_minor`` is below 0."""

    panellist_id: int
    pseudonym: str
    group: str
    email: str | None
    name: str | None
    language: str
    rounds: int
    owed_minor: int | None
    paid_minor: int
    due_minor: int | None
    overpaid: bool
    payments: list[Payment]


class SheetTotals(msgspec.Struct):
    """The sums of the lines (an overpayment lowers the total due); owed and due null without an honorarium."""

    rounds: int
    owed_minor: int | None
    paid_minor: int
    due_minor: int | None


class HonorariaSheet(msgspec.Struct):
    """Every panellist of the panel (erased ones too: they may have been paid or still be owed) with what they
    are owed, were paid and are due; ``honorarium_minor``: the rate per round submitted (null: none)."""

    currency: str
    minor_per_major: int
    honorarium_minor: int | None
    lines: list[SheetLine]
    totals: SheetTotals


class NewPayment(msgspec.Struct, forbid_unknown_fields=True):
    """A payment made to the panellist, as the page's form records it."""

    amount_minor: Annotated[
        int,
        msgspec.Meta(
            ge=1,
            le=MAX_ID,
            description="The amount, in minor units of the panel's currency (1550 for £15.50): more than 0 "
            f"and at most {use.MAX_PAYMENT_MAJOR:,} in major units (a 422 beyond).",
        ),
    ]
    method: Annotated[
        Literal["cash", "voucher", "bank_transfer", "other"], msgspec.Meta(description="How it was paid.")
    ]
    paid_on: Annotated[
        date | None,
        msgspec.Meta(
            description="The day it was paid (ISO, 2026-12-01): not in the future nor before the panel was "
            "created (a 422 otherwise). Null or left out: today (UTC)."
        ),
    ] = None
    reference: Annotated[
        str,
        msgspec.Meta(
            description=f"A voucher number or transfer reference, at most {use.MAX_REFERENCE} characters once "
            "stripped; never bank details. Empty for none."
        ),
    ] = ""


def _payment(p: PaymentRow) -> Payment:
    return Payment(p.id, p.panellist_id, p.amount_minor, p.paid_on, p.method, p.reference, p.created_at)


def _sheet(sheet: use.Sheet, sees_contacts: bool) -> HonorariaSheet:
    panel = sheet.panel
    t = sheet.totals
    return HonorariaSheet(
        currency=panel.currency,
        minor_per_major=minor_per_major(panel.currency),
        honorarium_minor=panel.honorarium_minor,
        lines=[
            SheetLine(
                panellist_id=r.panellist_id,
                pseudonym=r.pseudonym,
                group=r.group,
                email=r.email if sees_contacts else None,
                name=r.name if sees_contacts else None,
                language=r.language,
                rounds=r.rounds,
                owed_minor=r.owed,
                paid_minor=r.paid,
                due_minor=r.due,
                overpaid=r.overpaid,
                payments=[_payment(p) for p in sheet.payments.get(r.panellist_id, [])],
            )
            for r in sheet.rows
        ],
        totals=SheetTotals(t.rounds, t.owed, t.paid, t.due),
    )


def _url(access: PanelAccess, payment_id: int) -> str:
    return f"/api/v1/panels/{access.panel.id}/honoraria/payments/{payment_id}"


@get(
    "/panels/{panel_id:int}/honoraria", responses=PROBLEMS, summary="The honoraria sheet: owed, paid and due"
)
async def honoraria_sheet(panel_access: PanelAccess, db_session: AsyncSession) -> HonorariaSheet:
    return _sheet(await use.load_sheet(db_session, panel_access.panel), panel_access.sees_contacts)


@get(
    "/panels/{panel_id:int}/honoraria/payments/{payment_id:int}",
    responses=PROBLEMS,
    summary="A payment recorded for a panellist",
)
async def get_payment(panel_access: PanelAccess, payment_id: RowId, db_session: AsyncSession) -> Payment:
    sheet = await use.load_sheet(db_session, panel_access.panel)
    for pays in sheet.payments.values():
        for p in pays:
            if p.id == payment_id:
                return _payment(p)
    raise NotFound("There is no such payment on this panel.")


@post(
    "/panels/{panel_id:int}/honoraria/{panellist_id:int}/payments",
    status_code=201,
    responses={**PROBLEMS, **INVALID},
    response_headers=LOCATION,
    summary="Record a payment made to a panellist (facilitators)",
)
async def record_payment(
    panel_access: PanelAccess,
    panellist_id: RowId,
    data: NewPayment,
    request: Request,
    db_session: AsyncSession,
    account: Account,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response[Payment]:
    """201 with the payment and its ``Location``; 404 for a panellist of another panel; 422 listing every
    problem of the payment, nothing recorded.  With an ``Idempotency-Key`` a retry answers the first payment
    and records no second one."""
    panel = panel_access.panel
    today = datetime.now(UTC).date()
    form = {
        "amount": format(major_amount(data.amount_minor, panel.currency), "f"),
        "paid_on": (data.paid_on or today).isoformat(),
        "method": data.method,
        "reference": data.reference.replace("\x00", ""),
    }

    recorded: list[int] = []

    async def run() -> Payment:
        try:
            payment = await use.record_payment(
                db_session, panel, panellist_id, form, Actor.account(account), today=today
            )
        except use.PaymentProblems as exc:
            errors = [(_FIELDS.get(field, field), message) for field, message in exc.problems]
            raise InvalidInput(exc.message, field=errors[0][0], errors=errors) from None
        except InvalidInput as exc:  # no such panellist on this panel
            raise NotFound(exc.message) from None
        await db_session.flush()
        recorded.append(payment.id)
        return _payment(payment)

    response = await once(request, db_session, account, idempotency_key, 201, run)
    # A retry's answer is the first one's JSON as sent: the payment's id is read back from it.
    payment_id = recorded[0] if recorded else msgspec.json.decode(response.content)["id"]
    response.headers["Location"] = _url(panel_access, payment_id)
    return response


@delete(
    "/panels/{panel_id:int}/honoraria/payments/{payment_id:int}",
    responses=PROBLEMS,
    summary="Delete a payment recorded by mistake (facilitators; the audit trail keeps what it was)",
)
async def delete_payment(
    panel_access: PanelAccess, payment_id: RowId, db_session: AsyncSession, account: Account
) -> None:
    await use.delete_payment(db_session, panel_access.panel, payment_id, Actor.account(account))
    await db_session.flush()


HANDLERS: list[Any] = [honoraria_sheet, get_payment, record_payment, delete_payment]
