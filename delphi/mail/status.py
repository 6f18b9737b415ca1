"""Queries for the facilitator's view of a panel's mail, and putting dead letters back in the queue.

The rows returned carry pseudonyms *and* addresses: a page for researchers must drop ``to_address``
(researchers see pseudonyms only); that choice belongs to the page, which knows the viewer's role.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit
from delphi.db.models import OutboxMessage, Panellist, utcnow
from delphi.domain import SYSTEM, Actor, OutboxStatus

STATUSES = tuple(s.value for s in OutboxStatus)


@dataclass(frozen=True, slots=True)
class MailCounts:
    """Messages of one kind in one round (``round_id`` None: not tied to a round) by status."""

    round_id: int | None
    kind: str
    queued: int = 0
    sending: int = 0
    sent: int = 0
    dead: int = 0
    cancelled: int = 0

    @property
    def total(self) -> int:
        return self.queued + self.sending + self.sent + self.dead + self.cancelled


@dataclass(frozen=True, slots=True)
class MailRecord:
    """One message as the facilitator sees it (never its body: bodies hold no links, but need no showing)."""

    id: int
    kind: str
    round_id: int | None
    panellist_id: int | None
    pseudonym: str | None
    to_address: str
    subject: str
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str


async def counts(session: AsyncSession, panel_id: int) -> list[MailCounts]:
    """Counts per (round, kind) and status for a panel, ordered by round (None last) then kind."""
    rows = await session.execute(
        select(OutboxMessage.round_id, OutboxMessage.kind, OutboxMessage.status, func.count())
        .where(OutboxMessage.panel_id == panel_id)
        .group_by(OutboxMessage.round_id, OutboxMessage.kind, OutboxMessage.status)
    )
    table: dict[tuple[int | None, str], dict[str, int]] = {}
    for round_id, kind, status, n in rows:
        table.setdefault((round_id, kind), {})[status] = int(n)
    out = [
        MailCounts(round_id=r, kind=k, **{s: by.get(s, 0) for s in STATUSES}) for (r, k), by in table.items()
    ]
    out.sort(key=lambda c: (c.round_id is None, c.round_id or 0, c.kind))
    return out


def _records_query(panel_id: int):  # type: ignore[no-untyped-def]
    return (
        select(
            OutboxMessage.id,
            OutboxMessage.kind,
            OutboxMessage.round_id,
            OutboxMessage.panellist_id,
            Panellist.pseudonym,
            OutboxMessage.to_address,
            OutboxMessage.subject,
            OutboxMessage.status,
            OutboxMessage.attempts,
            OutboxMessage.created_at,
            OutboxMessage.next_attempt_at,
            OutboxMessage.sent_at,
            OutboxMessage.last_error,
        )
        .outerjoin(Panellist, Panellist.id == OutboxMessage.panellist_id)
        .where(OutboxMessage.panel_id == panel_id)
    )


def _record(row) -> MailRecord:  # type: ignore[no-untyped-def]
    return MailRecord(**row._mapping)


async def dead_letters(session: AsyncSession, panel_id: int, *, limit: int = 500) -> list[MailRecord]:
    """The panel's dead letters, newest first, with ``last_error`` saying why."""
    rows = await session.execute(
        _records_query(panel_id)
        .where(OutboxMessage.status == OutboxStatus.DEAD.value)
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    return [_record(r) for r in rows]


async def history(
    session: AsyncSession,
    panel_id: int,
    *,
    round_id: int | None = None,
    panellist_id: int | None = None,
    limit: int = 500,
    offset: int = 0,
) -> list[MailRecord]:
    """What was (or will be) sent to whom for a panel, newest first; optionally for one round or panellist."""
    query = _records_query(panel_id)
    if round_id is not None:
        query = query.where(OutboxMessage.round_id == round_id)
    if panellist_id is not None:
        query = query.where(OutboxMessage.panellist_id == panellist_id)
    rows = await session.execute(query.order_by(OutboxMessage.id.desc()).limit(limit).offset(offset))
    return [_record(r) for r in rows]


async def retry_dead(
    session: AsyncSession,
    panel_id: int,
    message_ids: Sequence[int] | None = None,
    *,
    actor: Actor = SYSTEM,
    now: datetime | None = None,
) -> int:
    """Put the panel's dead letters (all, or those in ``message_ids``) back in the queue, due now, with their
    attempts reset; writes an audit event ``mail.retried``.  In the caller's transaction; returns how many.

    Ids of other panels or of messages that are not dead are ignored.
    """
    now = now or utcnow()
    stmt = (
        update(OutboxMessage)
        .where(OutboxMessage.panel_id == panel_id, OutboxMessage.status == OutboxStatus.DEAD.value)
        .values(
            status=OutboxStatus.QUEUED.value,
            attempts=0,
            next_attempt_at=now,
            claimed_by=None,
            claimed_at=None,
        )
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    )
    if message_ids is not None:
        ids = sorted({int(i) for i in message_ids})
        if not ids:
            return 0
        stmt = stmt.where(OutboxMessage.id.in_(ids))
    retried = sorted((await session.scalars(stmt)).all())
    if retried:
        audit.record(
            session,
            actor=actor,
            action="mail.retried",
            panel_id=panel_id,
            detail={"count": len(retried), "message_ids": retried[:200]},
        )
    return len(retried)
