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
caller's transaction, writing an audit event, never committing).  The sheet's rows carry names and e-mail
addresses; the page and the CSV show them only to those :func:`delphi.panels.access.can_see_contacts` allows.
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
from delphi.db.models import Panel, Panellist, Payment, StakeholderGroup, Submission, utcnow
from delphi.domain import Actor, PaymentMethod
from delphi.errors import InvalidInput, NotFound
from delphi.formatting import format_money, minor_per_major

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


class PaymentProblems(InvalidInput):
    """A payment that cannot be recorded: ``problems`` lists every one as ``(field, message)`` pairs (fields
    ``amount``, ``paid_on``, ``method``, ``reference``), in the form's order."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__(
            f"The payment was not recorded: {len(problems)} thing(s) to fix.",
            field=problems[0][0] if problems else None,
            errors=problems,
        )
        self.problems = problems


@dataclass(frozen=True, slots=True)
class PaymentValues:
    """A checked payment: ``amount_minor`` > 0, ``paid_on`` a date, ``method`` a PaymentMethod value, ``reference``
    stripped (possibly empty)."""

    amount_minor: int
    paid_on: date
    method: str
    reference: str


def check_payment(form: Mapping[str, str], currency: str, *, today: date, earliest: date) -> PaymentValues:
    """The payment of ``form`` (its ``amount``, ``paid_on``, ``method`` and ``reference`` texts), checked;
    raises :class:`PaymentProblems` with every problem at once.

    The amount is more than 0 and at most :data:`MAX_PAYMENT_MAJOR` in major units of ``currency``; the date
    (ISO ``2026-12-01``) lies between ``earliest`` (the day the panel was created) and ``today``, both included;
    the method is one of :class:`~delphi.domain.PaymentMethod`; the reference has at most :data:`MAX_REFERENCE`
    characters.
    """
    amount, paid_on = form.get("amount", "") or "", form.get("paid_on", "") or ""
    method, reference = form.get("method", "") or "", form.get("reference", "") or ""
    problems: list[tuple[str, str]] = []
    minor = parse_amount(amount, currency)
    limit = MAX_PAYMENT_MAJOR * minor_per_major(currency)
    if not amount.strip():
        problems.append(("amount", "Enter the amount paid, like 15 or 15.00."))
    elif minor is None:
        problems.append(("amount", "Enter the amount as a number, like 15 or 15.00."))
    elif minor <= 0:
        problems.append(("amount", "The amount must be more than 0."))
    elif minor > limit:
        problems.append(("amount", f"The amount can be at most {format_money(limit, currency)}."))
    day: date | None = None
    if not paid_on.strip():
        problems.append(("paid_on", "Enter the date it was paid, like 2026-12-01."))
    else:
        try:
            day = date.fromisoformat(paid_on.strip())
        except ValueError:
            problems.append(("paid_on", "Enter the date like 2026-12-01."))
    if day is not None and day > today:
        problems.append(("paid_on", "The date cannot be in the future."))
    elif day is not None and day < earliest:
        problems.append(
            ("paid_on", f"The date cannot be before the panel was created ({earliest.isoformat()}).")
        )
    if method not in {m.value for m in PaymentMethod}:
        problems.append(("method", "Choose how it was paid."))
    ref = reference.strip()
    if len(ref) > MAX_REFERENCE:
        problems.append(
            ("reference", f"The reference can be at most {MAX_REFERENCE} characters; it has {len(ref)}.")
        )
    if problems or minor is None or day is None:
        raise PaymentProblems(problems)
    return PaymentValues(minor, day, method, ref)


# -- pure: the sheet's arithmetic ---------------------------------------------------------------------------

#: One panellist as the sheet reads them: ``(panellist_id, pseudonym, group, email, name, language,
#: rounds_submitted)``; email None once erased.
PersonRow = tuple[int, str, str, str | None, str, str, int]


@dataclass(frozen=True, slots=True)
class SheetRow:
    """One panellist's line: amounts in minor units; ``owed`` and ``due`` None when the panel pays no
    honorarium; ``due`` < 0 when overpaid.  ``email`` and ``name`` are the panellist's: show them only to those
    :func:`delphi.panels.access.can_see_contacts` allows."""

    panellist_id: int
    pseudonym: str
    group: str
    email: str | None
    name: str
    language: str
    rounds: int
    owed: int | None
    paid: int
    due: int | None

    @property
    def overpaid(self) -> bool:
        return self.due is not None and self.due < 0


@dataclass(frozen=True, slots=True)
class Totals:
    """Sums over the sheet's rows (minor units; ``rounds``: submissions); ``owed`` and ``due`` None without an
    honorarium."""

    rounds: int
    owed: int | None
    paid: int
    due: int | None


def sheet_rows(
    people: Iterable[PersonRow], paid: Mapping[int, int], honorarium_minor: int | None
) -> list[SheetRow]:
    """Each person's owed (rate × rounds submitted), paid (``paid[panellist_id]``, 0 when absent) and due
    (owed − paid, negative when overpaid), in the order given.  Without a rate (None) owed and due are None."""
    out = []
    for pid, pseudonym, group, email, name, language, rounds in people:
        got = int(paid.get(pid, 0))
        n = int(rounds or 0)
        owed = None if honorarium_minor is None else honorarium_minor * n
        due = None if owed is None else owed - got
        out.append(SheetRow(pid, pseudonym, group, email, name or "", language or "en", n, owed, got, due))
    return out


def sheet_totals(rows: Sequence[SheetRow], honorarium_minor: int | None) -> Totals:
    """The sums of :func:`sheet_rows`' columns (an overpayment lowers the total due)."""
    rounds = sum(r.rounds for r in rows)
    paid = sum(r.paid for r in rows)
    if honorarium_minor is None:
        return Totals(rounds, None, paid, None)
    owed = sum(r.owed or 0 for r in rows)
    return Totals(rounds, owed, paid, owed - paid)


