"""Agreeing to take part and leaving: recording consent, withdrawing.

The text a panellist agrees to is the panel's (its default: :mod:`delphi.panels.consent_text`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit
from delphi.db.models import Panellist, utcnow
from delphi.domain import PanellistStatus
from delphi.participation.links import actor_of

__all__ = ["record_consent", "withdraw"]


async def record_consent(session: AsyncSession, panellist: Panellist, now: datetime | None = None) -> None:
    """Record consent with its time (once; agreeing again keeps the first time) and audit it."""
    if panellist.consented_at is not None:
        return
    panellist.consented_at = now or utcnow()
    if panellist.status == PanellistStatus.INVITED:
        panellist.status = PanellistStatus.ACTIVE
    audit.record(
        session, actor=actor_of(panellist), action="panellist.consented", panel_id=panellist.panel_id
    )


async def withdraw(
    session: AsyncSession, panellist: Panellist, how: str = "page", now: datetime | None = None
) -> bool:
    """Withdraw a panellist from the panel; True if this call did it, False when they had left already.

    Sets status ``withdrawn`` and ``withdrawn_at`` and writes a ``panellist.withdrawn`` audit event (``how``:
    ``"page"`` or ``"one-click"``), which the facilitator sees.  Mail delivery cancels every message to a
    withdrawn panellist, so no further mail goes out.  Saved ratings are kept (erasure is the facilitator's).
    """
    if panellist.status == PanellistStatus.WITHDRAWN:
        return False
    panellist.status = PanellistStatus.WITHDRAWN
    panellist.withdrawn_at = now or utcnow()
    audit.record(
        session,
        actor=actor_of(panellist),
        action="panellist.withdrawn",
        panel_id=panellist.panel_id,
        detail={"panellist": panellist.pseudonym, "how": how},
    )
    return True
