"""A round's dates and its reminders: set the schedule, send the reminders that fell due, send one now
(at most one manual reminder per :data:`~delphi.rounds.previews.REMINDER_INTERVAL` without a confirmation).

Each function changes rows in the caller's session, enqueues mail through the outbox and writes an audit event;
none commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit
from delphi.db.locks import begin_write
from delphi.db.models import Panel, Round, utcnow
from delphi.domain import SYSTEM, Actor, RoundStatus
from delphi.errors import Conflict, InvalidInput
from delphi.rounds import lifecycle, mailing, previews
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


class ReminderTooSoon(Conflict):
    """A manual reminder refused because the last one went less than
    :data:`~delphi.rounds.previews.REMINDER_INTERVAL` ago and the facilitator has not confirmed a second one
    (or confirmed one about an earlier reminder than the last); ``preview`` says when and to how many."""

    def __init__(self, preview: previews.ReminderPreview) -> None:
        super().__init__(
            f"A reminder for round {preview.round_number} went less than "
            f"{int(previews.REMINDER_INTERVAL.total_seconds() // 3600)} hours ago; confirm to send another."
        )
        self.preview = preview


@dataclass(frozen=True, slots=True)
class ReminderSent:
    """A manual reminder queued: ``queued`` mails, to ``not_started`` panellists who had saved nothing and
    ``started`` ones who had saved answers but not sent them."""

    queued: int
    not_started: int
    started: int


def reminder_stamp(at: datetime | None) -> str:
    """The last manual reminder's time as the confirmation form carries it: microseconds since the epoch, or
    ``""`` for none (pure)."""
    if at is None:
        return ""
    return str(_micros(at))


def _micros(at: datetime) -> int:
    return int(at.timestamp()) * 1_000_000 + at.microsecond


async def send_reminder_now(
    session: AsyncSession,
    panel: Panel,
    round_: Round,
    *,
    now: datetime | None = None,
    settings: Settings,
    actor: Actor,
    confirmed_after: str | None = None,
) -> ReminderSent:
    """A facilitator's extra reminder to everyone who has not submitted yet (``now``, default the current time,
    tags it and becomes ``round_.reminded_at``).

    Takes the round's lock first (:mod:`delphi.db.locks`, as :func:`~delphi.rounds.transitions.close_round`
    does) and re-reads the round under it, so two requests at once (a double click) send one reminder: the
    second sees the first's ``reminded_at``.  Within :data:`~delphi.rounds.previews.REMINDER_INTERVAL` of the
    last manual reminder it raises :class:`ReminderTooSoon` unless ``confirmed_after`` is that reminder's
    :func:`reminder_stamp` (the facilitator saw that one and confirmed another).  Raises Conflict when the round
    is not open.
    """
    now = now or utcnow()
    await begin_write(session)
    await session.refresh(round_, with_for_update=True)
    if round_.status != RoundStatus.OPEN:
        raise Conflict(f"Round {round_.number} is not open, so there is nobody to remind.")
    if previews.reminder_too_soon(round_.reminded_at, now) and confirmed_after != reminder_stamp(
        round_.reminded_at
    ):
        raise ReminderTooSoon(await previews.preview_reminder(session, panel, round_, now))
    preview = await previews.preview_reminder(session, panel, round_, now)
    round_.reminded_at = now
    queued = await _remind(
        session,
        panel,
        round_,
        f"manual-{_micros(now)}",
        settings,
        actor,
        {"not_started": preview.not_started, "started": preview.started},
    )
    return ReminderSent(queued=queued, not_started=preview.not_started, started=preview.started)


async def _remind(
    session: AsyncSession,
    panel: Panel,
    round_: Round,
    tag: str,
    settings: Settings,
    actor: Actor,
    counts: dict[str, int] | None = None,
) -> int:
    """Queue the reminder ``tag`` to the invitable panellists who have not submitted ``round_``; returns how many.

    ``counts`` (``not_started``, ``started``) go into the audit event's detail."""
    recipients = await invitable_panellists(session, panel.id, not_submitted_round_id=round_.id)
    queued = await mailing.reminder(session, panel, round_, recipients, tag)
    audit.record(
        session,
        actor=actor,
        panel_id=panel.id,
        action="round.reminded",
        detail={"round": round_.number, "reminder": tag, "recipients": queued, **(counts or {})},
    )
    return queued
