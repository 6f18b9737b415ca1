"""Honoraria: the payments made to panellists, and the sheet of what each is owed, was paid and is due.

Money is counted in minor units of the panel's currency (pence for GBP, :func:`delphi.formatting.minor_per_major`).
A panellist earns ``Panel.honorarium_minor`` for every round they submitted (a submission is final and its
receipt tells them a payment will be arranged, so an open round's submission counts too):

* owed = honorarium_minor × rounds submitted;
* paid = the sum of the payments recorded for them;
* due = owed − paid, negative when they were paid more than they earned (overpaid).

A panel without an honorarium (``honorarium_minor`` None) owes nothing and has no due amounts (None), yet payments
can still be recorded (a voucher given by hand, a travel refund).

The arithmetic (:func:`sheet_rows`, :func:`sheet_totals`) and the checks of a payment (:func:`check_payment`) are
pure; :func:`load_sheet`, :func:`record_payment` and :func:`delete_payment` are the use cases (each in the
caller's transaction, writing an audit event, never committing).  Who sees names and e-mail addresses on the
sheet is :func:`delphi.panels.access.can_see_contacts`: :func:`load_sheet` leaves them empty for everyone else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit
from delphi.db.models import Account, Panel, Panellist, Payment, StakeholderGroup, Submission, utcnow
from delphi.domain import Actor, PaymentMethod
from delphi.errors import InvalidInput, NotFound
from delphi.formatting import major_amount, minor_per_major

#: The largest single payment, in major units of the panel's currency (100,000: a typing slip, not a payment).
MAX_PAYMENT_MAJOR = 100_000
#: The longest reference (a voucher number, a transfer reference), in characters; the column holds 200.
MAX_REFERENCE = 200

#: How each method reads on the page and in the CSV.
METHOD_LABELS: Mapping[str, str] = {
    PaymentMethod.CASH: "Cash",
    PaymentMethod.VOUCHER: "Voucher",
    PaymentMethod.BANK_TRANSFER: "Bank transfer",
    PaymentMethod.OTHER: "Other",
}

_CURRENCY_SIGNS = "£€$¥₹ "
_THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")
_PLAIN = re.compile(r"^\d+([.,]\d+)?$")


# -- pure: reading an amount and checking a payment ---------------------------------------------------------


def parse_amount(text: str, currency: str) -> int | None:
    """An amount typed by a person as minor units of ``currency``, or None when it is not a plain amount.

    Accepts ``"15"``, ``"15.5"``, ``"15.50"``, ``"£15"``, ``"15,50"`` (a decimal comma), ``"1,500.00"`` (thousands
    separators); refuses more decimals than the currency has (``"15.505"`` for GBP, ``"15.5"`` for JPY), signs,
    exponents and words.  Exact (Decimal), never a float.
    """
    raw = (text or "").strip().strip(_CURRENCY_SIGNS).replace(" ", "")
    upper = currency.upper()
    if raw.upper().endswith(upper):
        raw = raw[: -len(upper)]
    if raw.upper().startswith(upper):
        raw = raw[len(upper) :]
    if _THOUSANDS.match(raw):
        raw = raw.replace(",", "")
    elif not _PLAIN.match(raw):
        return None
    raw = raw.replace(",", ".")
    try:
        minor = Decimal(raw) * minor_per_major(currency)
    except InvalidOperation:
        return None
    if minor != minor.to_integral_value():
        return None
    return int(minor)


@dataclass(frozen=True, slots=True)
class PaymentValues:
    """A checked payment: ``amount_minor`` > 0, ``paid_on`` a date, ``method`` a PaymentMethod value, ``reference``
    stripped (possibly empty)."""

    amount_minor: int
    paid_on: date
    method: str
    reference: str


def check_payment(
    *,
    amount: str,
    paid_on: str,
    method: str,
    reference: str,
    currency: str,
    earliest: date,
    today: date,
) -> tuple[PaymentValues | None, list[tuple[str, str]]]:
    """``(values, [])`` for an acceptable payment, else ``(None, problems)`` with every problem at once as
    ``(field, message)`` pairs (fields ``amount``, ``paid_on``, ``method``, ``reference``).

    The amount is more than 0 and at most :data:`MAX_PAYMENT_MAJOR` in major units of ``currency``; the date
    (ISO ``2026-12-01``) lies between ``earliest`` (the day the panel was created) and ``today``, both included;
    the method is one of :class:`~delphi.domain.PaymentMethod`; the reference has at most :data:`MAX_REFERENCE`
    characters.
    """
    problems: list[tuple[str, str]] = []
    minor = parse_amount(amount, currency)
    limit = MAX_PAYMENT_MAJOR * minor_per_major(currency)
    if not (amount or "").strip():
        problems.append(("amount", "Enter the amount paid, like 15 or 15.00."))
    elif minor is None:
        problems.append(("amount", "Enter the amount as a number, like 15 or 15.00."))
    elif minor <= 0:
        problems.append(("amount", "The amount must be more than 0."))
    elif minor > limit:
        problems.append(("amount", f"The amount can be at most {MAX_PAYMENT_MAJOR:,} {currency}."))
    day: date | None = None
    if not (paid_on or "").strip():
        problems.append(("paid_on", "Enter the date it was paid, like 2026-12-01."))
    else:
        try:
            day = date.fromisoformat(paid_on.strip())
        except ValueError:
            problems.append(("paid_on", "Enter the date like 2026-12-01."))
    if day is not None and day > today:
        problems.append(("paid_on", "The date cannot be in the future."))
        day = None
    elif day is not None and day < earliest:
        problems.append(
            ("paid_on", f"The date cannot be before the panel was created ({earliest.isoformat()}).")
        )
        day = None
    if method not in {m.value for m in PaymentMethod}:
        problems.append(("method", "Choose how it was paid."))
    ref = (reference or "").strip()
    if len(ref) > MAX_REFERENCE:
        problems.append(
            ("reference", f"The reference can be at most {MAX_REFERENCE} characters; it has {len(ref)}.")
        )
    if problems or minor is None or day is None:
        return None, problems
    return PaymentValues(minor, day, method, ref), []


# -- pure: the sheet's arithmetic ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Person:
    """One panellist as the sheet needs them: ``email`` and ``name`` empty unless the reader sees contacts."""

    panellist_id: int
    pseudonym: str
    group: str
    language: str
    email: str
    name: str
    rounds_submitted: int


@dataclass(frozen=True, slots=True)
class SheetRow:
    """One panellist's line: amounts in minor units; ``owed`` and ``due`` None when the panel pays no
    honorarium; ``due`` < 0 when overpaid."""

    person: Person
    owed: int | None
    paid: int
    due: int | None

    @property
    def overpaid(self) -> bool:
        return self.due is not None and self.due < 0


@dataclass(frozen=True, slots=True)
class Totals:
    """Sums over the sheet's rows, minor units; ``owed`` and ``due`` None without an honorarium."""

    owed: int | None
    paid: int
    due: int | None
    panellists: int


