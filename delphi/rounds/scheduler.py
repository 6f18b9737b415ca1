"""``tick(session, now, settings)``: open rounds whose opening time came, send due reminders, close rounds whose
deadline passed.  Called by the worker every few seconds; safe to run in several workers at once (rounds are
claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite serialises writers).
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit
from delphi.db.dialect import is_postgres
from delphi.db.models import AuditEvent, Panel, Round
from delphi.domain import SYSTEM, RoundStatus
from delphi.errors import DelphiError
from delphi.rounds import lifecycle, schedule, transitions
from delphi.settings import Settings

log = logging.getLogger("delphi.scheduler")


async def _candidates(session: AsyncSession, now: datetime) -> list[int]:
    stmt = (
        select(Round.id)
        .where(
            or_(
                Round.status == RoundStatus.OPEN,
                (Round.status == RoundStatus.DRAFT) & Round.opens_at.is_not(None) & (Round.opens_at <= now),
            )
        )
        .order_by(Round.id)
    )
    return list((await session.scalars(stmt)).all())


async def tick(session: AsyncSession, now: datetime, settings: Settings) -> dict[str, int]:
    """Do what is due at ``now``; commits after each round so one failure does not undo the others.

    Returns counts: ``{"opened": n, "closed": n, "reminders": n}``.
    """
    counts = {"opened": 0, "closed": 0, "reminders": 0}
    for round_id in await _candidates(session, now):
        try:
            stmt = select(Round).where(Round.id == round_id)
            if is_postgres(session):
                stmt = stmt.with_for_update(skip_locked=True)
            round_ = await session.scalar(stmt)
            if round_ is None:
                await session.rollback()
                continue
            panel = await session.get(Panel, round_.panel_id)
            assert panel is not None
            if lifecycle.round_is_due_to_open(round_.status, round_.opens_at, now):
                try:
                    await transitions.open_round(
                        session, panel, round_, now=now, settings=settings, actor=SYSTEM
                    )
                    counts["opened"] += 1
                except DelphiError as exc:
                    round_.opens_at = None  # do not retry every tick; the facilitator sees why in the trail
                    audit.record(
                        session,
                        actor=SYSTEM,
                        panel_id=panel.id,
                        action="round.open_failed",
                        detail={
                            "round": round_.number,
                            "reason": exc.message,
                            "actions": getattr(exc, "actions", []),
                        },
                    )
            elif lifecycle.round_is_due_to_close(round_.status, round_.closes_at, now):
                panel_id, number = panel.id, round_.number
                try:
                    await transitions.close_round(
                        session, panel, round_, now=now, settings=settings, actor=SYSTEM
                    )
                    counts["closed"] += 1
                except Exception as exc:
                    await session.rollback()  # nothing of the failed close is kept; the round stays open
                    if not isinstance(exc, DelphiError):
                        log.exception("scheduler: closing round %s of panel %s failed", number, panel_id)
                    # a facilitator who closed it meanwhile is not a failure of the deadline close
                    status = await session.scalar(select(Round.status).where(Round.id == round_id))
                    if status == RoundStatus.OPEN:
                        await _record_close_failure(session, panel_id, number, exc)
            elif round_.status == RoundStatus.OPEN:
                counts["reminders"] += await schedule.send_due_reminders(
                    session, panel, round_, now=now, settings=settings
                )
            await session.commit()
        except Exception:
            await session.rollback()
            log.exception("scheduler: round %s failed this tick", round_id)
    return counts


async def _record_close_failure(session: AsyncSession, panel_id: int, number: int, exc: Exception) -> None:
    """Put why the deadline close failed, and what to do, in the panel's audit trail (the caller commits).

    Written once per distinct reason: the close is retried every tick, and an unchanged failure is not
    recorded again.  A refusal (DelphiError) gives its message and actions; anything else says it was logged.
    """
    if isinstance(exc, DelphiError):
        reason, actions = exc.message, list(getattr(exc, "actions", []))
    else:
        reason = (
            f"Round {number} could not close at its deadline because of an unexpected problem on the server."
        )
        actions = [
            "Close the round by hand from its page; if that fails too, ask your administrator to check the "
            "server log."
        ]
    detail = {"round": number, "reason": reason, "actions": actions}
    last = await session.scalar(
        select(AuditEvent.detail)
        .where(AuditEvent.panel_id == panel_id, AuditEvent.action == "round.close_failed")
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    if last != detail:
        audit.record(session, actor=SYSTEM, panel_id=panel_id, action="round.close_failed", detail=detail)
