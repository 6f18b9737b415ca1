"""Write the results of sending: sent, retry later, dead, bounced (each in a short transaction of its own).

Temporary failures go back to ``queued`` with exponential backoff (:func:`retry_delay`) until
``settings.mail.max_attempts``, then ``dead``; a message refused as unsendable (``REJECTED``) is ``dead`` at
once; a claimed row given back untried (:data:`RELEASED`, or the server was down) is queued again without
counting an attempt.  A 5xx on the recipient (``BOUNCE``) makes the row ``dead``, the panellist ``bounced``,
writes an audit event and tells the facilitators; dead letters of a panel tell them once a day
(:mod:`delphi.mail.notices`).  Every update is guarded by ``status = 'sending'``, so a row another worker has
claimed again since (an expired lease) is left alone.

Nothing logged here holds a link, a token or a body: log lines name outbox ids and dedupe keys.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from delphi import audit
from delphi.db.models import OutboxMessage, Panellist
from delphi.domain import SYSTEM, OutboxStatus, PanellistStatus
from delphi.mail.claim import Ready
from delphi.mail.kinds import facilitator_notice
from delphi.mail.notices import notify_bounce, notify_dead
from delphi.mail.smtp import BOUNCE, REJECTED, Failure
from delphi.settings import Settings

log = logging.getLogger("delphi.mail")

#: First retry delay in seconds; doubled per attempt, capped by :data:`RETRY_CAP_S`, with ±20% jitter.
RETRY_BASE_S = 30.0
RETRY_CAP_S = 3600.0
#: Failure kind of a claimed row given back untried (the worker is stopping, or its batch ran out of time).
RELEASED = "released"

_T = OutboxMessage.__table__
_P = Panellist.__table__


def retry_delay(attempts: int, *, rng: Callable[[], float] = random.random) -> timedelta:
    """Wait before the next try after ``attempts`` failed tries.

    ``RETRY_BASE_S * 2**attempts`` seconds, at most :data:`RETRY_CAP_S`, times a jitter factor in [0.8, 1.2) so
    the retries of one batch spread out: 48-72 s after the first failure, then 96-144 s, ... up to about an hour.
    """
    seconds = min(RETRY_CAP_S, RETRY_BASE_S * 2 ** max(0, attempts))
    return timedelta(seconds=seconds * (0.8 + 0.4 * rng()))


@dataclass(slots=True)
class DeliveryReport:
    """Counts of one delivery run (messages)."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    deferred: int = 0
    dead: int = 0
    bounced: int = 0
    cancelled: int = 0
    batches: int = 0
    #: Set when the SMTP server could not be reached (the run stopped early).
    unreachable: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class Result:
    """What became of one claimed message: ``failure`` None when sent; ``attempted`` False when given back
    untried (no attempt is counted)."""

    item: Ready
    failure: Failure | None = None
    attempted: bool = True


