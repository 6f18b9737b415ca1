"""The two exports that name people: the pseudonym-to-e-mail key and the honoraria sheet.

Both link a pseudonym to an e-mail address, so both are for the panel's owner only: with either file, every
pseudonymous export can be re-identified. Erased panellists appear with empty e-mail and name.

Honoraria: one payment per submitted closed round at the panel's rate (``honorarium_minor`` in the currency's
minor units, shown in major units by :func:`delphi.formatting.major_amount`, e.g. 15.0 GBP). The engine records no payments, so ``amount_owed`` is the total earned; the sheet
is the list a finance office pays from. Amounts are empty when the panel pays no honorarium.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Panel, Panellist, Round, Submission
from delphi.domain import RoundStatus
from delphi.formatting import major_amount
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


def honoraria_columns(frame: Frame) -> tuple[Column, ...]:
    currency = frame.panel.currency
    return (
        Column("panellist", "Pseudonym.", "text"),
        Column("group", "Stakeholder group.", "text"),
        Column("email", "E-mail address; empty once erased.", "text"),
        Column("name", "Name, if one was given.", "text"),
        Column("rounds_completed", "Closed rounds the panellist submitted.", "integer"),
        Column("rate", "Honorarium per completed round.", "number", currency),
        Column(
            "amount_owed",
            "rounds_completed x rate (no payments are recorded by the engine).",
            "number",
            currency,
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


def honoraria_rows(
    people: Iterable[tuple[Any, ...]], group_names: Mapping[int, str], panel: Panel
) -> list[tuple[Any, ...]]:
    minor = panel.honorarium_minor
    rate = None if minor is None else float(major_amount(minor, panel.currency))
    out = []
    for pseudonym, gid, email, name, _status, _erased, done in people:
        n = int(done or 0)
        owed = None if minor is None else float(major_amount(minor * n, panel.currency))
        out.append(
            (pseudonym, group_names.get(gid, ""), email or "", name or "", n, rate, owed, panel.currency)
        )
    return out


async def key_table(session: AsyncSession, frame: Frame) -> Table:
    rows = key_rows(await load_people(session, frame.panel.id), frame.group_names)
    return Table(
        KEY_NAME, "Pseudonym to e-mail key (owner only; keep apart from the data)", key_columns(frame), rows
    )


async def honoraria_table(session: AsyncSession, frame: Frame) -> Table:
    rows = honoraria_rows(await load_people(session, frame.panel.id), frame.group_names, frame.panel)
    return Table(
        HONORARIA_NAME, "Honoraria: completed rounds and amounts owed", honoraria_columns(frame), rows
    )