def sheet_rows(
    people: Iterable[Person], paid: Mapping[int, int], honorarium_minor: int | None
) -> list[SheetRow]:
    """Each person's owed (rate × rounds submitted), paid (``paid[panellist_id]``, 0 when absent) and due
    (owed − paid), in the order given.  Without a rate (None) owed and due are None."""
    out = []
    for p in people:
        got = int(paid.get(p.panellist_id, 0))
        owed = None if honorarium_minor is None else honorarium_minor * p.rounds_submitted
        out.append(SheetRow(p, owed, got, None if owed is None else owed - got))
    return out


def sheet_totals(rows: Sequence[SheetRow], honorarium_minor: int | None) -> Totals:
    """The sums of :func:`sheet_rows`' columns (overpayments lower the total due)."""
    paid = sum(r.paid for r in rows)
    if honorarium_minor is None:
        return Totals(None, paid, None, len(rows))
    owed = sum(r.owed or 0 for r in rows)
    return Totals(owed, paid, owed - paid, len(rows))


# -- use cases ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sheet:
    """The honoraria sheet of a panel: ``rows`` by pseudonym, their ``totals``, the panel's ``currency`` and
    ``honorarium_minor`` (None: the panel pays no honorarium), and whether names and e-mails are in it."""

    rows: list[SheetRow]
    totals: Totals
    currency: str
    honorarium_minor: int | None
    with_contacts: bool


@dataclass(frozen=True, slots=True)
class PaymentLine:
    """A recorded payment as listed on the page (``recorded_by``: the account's e-mail, "" once deleted)."""

    id: int
    panellist_id: int
    pseudonym: str
    amount_minor: int
    paid_on: date
    method: str
    reference: str
    recorded_by: str

    @property
    def method_label(self) -> str:
        return METHOD_LABELS.get(self.method, self.method)


