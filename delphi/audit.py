"""Append-only audit trail: one row per state change, written in the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import AuditEvent, utcnow
from delphi.domain import Actor


def record(
    session: AsyncSession,
    *,
    actor: str | Actor,
    action: str,
    panel_id: int | None = None,
    account_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to ``session`` (no flush, no commit: the caller's transaction decides).

    ``actor`` is an :class:`~delphi.domain.Actor` (its label and account are recorded) or a label such as
    "account:<email>", "panellist:<pseudonym>" or "system"; ``action`` a dotted verb such as
    ``round.opened``; ``detail`` a small JSON-able dict that never holds a panellist's e-mail or a token.
    """
    if isinstance(actor, Actor):
        actor, account_id = actor.label, account_id if account_id is not None else actor.account_id
    event = AuditEvent(
        panel_id=panel_id,
        account_id=account_id,
        actor=actor,
        action=action,
        detail=detail or {},
        created_at=utcnow(),
    )
    session.add(event)
    return event
