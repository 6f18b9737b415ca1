"""A round's dates and its reminders: set the schedule, send the reminders that fell due, send one now.

Each function changes rows in the caller's session, enqueues mail through the outbox and writes an audit event;
none commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit
from delphi.db.models import Panel, Round, utcnow
from delphi.domain import SYSTEM, Actor, RoundStatus
from delphi.errors import Conflict, InvalidInput
from delphi.rounds import lifecycle, mailing
from delphi.rounds.recipients import invitable_panellists
from delphi.settings import Settings


async def set_schedule(
    session: AsyncSession,
    panel: Panel,
    round_: Round,
    *,
    opens_at: datetime | None,
    closes_at: datetime | None,
    reminder_hours: list[int],
    now: datetime | None = None,
    actor: Actor,
) -> None:
    """Set a round's opening and closing dates and reminder offsets (hours before closing).

    A draft round takes all three; an open round can move its closing date (to extend it) and its reminders.
    Raises InvalidInput listing every problem.  ``now`` (default: the current time, UTC) is what the dates
    are checked against.
    """
    now = now or utcnow()
    if round_.status == RoundStatus.CLOSED:
        raise Conflict(f"Round {round_.number} is closed; its dates can no longer change.")
    if round_.status == RoundStatus.OPEN:
        opens_at = None
    problems = lifecycle.schedule_problems(opens_at, closes_at, reminder_hours, now)
    if closes_at is None:
        problems.insert(0, ("closes_at", "Enter a closing date."))
    if problems:
        raise InvalidInput(problems[0][1], field=problems[0][0], errors=problems)
    if round_.status == RoundStatus.DRAFT:
        round_.opens_at = opens_at
    round_.closes_at = closes_at
    round_.reminder_offsets_hours = list(reminder_hours)
    round_.reminders_sent = [h for h in round_.reminders_sent or [] if h in reminder_hours]
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="round.scheduled",
        detail={
            "round": round_.number,
            "opens_at": opens_at.isoformat() if opens_at else None,
            "closes_at": closes_at.isoformat() if closes_at else None,
            "reminder_hours": reminder_hours,
        },
    )


async def send_due_reminders(
    session: AsyncSession,
    panel: Panel,
    round_: Round,
    *,
    now: datetime,
    settings: Settings,
    actor: Actor = SYSTEM,
) -> int:
    """Enqueue the reminder that is due (if any) to panellists who have not submitted; returns how many.

    Several offsets due at once (:func:`lifecycle.due_reminders`) make one reminder, tagged with the latest.
    """
    due = lifecycle.due_reminders(round_.closes_at, round_.reminder_offsets_hours, round_.reminders_sent, now)
    if not due:
        return 0
    round_.reminders_sent = sorted({*round_.reminders_sent, *due}, reverse=True)
    return await _remind(session, panel, round_, f"{min(due)}h", settings, actor)


async def send_reminder_now(
    session: AsyncSession,
    panel: Panel,
    round_: Round,
    *,
    now: datetime | None = None,
    settings: Settings,
    actor: Actor,
) -> int:
    """A facilitator's extra reminder to everyone who has not submitted yet (``now``, default the current time,
    tags it)."""
    now = now or utcnow()
    if round_.status != RoundStatus.OPEN:
        raise Conflict(f"Round {round_.number} is not open, so there is nobody to remind.")
    return await _remind(session, panel, round_, f"manual-{int(now.timestamp())}", settings, actor)


async def _remind(
    session: AsyncSession, panel: Panel, round_: Round, tag: str, settings: Settings, actor: Actor
) -> int:
    """Queue the reminder ``tag`` to the invitable panellists who have not submitted ``round_``; returns how many."""
    recipients = await invitable_panellists(session, panel.id, not_submitted_round_id=round_.id)
    queued = await mailing.reminder(session, panel, round_, recipients, tag)
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="round.reminded",
        detail={"round": round_.number, "reminder": tag, "recipients": queued},
    )
    return queued