# -- use cases ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sheet:
    """The honoraria sheet of ``panel``: ``rows`` by pseudonym, their ``totals``, and ``payments`` per panellist
    id (newest date first)."""

    panel: Panel
    rows: list[SheetRow]
    totals: Totals
    payments: dict[int, list[Payment]]


async def load_sheet(session: AsyncSession, panel: Panel) -> Sheet:
    """The panel's sheet (three queries): every panellist by pseudonym, erased ones too (they may have been paid
    or still be owed), with every payment recorded.  Rows carry e-mail and name: the caller shows them only to
    those who see contacts."""
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
            Panellist.email,
            Panellist.name,
            Panellist.language,
            submitted.c.n,
        )
        .join(StakeholderGroup, StakeholderGroup.id == Panellist.group_id)
        .outerjoin(submitted, submitted.c.pid == Panellist.id)
        .where(Panellist.panel_id == panel.id)
        .order_by(Panellist.pseudonym)
    )
    people = [tuple(r) for r in rows.all()]
    payments: dict[int, list[Payment]] = {}
    found = await session.scalars(
        select(Payment)
        .where(Payment.panel_id == panel.id)
        .order_by(Payment.paid_on.desc(), Payment.id.desc())
    )
    for pay in found.all():
        payments.setdefault(pay.panellist_id, []).append(pay)
    paid = {pid: sum(p.amount_minor for p in pays) for pid, pays in payments.items()}
    lines = sheet_rows(people, paid, panel.honorarium_minor)  # type: ignore[arg-type]
    return Sheet(panel, lines, sheet_totals(lines, panel.honorarium_minor), payments)


def _detail(payment: Payment, pseudonym: str, currency: str) -> dict[str, object]:
    """What the audit trail keeps of a payment: never a name or an address."""
    return {
        "payment_id": payment.id,
        "panellist": pseudonym,
        "amount": format_money(payment.amount_minor, currency),
        "amount_minor": payment.amount_minor,
        "paid_on": payment.paid_on.isoformat(),
        "method": METHOD_LABELS.get(payment.method, payment.method).lower(),
        "reference": payment.reference,
    }


async def record_payment(
    session: AsyncSession,
    panel: Panel,
    panellist_id: int,
    form: Mapping[str, str],
    actor: Actor,
    *,
    today: date | None = None,
) -> Payment:
    """Record a payment to panellist ``panellist_id`` of ``panel`` from the form's texts (:func:`check_payment`;
    ``today`` defaults to the current UTC date, the earliest date is the day the panel was created).

    Raises :class:`PaymentProblems` listing every problem at once, or InvalidInput for a panellist who is not on
    the panel; nothing is written then.  Audit: ``payment.recorded``.
    """
    person = await session.get(Panellist, panellist_id)
    if person is None or person.panel_id != panel.id:
        raise InvalidInput("There is no such panellist on this panel.")
    values = check_payment(
        form, panel.currency, today=today or utcnow().date(), earliest=panel.created_at.date()
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
        detail=_detail(payment, person.pseudonym, panel.currency),
    )
    return payment


async def delete_payment(session: AsyncSession, panel: Panel, payment_id: int, actor: Actor) -> None:
    """Delete a payment recorded by mistake; NotFound when it is no payment of ``panel``.  The audit event
    ``payment.deleted`` keeps what it was (pseudonym, amount, date, method, reference)."""
    payment = await session.get(Payment, payment_id)
    if payment is None or payment.panel_id != panel.id:
        raise NotFound("There is no such payment on this panel.")
    person = await session.get(Panellist, payment.panellist_id)
    audit.record(
        session,
        actor=actor,
        action="payment.deleted",
        panel_id=panel.id,
        detail=_detail(payment, person.pseudonym if person else "", panel.currency),
    )
    await session.delete(payment)
    await session.flush()