async def load_sheet(session: AsyncSession, panel: Panel, *, with_contacts: bool) -> Sheet:
    """The panel's sheet (three queries): every panellist by pseudonym, erased ones too (they may have been paid
    or be owed); e-mail and name only ``with_contacts`` (:func:`delphi.panels.access.can_see_contacts`)."""
    submitted = (
        select(Submission.panellist_id.label("pid"), func.count(Submission.id).label("n"))
        .join(Panellist, Panellist.id == Submission.panellist_id)
        .where(Panellist.panel_id == panel.id)
        .group_by(Submission.panellist_id)
        .subquery()
    )
    rows = await session.execute(
        select(
            Panellist.id,
            Panellist.pseudonym,
            StakeholderGroup.name,
            Panellist.language,
            Panellist.email,
            Panellist.name,
            submitted.c.n,
        )
        .join(StakeholderGroup, StakeholderGroup.id == Panellist.group_id)
        .outerjoin(submitted, submitted.c.pid == Panellist.id)
        .where(Panellist.panel_id == panel.id)
        .order_by(Panellist.pseudonym)
    )
    people = [
        Person(
            pid,
            pseudonym,
            group,
            language or "en",
            (email or "") if with_contacts else "",
            (name or "") if with_contacts else "",
            int(n or 0),
        )
        for pid, pseudonym, group, language, email, name, n in rows.all()
    ]
    sums = await session.execute(
        select(Payment.panellist_id, func.sum(Payment.amount_minor))
        .where(Payment.panel_id == panel.id)
        .group_by(Payment.panellist_id)
    )
    paid = {pid: int(total or 0) for pid, total in sums.all()}
    lines = sheet_rows(people, paid, panel.honorarium_minor)
    return Sheet(
        lines,
        sheet_totals(lines, panel.honorarium_minor),
        panel.currency,
        panel.honorarium_minor,
        with_contacts,
    )


async def payments_of(session: AsyncSession, panel_id: int) -> list[PaymentLine]:
    """Every payment recorded on the panel, newest date first (one query)."""
    rows = await session.execute(
        select(Payment, Panellist.pseudonym, Account.email)
        .join(Panellist, Panellist.id == Payment.panellist_id)
        .outerjoin(Account, Account.id == Payment.recorded_by_id)
        .where(Payment.panel_id == panel_id)
        .order_by(Payment.paid_on.desc(), Payment.id.desc())
    )
    return [
        PaymentLine(
            p.id, p.panellist_id, pseudonym, p.amount_minor, p.paid_on, p.method, p.reference, email or ""
        )
        for p, pseudonym, email in rows.all()
    ]


def _amount_text(minor: int, currency: str) -> str:
    return f"{major_amount(minor, currency)} {currency}"


async def record_payment(
    session: AsyncSession,
    panel: Panel,
    *,
    panellist_id: int | None,
    amount: str,
    paid_on: str,
    method: str,
    reference: str = "",
    actor: Actor,
    today: date | None = None,
) -> Payment:
    """Record a payment to a panellist of ``panel`` (the form's texts, checked by :func:`check_payment`).

    Raises InvalidInput listing every problem at once (an unknown panellist among them); nothing is written
    then.  ``today`` defaults to the current UTC date.  Audit: ``payment.recorded`` (pseudonym, amount, date,
    method; never the reference, which might name a person).
    """
    problems: list[tuple[str, str]] = []
    person = await session.get(Panellist, panellist_id) if panellist_id else None
    if person is None or person.panel_id != panel.id:
        problems.append(("panellist_id", "Choose the panellist who was paid."))
    values, more = check_payment(
        amount=amount,
        paid_on=paid_on,
        method=method,
        reference=reference,
        currency=panel.currency,
        earliest=panel.created_at.date(),
        today=today or utcnow().date(),
    )
    problems += more
    if problems or values is None or person is None:
        raise InvalidInput(
            f"The payment was not recorded: {len(problems)} thing(s) to fix.",
            field=problems[0][0],
            errors=problems,
        )
    payment = Payment(
        panel_id=panel.id,
        panellist_id=person.id,
        amount_minor=values.amount_minor,
        paid_on=values.paid_on,
        method=values.method,
        reference=values.reference,
        recorded_by_id=actor.account_id,
        created_at=utcnow(),
    )
    session.add(payment)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="payment.recorded",
        panel_id=panel.id,
        detail={
            "panellist": person.pseudonym,
            "amount": _amount_text(values.amount_minor, panel.currency),
            "paid_on": values.paid_on.isoformat(),
            "method": values.method,
            "payment_id": payment.id,
        },
    )
    return payment


async def delete_payment(session: AsyncSession, panel: Panel, payment_id: int, *, actor: Actor) -> None:
    """Delete a payment recorded by mistake; NotFound when it is no payment of ``panel``.  The audit event
    ``payment.deleted`` keeps what it was (pseudonym, amount, date, method)."""
    payment = await session.get(Payment, payment_id)
    if payment is None or payment.panel_id != panel.id:
        raise NotFound("There is no such payment on this panel.")
    person = await session.get(Panellist, payment.panellist_id)
    audit.record(
        session,
        actor=actor,
        action="payment.deleted",
        panel_id=panel.id,
        detail={
            "panellist": person.pseudonym if person else "",
            "amount": _amount_text(payment.amount_minor, panel.currency),
            "paid_on": payment.paid_on.isoformat(),
            "method": payment.method,
            "payment_id": payment.id,
        },
    )
    await session.delete(payment)
    await session.flush()
