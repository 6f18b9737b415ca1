"""The two exports that name people: the pseudonym-to-e-mail key and the honoraria sheet.

Both link a pseudonym to an e-mail address, so both are for the panel's owner only: with either file, every
pseudonymous export can be re-identified. Erased panellists appear with empty e-mail and name.

Honoraria: the sheet of :func:`delphi.panels.honoraria.load_sheet` (the one source of the honoraria page and
this export): rounds submitted, the rate (``honorarium_minor`` in the currency's minor units, shown in major
units by :func:`delphi.formatting.major_amount`, e.g. 15.0 GBP), and amounts owed, paid (payments recorded on
the honoraria page) and due. Owed, rate and due are empty when the panel pays no honorarium; due is negative
for a panellist paid more than owed. :func:`honoraria_sheet_table` leaves e-mail and name out for a reader
who does not see contacts (the honoraria page's CSV).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Panellist, Round, Submission
from delphi.domain import RoundStatus
from delphi.formatting import major_amount
from delphi.panels.honoraria import Sheet, load_sheet
from delphi.results.frame import Frame
from delphi.results.tables import Column, Table

KEY_NAME = "pseudonym-key"
HONORARIA_NAME = "honoraria"


def key_columns(frame: Frame) -> tuple[Column, ...]:
    return (
        Column("panellist", "Pseudonym, as in every other export.", "text"),
        Column("group", "Stakeholder group.", "text"),
        Column("email", "E-mail address; empty once the panellist's personal data were erased.", "text"),
        Column("name", "Name, if one was given.", "text"),
        Column("status", "invited, active, completed, withdrawn or bounced.", "text"),
        Column("erased_at", "When personal data were erased (UTC), else empty.", "date-time"),
    )


def honoraria_columns(
    frame: Frame | None = None, *, currency: str = "", contacts: bool = True
) -> tuple[Column, ...]:
    """The honoraria sheet's columns in ``frame``'s currency (or ``currency``); e-mail and name only with
    ``contacts``."""
    unit = frame.panel.currency if frame is not None else currency
    who = (
        (
            Column("email", "E-mail address; empty once erased.", "text"),
            Column("name", "Name, if one was given.", "text"),
        )
        if contacts
        else ()
    )
    return (
        Column("panellist", "Pseudonym.", "text"),
        Column("group", "Stakeholder group.", "text"),
        *who,
        Column("rounds_completed", "Rounds the panellist submitted (open or closed).", "integer"),
        Column("rate", "Honorarium per completed round; empty when the panel pays none.", "number", unit),
        Column("amount_owed", "rounds_completed x rate; empty when the panel pays none.", "number", unit),
        Column("amount_paid", "Sum of the payments recorded on the honoraria page.", "number", unit),
        Column(
            "amount_due",
            "amount_owed - amount_paid; negative when overpaid; empty when the panel pays none.",
            "number",
            unit,
        ),
        Column("currency", "ISO 4217 currency code.", "text"),
    )


async def load_people(session: AsyncSession, panel_id: int) -> list[tuple[Any, ...]]:
    """Every panellist by pseudonym (one query).

    Rows are ``(pseudonym, group_id, email, name, status, erased_at, rounds_completed)``.
    """
    completed = (
        select(Submission.panellist_id.label("pid"), func.count(Submission.id).label("done"))
        .join(Round, Round.id == Submission.round_id)
        .where(Round.panel_id == panel_id, Round.status == RoundStatus.CLOSED)
        .group_by(Submission.panellist_id)
        .subquery()
    )
    rows = await session.execute(
        select(
            Panellist.pseudonym,
            Panellist.group_id,
            Panellist.email,
            Panellist.name,
            Panellist.status,
            Panellist.erased_at,
            completed.c.done,
        )
        .outerjoin(completed, completed.c.pid == Panellist.id)
        .where(Panellist.panel_id == panel_id)
        .order_by(Panellist.pseudonym)
    )
    return [tuple(r) for r in rows.all()]


def key_rows(people: Iterable[tuple[Any, ...]], group_names: Mapping[int, str]) -> list[tuple[Any, ...]]:
    return [
        (pseudonym, group_names.get(gid, ""), email or "", name or "", status, erased_at)
        for pseudonym, gid, email, name, status, erased_at, _ in people
    ]


def honoraria_sheet_table(sheet: Sheet, *, contacts: bool) -> Table:
    """The honoraria sheet as a table (amounts in major units); e-mail and name only with ``contacts``."""
    panel = sheet.panel
    currency = panel.currency

    def money(minor: int | None) -> float | None:
        return None if minor is None else float(major_amount(minor, currency))

    rate = money(panel.honorarium_minor)
    rows = []
    for r in sheet.rows:
        who = (r.email or "", r.name or "") if contacts else ()
        rows.append(
            (r.pseudonym, r.group, *who, r.rounds, rate, money(r.owed), money(r.paid), money(r.due), currency)
        )
    return Table(
        HONORARIA_NAME,
        "Honoraria: rounds completed, amounts owed, paid and due",
        honoraria_columns(currency=currency, contacts=contacts),
        rows,
    )


async def key_table(session: AsyncSession, frame: Frame) -> Table:
    rows = key_rows(await load_people(session, frame.panel.id), frame.group_names)
    return Table(
        KEY_NAME, "Pseudonym to e-mail key (owner only; keep apart from the data)", key_columns(frame), rows
    )


async def honoraria_table(session: AsyncSession, frame: Frame) -> Table:
    return honoraria_sheet_table(await load_sheet(session, frame.panel), contacts=True)