@dataclass(slots=True)
class Ledger:
    """Where one delivery run writes its results, and the clock it writes them at."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Callable[[], datetime]
    report: DeliveryReport


def _retry_row(ledger: Ledger, r: Result, now: datetime) -> tuple[dict[str, Any], bool]:
    """The update of a failed (not bounced) message, and whether it is now dead; counts it in the report."""
    assert r.failure is not None
    attempts = r.item.attempts + (1 if r.attempted else 0)
    error = r.failure.describe() if r.attempted else f"Not attempted: {r.failure.describe()}"
    dead = r.failure.kind == REJECTED or attempts >= max(1, ledger.settings.mail.max_attempts)
    if dead:
        status, next_at = OutboxStatus.DEAD.value, now
        ledger.report.dead += 1
        log.warning(
            "mail %d (%s) dead after %d attempts: %s", r.item.id, r.item.dedupe_key, attempts, r.failure.kind
        )
    else:
        status = OutboxStatus.QUEUED.value
        next_at = now if r.failure.kind == RELEASED else now + retry_delay(attempts)
        if r.attempted:
            ledger.report.retried += 1
        else:
            ledger.report.deferred += 1
    row = {"b_id": r.item.id, "b_status": status, "b_attempts": attempts, "b_next": next_at, "b_error": error}
    return row, dead


async def mark(ledger: Ledger, results: list[Result]) -> None:
    """Write ``results`` in one short transaction (plus one per bounce, which has side effects)."""
    if not results:
        return
    now = ledger.clock()
    sent = [r.item.id for r in results if r.failure is None]
    retry: list[dict[str, Any]] = []
    dead_panels: set[int] = set()
    bounces: list[Result] = []
    for r in results:
        if r.failure is None:
            continue
        if r.failure.kind == BOUNCE:
            bounces.append(r)
            continue
        row, dead = _retry_row(ledger, r, now)
        retry.append(row)
        if dead and r.item.panel_id is not None and r.item.kind != facilitator_notice.name:
            dead_panels.add(r.item.panel_id)
    # Notices need a session (they render and queue mail); otherwise a bare connection is cheaper.
    if dead_panels:
        async with ledger.sessions() as session, session.begin():
            await _write_marks(session, sent, retry, now)
            for panel_id in sorted(dead_panels):
                await notify_dead(session, base_url=ledger.settings.base_url, panel_id=panel_id, now=now)
    else:
        async with ledger.engine.begin() as conn:
            await _write_marks(conn, sent, retry, now)
    ledger.report.sent += len(sent)
    for r in bounces:
        await _bounce(ledger, r, now)


async def _write_marks(
    conn: AsyncConnection | AsyncSession, sent: list[int], retry: list[dict[str, Any]], now: datetime
) -> None:
    if sent:
        await conn.execute(
            update(_T)
            .where(_T.c.id.in_(sent), _T.c.status == OutboxStatus.SENDING.value)
            .values(status=OutboxStatus.SENT.value, sent_at=now, attempts=_T.c.attempts + 1, last_error="")
        )
    if retry:
        await conn.execute(
            update(_T)
            .where(_T.c.id == bindparam("b_id"), _T.c.status == OutboxStatus.SENDING.value)
            .values(
                status=bindparam("b_status"),
                attempts=bindparam("b_attempts"),
                next_attempt_at=bindparam("b_next", type_=_T.c.next_attempt_at.type),
                last_error=bindparam("b_error"),
            ),
            retry,
        )


async def _bounce(ledger: Ledger, result: Result, now: datetime) -> None:
    """Dead-letter a message refused for good, mark its panellist bounced, audit, tell the facilitators."""
    item, failure = result.item, result.failure
    if failure is None:
        return
    async with ledger.sessions() as session, session.begin():
        done = await session.execute(
            update(_T)
            .where(_T.c.id == item.id, _T.c.status == OutboxStatus.SENDING.value)
            .values(
                status=OutboxStatus.DEAD.value,
                attempts=_T.c.attempts + 1,
                last_error=f"Refused for good: {failure.describe()}",
            )
        )
        if not done.rowcount:
            return
        if item.panellist_id is not None:
            await session.execute(
                update(_P)
                .where(_P.c.id == item.panellist_id, _P.c.status != PanellistStatus.WITHDRAWN.value)
                .values(status=PanellistStatus.BOUNCED.value, bounced_at=now)
            )
        audit.record(
            session,
            actor=SYSTEM,
            action="mail.bounced",
            panel_id=item.panel_id,
            detail={
                "message_id": item.id,
                "kind": item.kind,
                "pseudonym": item.pseudonym,
                "smtp_code": failure.code,
            },
        )
        if item.panel_id is not None and item.kind != facilitator_notice.name:
            await notify_bounce(
                session,
                base_url=ledger.settings.base_url,
                panel_id=item.panel_id,
                message_id=item.id,
                mail_kind=item.kind,
                pseudonym=item.pseudonym,
                reason=failure.describe(),
            )
    ledger.report.bounced += 1
    ledger.report.dead += 1
    log.warning("mail %d (%s) bounced: smtp %d", item.id, item.dedupe_key, failure.code)
