"""Honoraria: the sheet's arithmetic (owed, paid, due), the checks of a recorded payment, and the use cases."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import AuditEvent, Payment, Submission, utcnow
from delphi.domain import Actor
from delphi.panels.honoraria import (
    PaymentProblems,
    check_payment,
    delete_payment,
    load_sheet,
    parse_amount,
    record_payment,
    sheet_rows,
    sheet_totals,
)
from tests.factories import build_panel, make_account, make_round

TODAY = date(2026, 12, 2)
CREATED = date(2026, 9, 1)
GOOD = {"amount": "10.00", "paid_on": "2026-11-30", "method": "voucher", "reference": "V-118"}


def test_two_submitted_rounds_and_one_payment_leave_the_rest_due() -> None:
    (row,) = sheet_rows([(7, "P-001", "Service users", "a@x.example", "", "en", 2)], {7: 1000}, 1500)
    assert (row.rounds, row.owed, row.paid, row.due) == (2, 3000, 1000, 2000)
    assert not row.overpaid


def test_a_panellist_paid_more_than_owed_is_due_a_negative_amount() -> None:
    rows = sheet_rows(
        [(1, "P-001", "G", None, "", "en", 1), (2, "P-002", "G", None, "", "en", 0)], {1: 2000}, 1500
    )
    assert rows[0].due == -500 and rows[0].overpaid
    assert (rows[1].owed, rows[1].paid, rows[1].due) == (0, 0, 0)
    totals = sheet_totals(rows, 1500)
    assert (totals.rounds, totals.owed, totals.paid, totals.due) == (1, 1500, 2000, -500)


def test_without_an_honorarium_nothing_is_owed_or_due_but_payments_count() -> None:
    (row,) = sheet_rows([(1, "P-001", "G", None, "", "en", 3)], {1: 700}, None)
    assert (row.owed, row.paid, row.due) == (None, 700, None)
    totals = sheet_totals([row], None)
    assert (totals.owed, totals.paid, totals.due) == (None, 700, None)


def test_a_good_payment_is_read_in_minor_units() -> None:
    checked = check_payment(GOOD, "GBP", today=TODAY, earliest=CREATED)
    assert (checked.amount_minor, checked.paid_on, checked.method, checked.reference) == (
        1000,
        date(2026, 11, 30),
        "voucher",
        "V-118",
    )


def test_every_problem_of_a_payment_is_listed_at_once() -> None:
    form = {"amount": "0", "paid_on": "2026-12-03", "method": "cheque", "reference": "x" * 201}
    with pytest.raises(PaymentProblems) as caught:
        check_payment(form, "GBP", today=TODAY, earliest=CREATED)
    assert [field for field, _ in caught.value.problems] == ["amount", "paid_on", "method", "reference"]
    messages = " ".join(m for _, m in caught.value.problems)
    assert "more than 0" in messages and "future" in messages and "201" in messages


@pytest.mark.parametrize(
    ("amount", "paid_on", "problem"),
    [
        ("100000.01", "2026-11-30", "at most £100,000.00"),
        ("ten", "2026-11-30", "like 15 or 15.00"),
        ("10", "2026-08-31", "before the panel was created"),
        ("10", "30/11/2026", "like 2026-12-01"),
    ],
)
def test_an_amount_over_the_limit_or_a_date_out_of_range_is_refused(
    amount: str, paid_on: str, problem: str
) -> None:
    with pytest.raises(PaymentProblems) as caught:
        check_payment({**GOOD, "amount": amount, "paid_on": paid_on}, "GBP", today=TODAY, earliest=CREATED)
    assert len(caught.value.problems) == 1 and problem in caught.value.problems[0][1]


def test_amounts_keep_to_the_decimals_of_the_currency() -> None:
    assert parse_amount("£15.50", "GBP") == 1550
    assert parse_amount("1,500", "JPY") == 1500
    assert parse_amount("15.5", "JPY") is None  # the yen has no minor unit (ISO 4217)
    assert parse_amount("15.001", "GBP") is None
    assert parse_amount("NaN", "GBP") is None


async def test_the_sheet_counts_submitted_rounds_and_recorded_payments(session: AsyncSession) -> None:
    world = await build_panel(session, panellists=2, panel_kw={"honorarium_minor": 1500})
    round2 = await make_round(session, world.panel, world.statements, number=2)
    assert world.round is not None
    person, other = world.panellist, world.others[0][0]
    session.add_all(
        [Submission(round_id=r.id, panellist_id=person.id) for r in (world.round, round2)]
        + [Submission(round_id=world.round.id, panellist_id=other.id)]
    )
    owner = await make_account(session, "owner@facilitators.example")
    await record_payment(
        session,
        world.panel,
        person.id,
        {**GOOD, "paid_on": utcnow().date().isoformat()},
        Actor.account(owner),
        today=utcnow().date(),
    )
    sheet = await load_sheet(session, world.panel)
    by = {r.pseudonym: r for r in sheet.rows}
    assert (by["P-001"].rounds, by["P-001"].owed, by["P-001"].paid, by["P-001"].due) == (2, 3000, 1000, 2000)
    assert (by["P-002"].rounds, by["P-002"].owed, by["P-002"].paid, by["P-002"].due) == (1, 1500, 0, 1500)
    assert (sheet.totals.owed, sheet.totals.paid, sheet.totals.due) == (4500, 1000, 3500)
    assert [p.amount_minor for p in sheet.payments[person.id]] == [1000]


async def test_a_payment_refused_saves_nothing_and_a_deleted_one_stays_in_the_audit_trail(
    session: AsyncSession,
) -> None:
    world = await build_panel(session, panel_kw={"honorarium_minor": 1500})
    owner = await make_account(session, "owner@facilitators.example")
    actor = Actor.account(owner)
    today = utcnow().date()
    with pytest.raises(PaymentProblems):
        await record_payment(
            session, world.panel, world.panellist.id, {**GOOD, "amount": "-5"}, actor, today=today
        )
    assert (await session.scalars(select(Payment))).all() == []
    pay = await record_payment(
        session,
        world.panel,
        world.panellist.id,
        {**GOOD, "paid_on": (today - timedelta(days=0)).isoformat()},
        actor,
        today=today,
    )
    await delete_payment(session, world.panel, pay.id, actor)
    assert (await session.scalars(select(Payment))).all() == []
    events = (
        await session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("payment.%")).order_by(AuditEvent.id)
        )
    ).all()
    assert [e.action for e in events] == ["payment.recorded", "payment.deleted"]
    assert events[1].detail["amount_minor"] == 1000 and events[1].detail["reference"] == "V-118"
    assert events[1].detail["panellist"] == "P-001"
