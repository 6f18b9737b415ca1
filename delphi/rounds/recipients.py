"""Who round mail goes to: the panellists of a panel who may be mailed.

:func:`invitable` is the one condition; :func:`count_invitable` counts it, :func:`reader_languages` counts it
per language (the open check's "at least one
panellist who can be invited") and :func:`invitable_panellists` lists it (reminders); :func:`invitable_addressees`
lists only what a mail needs of each (invitations, "round N is open", final results: 100,000 of them at national
scale, where full ORM objects would cost seconds and a hundred megabytes more).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Panellist, Submission
from delphi.domain import PanellistStatus

#: Panellist states that still receive round mail: all but withdrawn (which erasing data sets too) and bounced.
INVITABLE = (PanellistStatus.INVITED, PanellistStatus.ACTIVE, PanellistStatus.COMPLETED)


def invitable(panel_id: int, *, not_submitted_round_id: int | None = None) -> ColumnElement[bool]:
    """The condition on ``Panellist`` rows that keeps the panellists of panel ``panel_id`` who may be mailed.

    Invitable means: status invited, active or completed (:data:`INVITABLE`: neither withdrawn, which erasing
    the person's data sets too, nor bounced) and an e-mail address (None once the data were erased).  Consent is
    no condition: round 1's invitation goes to people who have not consented yet, and so do its reminders and
    the final results.  Per purpose:

    * opening a round (round 1's invitation, later rounds' "round N is open") and the open check's count:
      exactly these;
    * a reminder: these, less those who submitted round ``not_submitted_round_id`` (the open round);
    * the final results when the panel finishes: exactly these (taken before active panellists are marked
      completed, though completed ones are invitable too).
    """
    condition = (
        (Panellist.panel_id == panel_id) & Panellist.status.in_(INVITABLE) & Panellist.email.is_not(None)
    )
    if not_submitted_round_id is not None:
        submitted = select(Submission.panellist_id).where(Submission.round_id == not_submitted_round_id)
        condition = condition & Panellist.id.not_in(submitted)
    return condition


async def count_invitable(session: AsyncSession, panel_id: int) -> int:
    """How many panellists of panel ``panel_id`` may be mailed (:func:`invitable`); 0 when none."""
    n = await session.scalar(select(func.count()).select_from(Panellist).where(invitable(panel_id)))
    return int(n or 0)


async def reader_languages(session: AsyncSession, panel_id: int) -> dict[str, int]:
    """How many invitable panellists (:func:`invitable`) of panel ``panel_id`` read each language, keyed by
    ``Panellist.language`` as stored; for the open check's translation gaps
    (:func:`delphi.panels.translation_gaps.language_gaps`)."""
    rows = await session.execute(
        select(Panellist.language, func.count()).where(invitable(panel_id)).group_by(Panellist.language)
    )
    return {str(lang or "en"): int(n) for lang, n in rows.all()}


async def invitable_panellists(
    session: AsyncSession, panel_id: int, *, not_submitted_round_id: int | None = None
) -> list[Panellist]:
    """The panellists of panel ``panel_id`` who may be mailed (:func:`invitable`, with its
    ``not_submitted_round_id`` for a reminder), by id."""
    rows = await session.scalars(
        select(Panellist)
        .where(invitable(panel_id, not_submitted_round_id=not_submitted_round_id))
        .order_by(Panellist.id)
    )
    return list(rows.all())


@dataclass(frozen=True, slots=True)
class Addressee:
    """What round mail needs of a panellist (:mod:`delphi.rounds.mailing`, :mod:`delphi.mail.kinds`): the id (the
    dedupe key, the outbox row's panellist), the address, the name the mail greets ("" when none) and the
    language it is written in (``Panellist.language`` as stored)."""

    id: int
    email: str
    name: str
    language: str


async def invitable_addressees(
    session: AsyncSession, panel_id: int, *, not_submitted_round_id: int | None = None
) -> list[Addressee]:
    """:func:`invitable_panellists` as :class:`Addressee` rows, by id: the same people in the same order, four
    columns read and no ORM object built, so a mailing to a national panel holds tuples, not sessions' worth of
    panellists."""
    rows = await session.execute(
        select(Panellist.id, Panellist.email, Panellist.name, Panellist.language)
        .where(invitable(panel_id, not_submitted_round_id=not_submitted_round_id))
        .order_by(Panellist.id)
    )
    return [Addressee(pid, email or "", name or "", language) for pid, email, name, language in rows.all()]
